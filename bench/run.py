#!/usr/bin/env python3
"""pynetns against `ip netns`, side by side in one run: start-up, scale, batch, /proc scans,
library use, memory, `inventory` and `which`, and the container verbs against the shell
recipes they replace. Prints a Markdown table of medians and ratios; exits 1 if a gate fails.

    .venv/bin/python bench/run.py [--quick] [--no-gate] [--runs N] [--only CASE] [--venv DIR]

Needs root. It re-executes itself under `unshare -m --propagation private` with a tmpfs on
/run/netns, so the thousands of namespaces it makes are never visible on the host and are gone
with it even if it is killed. The venv's installed `pynetns` is spawned directly (no shell, no
pyenv shim); its interpreter is read from the script's #! line so that `-c pass` is measured on
the very same binary. Children get a minimal environment (no PYTHON* variables).

Rows whose case names another command (`lsns -t net`, a shell loop, a container recipe) put
that command's time in the "ip" column. `inventory` and `which` run in a world of their own
(bench/world.py): new PID, mount and network namespaces, so the processes, veths and nsfs
mounts they count are only the ones made for them. The container rows need Docker or Podman
with the test image (scripts/engines.sh up) and are left out, saying so, without them.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import engines

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUN_DIR = "/run/netns"
INNER = "PYNETNS_BENCH_PRIVATE"
TIME = "/usr/bin/time"
WARMUP = 1

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "HOME": os.environ.get("HOME", "/root"), "LANG": os.environ.get("LANG", "C.UTF-8")}

FLOOR_PIDS = """
import os, sys
want = sys.argv[1]
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            if os.readlink(f"/proc/{pid}/ns/net") == want:
                print(pid)
        except OSError:
            pass
"""

_DEVNULL = [(os.POSIX_SPAWN_OPEN, fd, "/dev/null", os.O_RDWR, 0) for fd in (0, 1, 2)]


class Tools:
    def __init__(self, venv):
        self.pynetns = str(Path(venv) / "bin" / "pynetns")
        if not os.access(self.pynetns, os.X_OK):
            sys.exit(f"bench: no pynetns in {venv}/bin (run ./scripts/install {venv} first)")
        with open(self.pynetns, "rb") as f:
            shebang = f.readline()
        self.python = shebang[2:].decode().split()[0] if shebang.startswith(b"#!") else ""
        if not os.access(self.python, os.X_OK):
            sys.exit(f"bench: cannot tell the interpreter of {self.pynetns}")
        self.ip = shutil.which("ip", path=ENV["PATH"]) or "/usr/sbin/ip"
        self.sleep = shutil.which("sleep", path=ENV["PATH"])


def timed(argv, env=ENV):
    """Run argv with stdio on /dev/null; its wall time in seconds. A failure is fatal."""
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=_DEVNULL)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    if status:
        raise SystemExit(f"bench: {argv} failed with status {status:#x}")
    return elapsed


def peak_rss(argv, runs=3):
    """Peak RSS in KiB, the largest of a few runs under GNU time. Not from our own wait4: a
    child spawned by this (large) process inherits our high-water mark when it execs."""
    rss = 0
    with tempfile.NamedTemporaryFile("r") as f:
        for _ in range(runs):
            subprocess.run([TIME, "-f", "%M", "-o", f.name] + argv, env=ENV, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            f.seek(0)
            rss = max(rss, int(f.read().split()[-1]))
    return rss


def captured(argv):
    p = subprocess.run(argv, capture_output=True, env=ENV)
    return p.returncode, p.stdout, p.stderr


def same_result(a, b):
    """Both commands succeed with the same output: the race compares like with like."""
    ra, rb = captured(a), captured(b)
    if ra != rb or ra[0]:
        raise SystemExit(f"bench: results differ or fail:\n  {a}: {ra}\n  {b}: {rb}")


def race(runs, entrants):
    """Each entrant once per round, the order rotating every round; after a warm-up round,
    the median seconds of each label. An entrant is a callable returning [(label, seconds)]."""
    samples = {}
    for r in range(WARMUP + runs):
        k = r % len(entrants)
        for entrant in entrants[k:] + entrants[:k]:
            for label, seconds in entrant():
                if r >= WARMUP:
                    samples.setdefault(label, []).append(seconds)
    return {label: statistics.median(values) for label, values in samples.items()}


def command(label, argv):
    return lambda: [(label, timed(argv))]


def settled(entrant, limit):
    """The entrant after the CPUs went idle (for at most ``limit`` seconds): the kernel frees
    deleted namespaces in a workqueue, which would otherwise bill whatever runs next."""
    def run():
        settle(limit)
        return entrant()
    return run


def settle(limit):
    def busy_idle():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v) - v[3] - v[4], v[3] + v[4]
    deadline = time.monotonic() + limit  # on a busy host the CPUs never go idle
    while time.monotonic() < deadline:
        b0, i0 = busy_idle()
        time.sleep(0.1)
        b1, i1 = busy_idle()
        if b1 - b0 <= 0.05 * max(1, b1 - b0 + i1 - i0):
            return


def ms(seconds):
    return f"{seconds * 1e3:.2f} ms"


def mib(kib):
    return f"{kib / 1024:.1f}"


class Row:
    def __init__(self, case, py, ip=None, base=None, rss=(), target="", ok=None):
        self.case, self.py, self.ip, self.base = case, py, ip, base
        self.rss, self.target, self.ok = rss, target, ok

    def cells(self):
        py, ip, base = self.py, self.ip, self.base
        return [self.case, ms(py) if py else "", ms(ip) if ip else "",
                f"{py / ip:.2f}" if ip else "",
                ms(base) if base else "", f"{py / base:.2f}" if base else "",
                " / ".join(mib(k) for k in self.rss), self.target,
                {True: "yes", False: "**no**", None: ""}[self.ok]]


HEADER = ["case", "pynetns", "ip", "pynetns/ip", "python -c pass", "pynetns/pass",
          "peak RSS MiB pynetns / ip", "target", "met"]


class Bench:
    def __init__(self, tools, args):
        self.t = tools
        self.args = args
        self.rows = []
        self.made = []
        self.sleepers = []
        self.failures = []
        self.idle = 0.3 if args.quick else 3.0  # longest wait for idle CPUs between races
        self.tmp = Path(tempfile.mkdtemp(prefix="pynetns-bench-"))

    # -- fixtures ---------------------------------------------------------------------------
    def batch_file(self, name, lines):
        path = self.tmp / name
        path.write_text("".join(f"netns {line}\n" for line in lines))
        return str(path)

    def make(self, prefix, count):
        """count namespaces via `ip -batch`, every other one with an nsid."""
        names = [f"{prefix}{i}" for i in range(count)]
        lines = [f"add {n}" for n in names] + [f"set {n} auto" for n in names[::2]]
        subprocess.run([self.t.ip, "-batch", self.batch_file("make", lines)], check=True,
                       env=ENV)
        self.made += names
        return names

    def remove_all(self):
        if self.made:
            f = self.batch_file("remove", [f"delete {n}" for n in self.made])
            subprocess.run([self.t.ip, "-force", "-batch", f], env=ENV, stderr=subprocess.DEVNULL)
            self.made = []

    def spawn_sleepers(self, count, netns=None):
        argv = [self.t.sleep, "infinity"]
        if netns:
            argv = [self.t.ip, "netns", "exec", netns] + argv
        pids = [os.posix_spawn(argv[0], argv, ENV, file_actions=_DEVNULL) for _ in range(count)]
        self.sleepers += pids
        return pids

    def stop_sleepers(self):
        for pid in self.sleepers:
            os.kill(pid, signal.SIGKILL)
        for pid in self.sleepers:
            os.waitpid(pid, 0)
        self.sleepers = []

    # -- reporting --------------------------------------------------------------------------
    def row(self, case, py, ip=None, base=None, rss=(), target="", limit=None, against=None):
        ok = None if limit is None else py <= limit * against
        self.rows.append(Row(case, py, ip, base, rss, target, ok))
        print("  " + " | ".join(c for c in self.rows[-1].cells() if c), file=sys.stderr,
              flush=True)

    def table(self):
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(r.cells()) + " |" for r in self.rows]
        return "\n".join(lines)

    def rss_pair(self, args, ip_args=None):
        return (peak_rss([self.t.pynetns] + args),
                peak_rss([self.t.ip] + (ip_args or ["netns"] + args)))

    # -- cases ------------------------------------------------------------------------------
    def startup(self):
        t, runs = self.t, self.args.runs
        name = self.make("s", 3)[0]
        passing = command("pass", [t.python, "-c", "pass"])
        for case, args in (("list (3 namespaces)", ["list"]),
                           ("exec NAME true", ["exec", name, "true"]),
                           ("identify", ["identify"])):
            same_result([t.pynetns] + args, [t.ip, "netns"] + args)
            s = race(runs, [command("py", [t.pynetns] + args),
                            command("ip", [t.ip, "netns"] + args), passing])
            self.row(case, s["py"], s["ip"], s["pass"], self.rss_pair(args),
                     "≤ 1.3× -c pass", 1.3, s["pass"])

        def add_delete(label, prefix):
            return lambda: [(f"{label} add", timed(prefix + ["add", "x"])),
                            (f"{label} delete", timed(prefix + ["delete", "x"]))]
        s = race(runs, [add_delete("py", [t.pynetns]), add_delete("ip", [t.ip, "netns"]),
                        passing])
        rss = {"add": [0, 0], "delete": [0, 0]}
        for i, prefix in enumerate(([t.pynetns], [t.ip, "netns"])):
            for _ in range(3):
                for verb in rss:
                    rss[verb][i] = max(rss[verb][i], peak_rss(prefix + [verb, "x"], 1))
        for verb in rss:
            self.row(f"{verb} NAME", s[f"py {verb}"], s[f"ip {verb}"], s["pass"], rss[verb],
                     "≤ 1.3× -c pass", 1.3, s["pass"])
        self.remove_all()

    def batch(self):
        t, count = self.t, self.args.batch
        names = [f"b{i}" for i in range(count)]
        f = self.batch_file("batch", [f"add {n}" for n in names] + [f"delete {n}" for n in names])
        args = ["-batch", f]
        same_result([t.pynetns] + args, [t.ip] + args)
        s = race(self.args.slow_runs, [settled(command("py", [t.pynetns] + args), self.idle),
                                       settled(command("ip", [t.ip] + args), self.idle)])
        self.row(f"-batch: {count} add, then {count} delete", s["py"], s["ip"],
                 rss=self.rss_pair(args, args), target="≤ 1.1× ip", limit=1.1, against=s["ip"])

    def library(self):
        t, count = self.t, self.args.library
        code = ("import sys, pynetns\n"
                "for i in range(int(sys.argv[1])):\n"
                "    pynetns.add(f'l{i}')\n"
                "    pynetns.delete(f'l{i}')\n")
        lib = [t.python, "-c", code, str(count)]

        def spawn():
            start = time.perf_counter()
            for i in range(count):
                timed([t.ip, "netns", "add", f"l{i}"])
                timed([t.ip, "netns", "delete", f"l{i}"])
            return [("ip", time.perf_counter() - start)]
        s = race(self.args.slow_runs, [settled(command("py", lib), self.idle),
                                       settled(spawn, self.idle)])
        self.row(f"library add+delete ×{count}, per op (ip: a process per op)", s["py"] / count,
                 s["ip"] / count, rss=(peak_rss(lib, 1), peak_rss([t.ip, "netns", "list"])),
                 target="< 1.0× ip", limit=1.0, against=s["ip"])

    def procs(self):
        t, runs = self.t, self.args.runs
        names = self.make("p", self.args.procs_ns)
        target = names[len(names) // 2]
        self.spawn_sleepers(self.args.procs - 2)
        pid = self.spawn_sleepers(2, netns=target)[-1]
        deadline = time.monotonic() + 10  # until the exec'd sleepers have entered it
        while len(captured([t.ip, "netns", "pids", target])[1].split()) < 2:
            if time.monotonic() > deadline:
                raise SystemExit("bench: the sleepers did not enter their namespace")
            time.sleep(0.05)
        label = f"({len(names)} namespaces, {self.args.procs} processes)"
        # The least any Python `pids` can do: start, then one readlink per process.
        floor = [t.python, "-c", FLOOR_PIDS, os.readlink(f"/proc/{pid}/ns/net")]
        for case, args in ((f"identify PID {label}", ["identify", str(pid)]),
                           (f"pids NAME {label}", ["pids", target])):
            same_result([t.pynetns] + args, [t.ip, "netns"] + args)
            entrants = [command("py", [t.pynetns] + args), command("ip", [t.ip, "netns"] + args),
                        command("pass", [t.python, "-c", "pass"])]
            if args[0] == "pids":
                entrants.append(command("floor", floor))
            s = race(runs, entrants)
            self.row(case, s["py"], s["ip"], s["pass"], self.rss_pair(args), "≤ 1.0× ip",
                     1.0, s["ip"])
            if "floor" in s:
                self.row("↳ floor: `python -c` readlink of every /proc/PID/ns/net", s["floor"],
                         s["ip"], s["pass"])
        self.stop_sleepers()

    def listing(self, count, gate):
        t = self.t
        self.make(f"m{len(self.made)}-", count - len(self.made))
        same_result([t.pynetns, "list"], [t.ip, "netns", "list"])
        s = race(self.args.slow_runs, [command("py", [t.pynetns, "list"]),
                                       command("ip", [t.ip, "netns", "list"])])
        rss = self.rss_pair(["list"])
        self.row(f"list ({count} namespaces, half with nsid)", s["py"], s["ip"], rss=rss,
                 target="≤ 1.0× ip" if gate else "", limit=1.0 if gate else None,
                 against=s["ip"])
        return rss[0]

    def lists(self):
        self.listing(self.args.list_small, gate=False)
        self.memory(self.listing(self.args.list_big, gate=True), self.args.list_big)

    def memory(self, list_rss, count):
        base = peak_rss([self.t.python, "-c", "pass"])
        ratio = list_rss / base
        self.rows.append(Row(
            f"peak RSS of list ({count} namespaces) / of -c pass: {mib(list_rss)} / "
            f"{mib(base)} MiB = {ratio:.2f}", None, rss=(list_rss,), target="≤ 1.5× -c pass",
            ok=ratio <= 1.5))

    def completion(self):
        """bench/completion.py: its report is printed, its exit status counts as a gate."""
        env = dict(ENV, PYNETNS=self.t.pynetns)
        argv = [self.t.python, str(HERE / "completion.py")]
        argv += ["--quick"] if self.args.quick else []
        try:
            p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            self.failures.append("bench/completion.py took over 600 s")
            return
        print("\ncompletion (bench/completion.py):\n" + p.stdout + p.stderr)
        if p.returncode:
            self.failures.append(f"bench/completion.py exited {p.returncode}")

    def world(self):
        """bench/world.py in new PID, mount and network namespaces (one world per case);
        its rows join ours."""
        a = self.args
        for case, sizes in (("inventory", (a.world_ns, a.world_veths, a.world_procs)),
                            ("which", (a.world_veths, a.world_veths, 2 * a.world_veths))):
            argv = ["unshare", "-m", "-n", "-p", "-f", "--mount-proc", "--propagation",
                    "private", self.t.python, str(HERE / "world.py"), case,
                    str(Path(self.t.pynetns).parent.parent), str(a.runs), str(a.world_runs),
                    *map(str, sizes)]
            p = subprocess.run(argv, stdout=subprocess.PIPE, env=ENV, text=True, timeout=900)
            if p.returncode:
                self.failures.append(f"bench/world.py {case} exited {p.returncode}")
            for line in p.stdout.splitlines():
                self.row(**json.loads(line))

    def containers(self):
        """attach and exec --pid against the shell recipes they replace, for each engine
        that is up (bench/engines.py)."""
        for row in engines.rows(self.t, self.args):
            self.row(**row)

    def run(self):
        a = self.args
        try:
            for title, step in (("startup", self.startup), ("batch", self.batch),
                                ("library", self.library), ("procs", self.procs),
                                ("list", self.lists), ("world", self.world),
                                ("containers", self.containers),
                                ("completion", self.completion)):
                if not a.only or title in a.only:
                    print(f"{title} …", file=sys.stderr, flush=True)
                    step()
                    self.remove_all()
                    settle(self.idle)
        finally:
            self.stop_sleepers()
            self.remove_all()
            shutil.rmtree(self.tmp, ignore_errors=True)
        print(self.table())
        failed = [r.case for r in self.rows if r.ok is False]
        failed += self.failures
        print(f"\n{len(failed)} gate(s) failed" + (": " + "; ".join(failed) if failed else ""))
        return 1 if failed and not a.no_gate else 0


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small counts: a smoke test")
    p.add_argument("--no-gate", action="store_true", help="exit 0 even when a target is missed")
    p.add_argument("--runs", type=int, help="timed rounds per start-up case (default 21)")
    p.add_argument("--only", action="append", metavar="CASE",
                   choices=["startup", "batch", "library", "procs", "list", "world",
                            "containers", "completion"],
                   help="run only this group of cases (repeatable)")
    p.add_argument("--venv", default=str(ROOT / ".venv"), help="venv holding pynetns")
    a = p.parse_args(argv)
    counts = dict(runs=21, slow_runs=7, batch=1000, library=1000, procs_ns=1000, procs=2000,
                  list_small=1000, list_big=5000, world_runs=3, world_ns=1000,
                  world_veths=200, world_procs=2000, engine_runs=11, engine_many=50)
    if a.quick:
        counts = dict(runs=3, slow_runs=2, batch=50, library=50, procs_ns=50, procs=100,
                      list_small=100, list_big=300, world_runs=1, world_ns=100,
                  world_veths=20, world_procs=200, engine_runs=2, engine_many=3)
    for key, value in counts.items():
        if getattr(a, key, None) is None:
            setattr(a, key, value)
    return a


def ensure_gnu_time():
    if not os.access(TIME, os.X_OK):
        print("bench: installing GNU time (Debian package `time`) for peak RSS", file=sys.stderr)
        install = ["apt-get", "install", "-y", "-qq", "time"]
        if subprocess.run(install, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(install, stdout=subprocess.DEVNULL, check=True)


def main(argv):
    args = parse(argv)
    if os.geteuid() != 0:
        sys.exit("bench: must run as root (it makes network namespaces)")
    if os.environ.get(INNER) != "1":
        ensure_gnu_time()
        # A private mount namespace: our /run/netns tmpfs and every bind mount die with us.
        os.environ[INNER] = "1"
        # The engines' mount namespace, for bench/engines.py to make its containers in.
        host_mnt = os.open("/proc/self/ns/mnt", os.O_RDONLY)
        os.set_inheritable(host_mnt, True)
        os.environ[engines.HOST_MNT] = str(host_mnt)
        os.execvp("unshare", ["unshare", "-m", "--propagation", "private", sys.executable,
                              str(Path(__file__).resolve())] + argv)
    # Records of what attach makes go under /run/pynetns: ours die with us too.
    for directory in (RUN_DIR, "/run/pynetns"):
        os.makedirs(directory, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "pynetns-bench", directory], check=True)
    tools = Tools(args.venv)
    print(f"pynetns: {tools.pynetns}\ninterpreter: {tools.python}\nip: {tools.ip}",
          file=sys.stderr)
    return Bench(tools, args).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
