"""Records under /run/pynetns (issue 10 #2, #5, #8; issue 11 #4): a record goes with its
entry and never fits a later one; nothing under /run/pynetns is followed; a record that is
not what pynetns writes is ignored; a kill -9 leaves nothing prune does not clean; and a
symlink whose process is gone and whose PID was reused is never entered nor called healthy.
"""
import json

from conftest import PYNETNS

from stress.support import agent, changes, count, no_traceback

from .fsworld import PAUSED, attacked, world

# Two processes, each in a network namespace of its own; their PIDs in /run/a.pid, /run/b.pid.
TWO = """
mkdir -p /run/netns
for x in a b; do
    unshare -n sleep 1000 >/dev/null 2>&1 & echo $! > /run/$x.pid
    until [ "$(readlink /proc/$!/ns/net)" != "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
done
A=$(cat /run/a.pid); B=$(cat /run/b.pid)
"""

# What /run/pynetns holds: {path: kind} (kind: dir, file, symlink), and symlink entries.
LOOK = r"""
import json, os
found = {}
for top, dirs, files in os.walk("/run/pynetns"):
    for n in dirs + files:
        p = os.path.join(top, n)
        found[p] = "symlink" if os.path.islink(p) else "dir" if os.path.isdir(p) else "file"
links = sorted(n for n in os.listdir("/run/netns") if os.path.islink("/run/netns/" + n))
print(json.dumps({"records": found, "links": links}))
"""


def look(world):
    r = world.py(LOOK)
    assert r.rc == 0, r
    return json.loads(r.out)


def run(world, *args, **kw):
    r = world.run([PYNETNS, *args], timeout=10, **kw)
    assert not r.timed_out, (args, r)
    no_traceback(r)
    return r


def test_delete_removes_the_record_and_a_reused_inode_gets_none(world):
    """On ext4, which gives a new symlink the inode of the one just removed."""
    attacked("reused inode on ext4")
    assert world.sh("truncate -s 16M /run/img && mkfs.ext4 -q /run/img && mkdir -p /run/netns"
                    " && mount -o loop /run/img /run/netns").rc == 0
    assert world.sh(TWO + f"{PYNETNS} attach --symlink x $A").rc == 0
    assert [p for p, k in look(world)["records"].items() if p.endswith("/x")]
    assert run(world, "delete", "x").rc == 0
    assert [p for p in look(world)["records"] if p.endswith("/x")] == []
    # A record left behind by someone else's delete (ip's) fits no later entry either.
    assert world.sh(TWO + f"{PYNETNS} attach --symlink y $A; {PYNETNS} attach --symlink x $A"
                    "; ip netns delete y; rm /run/netns/x"
                    "; ln -s /proc/$B/ns/net /run/netns/x; ln -s /proc/$B/ns/net /run/netns/y"
                    ).rc == 0
    count("attack iterations")
    rows = {r["name"]: r for r in run(world, "-j", "-d", "list").json()}
    assert rows["x"]["stale"] is None and rows["y"]["stale"] is None, rows
    r = run(world, "prune")
    assert r.rc == 0 and r.out == b"", r
    assert look(world)["links"] == ["x", "y"]
    count("healthy removed", 2 - len(look(world)["links"]))


def _records_key(world):
    r = world.py("import os; st = os.stat('/run/netns'); print(f'{st.st_dev:x}-{st.st_ino}')")
    return r.out.decode().strip()


def test_a_planted_records_directory_is_never_followed(world):
    attacked("records directory planted as a symlink")
    assert world.sh(TWO + f"{PYNETNS} add good; touch -d '1 hour ago' /run/netns/p").rc == 0
    key = _records_key(world)
    assert world.sh(f"""mkdir -p /run/victim /run/pynetns/records
        mount -t tmpfs tmpfs /run/victim
        echo keep > /run/victim/good; echo keep > /run/victim/p; echo keep > /run/victim/tmp1
        touch -d '1 hour ago' /run/victim/*
        ln -s /run/victim /run/pynetns/records/{key}""").rc == 0
    paths = ["/run/victim", "/run/victim/good", "/run/victim/p", "/run/victim/tmp1"]
    before = agent(world, "snapshot", {"paths": paths})
    assert run(world, "prune").rc == 0
    r = world.sh(f"{PYNETNS} attach --symlink z $(cat /run/a.pid)")
    no_traceback(r)
    assert run(world, "-d", "list").rc == 0
    found = changes(before, agent(world, "snapshot", {"paths": paths}))
    count("escapes", len(found))
    assert found == []
    assert world.run(["ls", "/run/victim"]).out == b"good\np\ntmp1\n"


def test_records_that_are_not_ours_are_ignored(world):
    attacked("malformed records", 6)
    assert world.sh(TWO + "for n in l1 l2 l3 l4 l5 l6; do "
                    f"{PYNETNS} attach --symlink $n $A; done").rc == 0
    key = _records_key(world)
    bad = ['[1]', '"x"', 'null', '{"symlink": "yes", "dev": 1, "ino": 2}',
           '{"symlink": true, "dev": [], "ino": 2, "target": 3}', '{' * 100000]
    script = "".join(f"cat > /run/pynetns/records/{key}/l{i + 1} <<'END'\n{b}\nEND\n"
                     for i, b in enumerate(bad))
    assert world.sh(script + f"touch -d '1 hour ago' /run/pynetns/records/{key}/*").rc == 0
    for args in (["list"], ["-j", "-d", "list"], ["-d", "list"], ["exists", "l1"],
                 ["exec", "l2", "true"], ["prune"]):
        r = run(world, *args)
        assert r.rc == 0, (args, r)
    assert look(world)["links"] == ["l1", "l2", "l3", "l4", "l5", "l6"]


def test_kill_9_while_a_record_is_made_leaves_nothing_prune_keeps(world):
    """At the steps of attach --symlink (deterministic), then at random moments."""
    assert world.sh(TWO).rc == 0
    for i, step in enumerate(["record:written", "attach:recorded"]):
        attacked(f"kill -9 at {step}")
        r = world.sh(PAUSED + f'STEP={step}\nSWAP="kill -9 \\$p"\n'
                     f"paused {PYNETNS} attach --symlink k{i} $(cat /run/a.pid)")
        assert r.out.endswith(b"rc=137\n"), r
    r = world.py(r"""
import os, random, signal, subprocess, sys, time
a = open("/run/a.pid").read().strip()
for i in range(25):
    p = subprocess.Popen([sys.argv[1], "attach", "--symlink", f"r{i}", a])
    time.sleep(random.uniform(0.0, 0.06))
    p.send_signal(signal.SIGKILL)
    p.wait()
""", PYNETNS)
    assert r.rc == 0, r
    attacked("kill -9 at a random moment of attach --symlink", 25)
    count("attack processes", 27)
    world.run(["sleep", "2.1"])  # past the grace of an attach in progress
    assert run(world, "prune").rc == 0
    found = look(world)
    tmp = [p for p, k in found["records"].items() if k == "file"
           and p.startswith("/run/pynetns/records/") and p.count("/") == 4]
    assert tmp == [], tmp
    recorded = {p.rsplit("/", 1)[1] for p, k in found["records"].items() if p.count("/") == 5}
    # Every symlink entry left has its record, and every record its entry.
    assert recorded == set(found["links"]), found


def test_a_stale_symlink_is_never_entered(world):
    """Its process exits and the PID is reused by one in the world's own namespace."""
    attacked("PID of a --symlink entry reused")
    assert world.sh(TWO + f"{PYNETNS} attach --symlink x $A; kill $A; wait $A || true"
                    "; for i in $(seq 500); do echo $((A - 1)) > /proc/sys/kernel/ns_last_pid"
                    "; sleep 1000 >/dev/null 2>&1 & [ $! = $A ] && break; kill $!; done"
                    "; [ $(readlink /proc/$A/ns/net) = $(readlink /proc/self/ns/net) ]").rc == 0
    problem = b"is a symlink to /proc/"
    for args, rc in ((["exists", "x"], 2), (["exec", "x", "true"], 255), (["pids", "x"], 1),
                     (["set", "x", "5"], 1), (["add", "--exist-ok", "x"], 1)):
        r = run(world, *args)
        assert r.rc == rc and problem in r.err and b"whose process now holds" in r.err, (args, r)
    r = run(world, "list")
    assert b"x" not in r.out.split() and b'"x" ' + problem in r.err, r
    assert run(world, "-j", "list").json() == []
