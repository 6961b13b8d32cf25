"""Issue 10 #6 and #10: entries swapped while they are looked at. A FIFO (which blocks an
open for reading), a device or a plain file renamed over a symlink entry between pynetns's checks
never hangs a verb, never makes one hold the writers' lock forever, and never ends in a
traceback: everything is opened first (O_PATH) and judged by what the descriptor holds."""
import json

from conftest import PYNETNS

from stress.support import count

from .fsworld import attacked, world

# In the world: a swapper renames, over and over, a symlink to a live namespace, a
# symlink to a FIFO and a plain file over the entries "s" and "r", while every verb that
# opens an entry runs against them with a timeout.
ATTACK = r"""
import json, os, subprocess, sys, threading
pynetns, rounds = sys.argv[1], int(sys.argv[2])
os.makedirs("/run/netns", exist_ok=True)
os.mkfifo("/run/fifo")
target = subprocess.Popen(["unshare", "-n", "sleep", "1000"])
while os.readlink(f"/proc/{target.pid}/ns/net") == os.readlink("/proc/self/ns/net"):
    pass
live = f"/proc/{target.pid}/ns/net"
stop = False

def swap():
    i = 0
    while not stop:
        i += 1
        for name in ("s", "r"):
            tmp = f"/run/netns/.{name}{i}"
            if i % 3 == 2 and name == "r":
                open(tmp, "w").close()
            else:
                os.symlink(live if i % 3 == 0 else ("/run/fifo", "/dev/null")[i % 2], tmp)
            os.rename(tmp, f"/run/netns/{name}")

swapper = threading.Thread(target=swap)
swapper.start()
verbs = [["list"], ["-j", "list"], ["exec", "s", "true"], ["exists", "s"], ["pids", "s"],
         ["set", "s", "7"], ["add", "--exist-ok", "s"], ["prune"], ["-d", "list"],
         ["exists", "r"], ["pids", "r"]]
found = {"runs": 0, "hangs": 0, "tracebacks": 0, "opened": 0, "worst": ""}
for _ in range(rounds):
    for verb in verbs:
        found["runs"] += 1
        try:
            p = subprocess.run([pynetns, *verb], capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            found["hangs"] += 1
            found["worst"] = " ".join(verb) + " hung"
            continue
        # What opening /dev/null for the type check would say: a non-nsfs file was opened.
        if b"non-network namespace" in p.stderr:
            found["opened"] += 1
            found["worst"] = " ".join(verb) + " opened a device"
        if b"Traceback" in p.stderr:
            found["tracebacks"] += 1
            found["worst"] = p.stderr.decode(errors="replace")[-300:]
stop = True
swapper.join()
target.kill()
print(json.dumps(found))
"""


def test_swapped_entries_never_hang_nor_crash(world):
    r = world.py(ATTACK, PYNETNS, "12", timeout=170)
    assert r.rc == 0, r
    found = json.loads(r.out)
    attacked("entry swapped for a FIFO or a file while verbs run", found["runs"])
    count("attack processes", found["runs"])
    count("hangs", found["hangs"])
    count("tracebacks", found["tracebacks"])
    count("escapes", found["opened"])
    assert (found["hangs"], found["tracebacks"], found["opened"]) == (0, 0, 0), found
    # Nothing holds the writers' lock now: an add goes through at once.
    assert world.run([PYNETNS, "add", "after"], timeout=5).rc == 0


def test_a_fifo_or_device_entry_is_never_opened(world):
    """Entries that are FIFOs or devices themselves (no race needed)."""
    assert world.sh("mkdir -p /run/netns; mkfifo /run/netns/f; mknod /run/netns/d c 1 3"
                    "; ln -s /run/netns/f /run/netns/lf").rc == 0
    attacked("FIFO and device entries")
    for name, kind in (("f", "a FIFO"), ("d", "a device file"), ("lf", "a FIFO")):
        for verb, rc in ((["exists", name], 2), (["pids", name], 1),
                         (["exec", name, "true"], 255), (["add", "--exist-ok", name], 1)):
            r = world.run([PYNETNS, *verb], timeout=5)
            assert not r.timed_out and r.rc == rc, (verb, r)
            assert kind.encode() in r.err, (verb, r)
