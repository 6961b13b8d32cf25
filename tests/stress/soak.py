#!/usr/bin/env python3
"""A soak of pynetns and ip side by side under attack, in a private world (its own mount
and PID namespaces, a tmpfs on /run: nothing reaches the host's /run/netns).

    sudo .venv/bin/python tests/stress/soak.py [--seconds 600] [--workers 16]

Workers run random pynetns and ip verbs on a few shared names, kill -9 some of them at
random moments, and rename FIFOs, plain files and symlinks over entries. A few healthy
namespaces ("keepN") are only ever read. At the end it prints figures and exits 1 unless
there were 0 hangs, 0 tracebacks, 0 escapes (a victim directory reachable through planted
symlinks changed), 0 healthy entries removed, and nothing leaked once prune and delete have
cleaned up (entries, mounts, records, temporary files).
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYNETNS = shutil.which("pynetns", path=os.path.dirname(sys.executable)) or "pynetns"
IP = shutil.which("ip") or "/usr/sbin/ip"
NAMES = [f"s{i}" for i in range(6)]  # the swapper renames files over these
# ip is only given names nothing is swapped over: it opens FIFOs and follows symlinks (the
# reason pynetns exists), which would count against pynetns here.
IP_NAMES = [f"i{i}" for i in range(3)]
KEEP = [f"keep{i}" for i in range(3)]


def verbs(target_pid):
    name = random.choice(NAMES + IP_NAMES)
    ip_name = random.choice(IP_NAMES)
    return random.choice([
        [PYNETNS, "add", name], [PYNETNS, "add", "--exist-ok", name],
        [PYNETNS, "delete", name], [PYNETNS, "attach", name, target_pid],
        [PYNETNS, "attach", "--symlink", name, target_pid], [PYNETNS, "list"],
        [PYNETNS, "-j", "list"], [PYNETNS, "-d", "list"], [PYNETNS, "list-id"],
        [PYNETNS, "exists", name], [PYNETNS, "exec", name, "true"], [PYNETNS, "pids", name],
        [PYNETNS, "set", name, "auto"], [PYNETNS, "prune"], [PYNETNS, "identify"],
        [PYNETNS, "exists", random.choice(KEEP)],
        [IP, "netns", "add", ip_name], [IP, "netns", "delete", ip_name],
        [IP, "netns", "attach", ip_name, target_pid]])


class Soak:
    def __init__(self, seconds, workers):
        self.deadline = time.monotonic() + seconds
        self.workers = workers
        self.lock = threading.Lock()
        self.figures = {"operations": 0, "killed -9": 0, "swaps": 0, "hangs": 0,
                        "tracebacks": 0}
        self.worst = []

    def add(self, key, n=1, detail=None):
        with self.lock:
            self.figures[key] += n
            if detail and len(self.worst) < 5:
                self.worst.append(detail)

    def work(self, target_pid):
        while time.monotonic() < self.deadline:
            argv = verbs(target_pid)
            kill = argv[0] == PYNETNS and random.random() < 0.1
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            if kill:
                time.sleep(random.uniform(0, 0.05))
                p.kill()
                self.add("killed -9")
            try:
                _, err = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
                self.add("hangs", detail=" ".join(argv) + " hung")
            self.add("operations")
            if b"Traceback" in err:
                self.add("tracebacks", detail=err.decode(errors="replace")[-400:])

    def swap(self):
        things = ["/run/victim/fifo", "/run/victim/file", "/run/victim", "/proc/1/ns/net"]
        i = 0
        while time.monotonic() < self.deadline:
            i += 1
            tmp = f"/run/netns/.swap{i}"
            try:
                if i % 4 == 0:
                    os.mkfifo(tmp)
                elif i % 4 == 1:
                    open(tmp, "w").close()
                else:
                    os.symlink(random.choice(things), tmp)
                os.rename(tmp, f"/run/netns/{random.choice(NAMES)}")
                self.add("swaps")
            except OSError:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            time.sleep(0.002)


def snapshot():
    """The victim directory: names, kinds, sizes, and the mounts under it."""
    found = {}
    for n in sorted(os.listdir("/run/victim")):
        st = os.lstat(f"/run/victim/{n}")
        found[n] = [st.st_mode, st.st_size, st.st_ino]
    with open("/proc/self/mountinfo") as f:
        found["mounts"] = sorted(line.split()[4] for line in f if "/run/victim" in line)
    return found


def entry_mounts():
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith("/run/netns/")]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, **kw)


def inner(args):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run"], check=True)
    os.mkdir("/run/victim")
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/victim"], check=True)
    os.mkfifo("/run/victim/fifo")
    with open("/run/victim/file", "w") as f:
        f.write("victim\n")
    for n in KEEP:
        run([PYNETNS, "add", n], check=True)
    mounts_at_start = entry_mounts()
    target = subprocess.Popen(["unshare", "-n", "sleep", "100000"])
    time.sleep(0.2)
    before = snapshot()
    soak = Soak(args.seconds, args.workers)
    threads = [threading.Thread(target=soak.work, args=(str(target.pid),))
               for _ in range(args.workers)]
    threads.append(threading.Thread(target=soak.swap))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    target.kill()
    target.wait()
    time.sleep(2.1)  # past prune's grace for files of an add in progress
    healthy = [n for n in KEEP if run([PYNETNS, "exists", n]).returncode == 0]
    escapes = [k for k in before if before[k] != snapshot().get(k)]
    for name in NAMES + IP_NAMES:  # the soak's own names go; what is left after that is a leak
        run([PYNETNS, "delete", name], timeout=20)
    run([PYNETNS, "prune"], timeout=20)
    left = sorted(set(os.listdir("/run/netns")) - set(KEEP))
    mounts = entry_mounts()
    for point in mounts_at_start:  # the host's, hidden under our /run, and KEEP's
        if point in mounts:
            mounts.remove(point)
    leaked_mounts = len(mounts)
    records = []
    for top, _dirs, files in os.walk("/run/pynetns"):
        records += [os.path.join(top, f) for f in files]
    figures = dict(soak.figures, processes=soak.figures["operations"], workers=args.workers,
                   seconds=args.seconds, escapes=len(escapes),
                   **{"healthy removed": len(KEEP) - len(healthy), "leaked entries": len(left),
                      "leaked mounts": leaked_mounts, "leftover records": len(records)})
    print(json.dumps({"figures": figures, "left": left, "records": records, "mounts": mounts,
                      "escaped": escapes, "worst": soak.worst}, indent=1))
    bad = ("hangs", "tracebacks", "escapes", "healthy removed", "leaked entries",
           "leaked mounts", "leftover records")
    return 1 if any(figures[k] for k in bad) else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    if os.environ.get("PYNETNS_SOAK_WORLD") == "1":
        return inner(args)
    env = dict(os.environ, PYNETNS_SOAK_WORLD="1")
    return subprocess.run(["unshare", "-m", "-p", "-f", "--mount-proc", "--propagation",
                           "private", sys.executable, os.path.abspath(__file__),
                           "--seconds", str(args.seconds), "--workers", str(args.workers)],
                          env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
