"""Programs the stress tests run inside a World (world.py). Each prints one JSON object.

    agents.py state                   what /run/netns holds, judged without pynetns
    agents.py race CONFIG             workers running CLI operations on overlapping names
    agents.py setup-race CONFIG       first-time set-up of /run/netns racing with itself
    agents.py crash CONFIG            stop pynetns at a step (PYNETNS_TEST_PAUSE), then
                                      kill -9 it, or let the attach target exit and go on
    agents.py snapshot CONFIG         stat, content digests and mounts, to compare later

The state is judged independently of pynetns (stat, the NS_GET_NSTYPE ioctl, mountinfo),
so a pynetns bug cannot hide itself.
"""
import base64
import fcntl
import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import threading
import time

RUN_DIR = b"/run/netns"
CLONE_NEWNET = 0x40000000
NS_GET_NSTYPE = 0xB703


def b64(data):
    return base64.b64encode(data).decode()


def _unescape(field):
    # mountinfo writes space, tab, newline and backslash as \ooo
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field)


def mounts():
    rows = []
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            parts = line.split()
            sep = parts.index(b"-")
            rows.append({"id": int(parts[0]), "parent": int(parts[1]), "dev": parts[2],
                         "root": _unescape(parts[3]), "point": _unescape(parts[4]),
                         "fstype": parts[sep + 1]})
    return rows


def world_mounts():
    """Mounts on the world's own /run tmpfs (the last one mounted there) and below it;
    the host's mounts hidden under it are left out."""
    rows = mounts()
    inside = {[r for r in rows if r["point"] == b"/run"][-1]["id"]}
    grown = True
    while grown:
        grown = False
        for r in rows:
            if r["parent"] in inside and r["id"] not in inside:
                inside.add(r["id"])
                grown = True
    return [r for r in rows if r["id"] in inside and r["point"] != b"/run"]


def kind_of(path):
    """'net' for a network namespace, else what the file is."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return "symlink"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if not stat.S_ISREG(st.st_mode):
        return "special"
    if st.st_dev != os.stat("/proc/self/ns/net").st_dev:
        return "placeholder" if st.st_size == 0 else "file"
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return "net" if fcntl.ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET else "other-ns"
    finally:
        os.close(fd)


def state():
    try:
        st = os.lstat(RUN_DIR)
        run_dir = ("symlink" if stat.S_ISLNK(st.st_mode) else
                   "dir" if stat.S_ISDIR(st.st_mode) else "other")
    except FileNotFoundError:
        run_dir = "absent"
    entries = {}
    if run_dir == "dir":
        for name in os.listdir(RUN_DIR):
            path = RUN_DIR + b"/" + name
            try:
                ino = os.stat(path).st_ino
            except OSError:
                ino = 0
            entries[b64(name)] = {"kind": kind_of(path), "ino": ino}
    dir_mounts = 0
    entry_mounts = {}
    for r in world_mounts():
        if r["point"] == RUN_DIR:
            dir_mounts += 1
        elif r["point"].startswith(RUN_DIR + b"/"):
            key = b64(r["point"][len(RUN_DIR) + 1:])
            entry_mounts[key] = entry_mounts.get(key, 0) + 1
    return {"run_dir": run_dir, "entries": entries, "dir_mounts": dir_mounts,
            "entry_mounts": entry_mounts}


def start_target():
    """A sleeping child in its own network namespace: what `attach` names."""
    p = subprocess.Popen(["unshare", "-n", "sleep", "1000"])
    while True:  # unshare execs sleep once the namespace exists
        try:
            with open(f"/proc/{p.pid}/comm") as f:
                if f.read().strip() == "sleep":
                    return p
        except FileNotFoundError:
            pass
        time.sleep(0.002)


def race(cfg):
    """Workers run their planned operations at once; every outcome is recorded."""
    target = start_target()
    rng = random.Random(cfg["seed"])
    ops = [op for op, weight in cfg["ops"].items() for _ in range(weight)]
    plans = [[(rng.choice(ops), rng.choice(cfg["names"])) for _ in range(cfg["rounds"])]
             for _ in range(cfg["workers"])]
    tool = cfg["pynetns"]
    argv_of = {
        "add": lambda n: [tool, "add", n],
        "attach": lambda n: [tool, "attach", n, str(target.pid)],
        "delete": lambda n: [tool, "delete", n],
        "exec": lambda n: [tool, "exec", n, "true"],
        "exists": lambda n: [tool, "exists", n],
        "list": lambda n: [tool, "list"],
        "exist-ok": lambda n: [tool, "add", "--exist-ok", n],
        "ip-add": lambda n: [cfg["ip"], "netns", "add", n],
        "ip-delete": lambda n: [cfg["ip"], "netns", "delete", n],
    }
    results = []
    start = threading.Barrier(len(plans))

    def work(w):
        start.wait()
        for op, name in plans[w]:
            if cfg.get("own_names"):
                name = f"{name}-{w}"
            p = subprocess.run(argv_of[op](name), capture_output=True, timeout=120)
            results.append([w, op, name, p.returncode, b64(p.stdout), b64(p.stderr),
                            time.monotonic()])

    threads = [threading.Thread(target=work, args=(w,)) for w in range(len(plans))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    target.kill()
    target.wait()
    return {"results": results, "elapsed": elapsed, "state": state()}


def setup_race(cfg):
    """Rounds of first-time set-up: a fresh /run (so no /run/netns), racers released at once.

    pynetns racers are forked library callers (no interpreter start-up between the release
    and the race); ip racers, with cfg["ip"], are released from the same pipe.
    """
    import pynetns
    from pynetns import _sys
    _sys._lib()  # load ctypes before forking, so every racer starts the race at once
    rounds = []
    for _r in range(cfg["rounds"]):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run"],
                       check=True)
        gate_r, gate_w = os.pipe()
        racers = []
        for i in range(cfg["racers"]):
            name = f"setup{i}"
            if cfg.get("ip") and i % 2:
                racers.append(("ip", subprocess.Popen(
                    ["sh", "-c", 'read _; exec "$0" netns add "$1"', cfg["ip"], name],
                    stdin=gate_r, stderr=subprocess.PIPE)))
                continue
            pid = os.fork()
            if pid == 0:
                os.close(gate_w)
                os.read(gate_r, 1)
                try:
                    pynetns.add(name)
                except pynetns.NetnsError as e:
                    os.write(2, f"{e}\n".encode())
                    os._exit(1)
                os._exit(0)
            racers.append(("lib", pid))
        os.close(gate_r)
        time.sleep(0.05)  # every racer is waiting on the gate
        os.close(gate_w)
        rcs = []
        for kind, racer in racers:
            if kind == "ip":
                racer.wait()
                rcs.append(racer.returncode)
            else:
                rcs.append(os.waitstatus_to_exitcode(os.waitpid(racer, 0)[1]))
        rounds.append({"rcs": rcs, "state": state()})
    return {"rounds": rounds}


def _proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def crash(cfg):
    """Run argv with PYNETNS_TEST_PAUSE=step; once it has stopped there, kill -9 it
    ("kill"), or kill the attach target and let it go on ("target-exits")."""
    target = start_target() if cfg.get("target") else None
    target_ino = os.stat(f"/proc/{target.pid}/ns/net").st_ino if target else 0
    argv = [str(target.pid) if a == "{target}" else a for a in cfg["argv"]]
    env = dict(os.environ, PYNETNS_TEST_PAUSE=cfg["step"])
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    stopped = False
    while time.monotonic() < deadline and p.poll() is None:
        if _proc_state(p.pid) == "T":
            stopped = True
            break
        time.sleep(0.002)
    if stopped and cfg["then"] == "kill":
        p.kill()
    elif stopped and cfg["then"] == "target-exits":
        target.kill()
        target.wait()
        os.kill(p.pid, signal.SIGCONT)
    out, err = p.communicate(timeout=30)
    if target and target.poll() is None:
        target.kill()
        target.wait()
    return {"stopped": stopped, "rc": p.returncode, "out": b64(out), "err": b64(err),
            "target_ino": target_ino, "state": state()}


def snapshot(cfg):
    """What must not change: lstat and stat of each path (atime aside), a digest of each
    regular file (read only), and the mounts on /run and on those paths."""
    import hashlib
    files = {}
    for path in cfg["paths"]:
        row = []
        for look in (os.lstat, os.stat):
            try:
                st = look(path)
            except OSError as e:
                row.append(e.errno)
                continue
            if st.st_dev == os.stat("/proc/self/ns/net").st_dev:
                row.append([st.st_dev, st.st_ino, st.st_mode])  # nsfs makes up the times
                continue
            row.append([st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_size,
                        st.st_mtime_ns, st.st_ctime_ns])
            if look is os.stat and stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    row.append(hashlib.sha256(f.read()).hexdigest())
        files[path] = row
    # Only the world's mounts and those on the paths given: the host's own may go at any
    # time (an unlink there detaches the copies here too).
    ours = {r["id"] for r in world_mounts()}
    watched = {os.fsencode(p) for p in cfg["paths"]}
    table = [[r["id"], b64(r["point"]), r["fstype"].decode(), b64(r["root"])]
             for r in mounts() if r["id"] in ours or r["point"] in watched]
    return {"files": files, "mounts": table}


if __name__ == "__main__":
    verb = sys.argv[1]
    config = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    result = {"state": lambda c: state(), "race": race, "setup-race": setup_race,
              "crash": crash, "snapshot": snapshot}[verb](config)
    sys.stdout.write(json.dumps(result))
