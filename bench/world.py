#!/usr/bin/env python3
"""`inventory` and `which` at scale, each beside what it replaces, in a world of their own.

bench/run.py starts this under `unshare -m -n -p -f --mount-proc --propagation private`: in
new mount, network and PID namespaces, where the network namespace plays the host. The
copies of the machine's nsfs mounts are dropped, a tmpfs on /run hides the engines' sockets
(and a /dev/null over `podman` its CLI), so the only namespaces, processes and owners are
the ones made here: NAMESPACES namespaces (every other one with an nsid), VETHS of them
joined to the "host" by a veth pair with an address inside ("containers"), PROCS processes
(one in each veth namespace, a few through `ip netns exec` and so in mount namespaces of
their own, the rest here). Prints the rows of CASE (inventory: against lsns and the shell
loop; which: a host veth, against `python -c pass`) as JSON lines for run.py's table.

    python bench/world.py CASE VENV RUNS SLOW_RUNS NAMESPACES VETHS PROCS
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # the race, the timer and the tools of the main bench

ENV = run.ENV
LOOP = ('for n in $(ip netns list | cut -d" " -f1); do ip -n "$n" -br addr; done; '
        "lsns -t net")
EXEC_SLEEPERS = 10  # processes in mount namespaces of their own (`ip netns exec`)


def sh(*argv, stdin=None):
    subprocess.run(argv, input=stdin, check=True, env=ENV, stdout=subprocess.DEVNULL)


def isolate():
    """Only this world's namespaces and no engine: see the module's docstring."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f if " - nsfs " in line]
    for point in reversed(points):  # a mount may sit on another: the last first
        subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL)
    sh("mount", "-t", "tmpfs", "pynetns-bench-world", "/run")
    os.mkdir("/run/netns")
    for directory in ENV["PATH"].split(":"):
        podman = os.path.join(directory, "podman")
        if os.path.isfile(podman) and not os.path.islink(podman):
            sh("mount", "--bind", "/dev/null", podman)


def build(t, count, veths, procs):
    names = [f"i{i}" for i in range(count)]
    lines = [f"netns add {n}" for n in names] + [f"netns set {n} auto" for n in names[::2]]
    lines += [f"link add h{i} type veth peer name eth0 netns i{i}" for i in range(veths)]
    lines += [f"link set h{i} up" for i in range(veths)]
    sh(t.ip, "-batch", "-", stdin="\n".join(lines).encode())
    for i in range(veths):
        sh(t.ip, "-n", f"i{i}", "-batch", "-", stdin=(
            f"addr add 10.{100 + i // 250}.{i % 250}.2/16 dev eth0\n"
            "link set eth0 up\nlink set lo up\n").encode())
    spawned = []
    nsenter = shutil.which("nsenter", path=ENV["PATH"])
    for i in range(min(veths, procs)):
        argv = [nsenter, f"--net=/run/netns/i{i}", t.sleep, "infinity"]
        spawned.append(os.posix_spawn(argv[0], argv, ENV, file_actions=run._DEVNULL))
    for i in range(min(EXEC_SLEEPERS, procs - len(spawned))):
        argv = [t.ip, "netns", "exec", names[-1 - i], t.sleep, "infinity"]
        spawned.append(os.posix_spawn(argv[0], argv, ENV, file_actions=run._DEVNULL))
    argv = [t.sleep, "infinity"]
    spawned += [os.posix_spawn(argv[0], argv, ENV, file_actions=run._DEVNULL)
                for _ in range(procs - len(spawned))]
    deadline = time.monotonic() + 30  # until nsenter and ip have exec'd their sleep
    while any(_comm(p) != "sleep" for p in spawned):
        if time.monotonic() > deadline:
            raise SystemExit("bench: the sleepers did not start")
        time.sleep(0.05)
    return names


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def checked(argv, want):
    """argv succeeds and prints at least ``want`` lines: the race times real answers."""
    rc, out, err = run.captured(argv)
    if rc or len(out.splitlines()) < want:
        raise SystemExit(f"bench: {argv} gave {rc}, {len(out.splitlines())} lines: {err}")


def main(argv):
    case, venv, (runs, slow_runs, count, veths, procs) = argv[0], argv[1], map(int, argv[2:])
    t = run.Tools(venv)
    isolate()
    build(t, count, veths, procs)
    label = f"({count} namespaces, {procs} processes)"
    rows = []
    if case == "inventory":
        lsns = [shutil.which("lsns", path=ENV["PATH"]), "-t", "net"]
        loop = [shutil.which("bash", path=ENV["PATH"]), "-c", LOOP]
        inventory = [t.pynetns, "inventory"]
        checked(inventory, count + 2)
        checked(lsns, 2)
        # Also without INTERFACES: what is left once no namespace is entered and dumped.
        plain = [t.pynetns, "inventory", "-o", "NS,NSID,NAMES,NPROCS,PID,COMMAND,OWNER"]
        s = run.race(runs, [run.command("py", inventory), run.command("lsns", lsns),
                            run.command("plain", plain)])
        rows.append(dict(case=f"inventory vs `lsns -t net` {label}", py=s["py"],
                         ip=s["lsns"], target="≤ 1.0× lsns", limit=1.0, against=s["lsns"]))
        rows.append(dict(case="↳ inventory -o NS,NSID,NAMES,NPROCS,PID,COMMAND,OWNER (no "
                              "dumps) vs `lsns -t net`", py=s["plain"], ip=s["lsns"]))
        s = run.race(slow_runs, [run.command("py", inventory), run.command("loop", loop)])
        rows.append(dict(case=f"inventory vs `for n in $(ip netns list)...; ip -n $n -br "
                              f"addr` + lsns {label}", py=s["py"], ip=s["loop"],
                         target="≤ 0.1× the loop", limit=0.1, against=s["loop"]))
    else:
        which = [t.pynetns, "which", f"h{veths // 2}"]
        checked(which, 3)
        s = run.race(runs, [run.command("py", which),
                            run.command("pass", [t.python, "-c", "pass"])])
        rows.append(dict(case=f"which HOST-VETH ({veths} containers: veth'd namespaces, "
                              f"{procs} processes)", py=s["py"], base=s["pass"],
                         target="≤ 2× -c pass", limit=2.0, against=s["pass"]))
    for row in rows:
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
