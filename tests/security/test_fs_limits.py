"""Issue 10 #1, #3, #7, #9, #12: what the caller's limits and privileges do to pynetns.
No permission to look is "cannot tell", never "broken"; a busy delete keeps its mount
through ^C and EMFILE; a fork does not take the writers' lock along; `list` works with
more namespaces than descriptors; and the smaller cases leave nothing half-made."""
import json
import sys

import pytest

from conftest import IP, PYNETNS

from stress.support import assert_clean, count, no_traceback, state

from .fsworld import PAUSED, attacked, world


def run(world, argv, **kw):
    r = world.run(argv, timeout=kw.pop("timeout", 20), **kw)
    assert not r.timed_out, (argv, r)
    no_traceback(r)
    return r


def test_no_ptrace_capability_is_cannot_tell_not_broken(world):
    """Root without CAP_SYS_PTRACE cannot follow /proc/PID/ns/net of another user's
    process: prune leaves the entry, list says it cannot check it."""
    attacked("prune without CAP_SYS_PTRACE")
    assert world.sh("mkdir -p /run/netns; setpriv --reuid=65534 --regid=65534 --clear-groups "
                    "unshare -rn sleep 1000 >/dev/null 2>&1 & echo $! > /run/other.pid"
                    f"; sleep 0.3; {PYNETNS} attach --symlink other $(cat /run/other.pid)").rc == 0
    weak = ["capsh", "--drop=cap_sys_ptrace", "--"]
    r = run(world, [*weak, "-c", f"{PYNETNS} prune"])
    assert r.rc == 0 and r.out == b"", r
    assert world.run(["test", "-L", "/run/netns/other"]).rc == 0
    count("healthy removed", world.run(["test", "-L", "/run/netns/other"]).rc)
    r = run(world, [*weak, "-c", f"{PYNETNS} list"])
    assert b"dangling" not in r.err and b'"other" cannot be checked: Permission denied' in r.err
    assert run(world, [PYNETNS, "list"]).out == b"other\n"  # with the capability, it is fine


DEFAULT_INT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
               "os.execv(sys.argv[1], sys.argv[1:])")


def world_python():
    return sys.executable


def _busy_entry(world):
    assert world.sh(f"""{PYNETNS} add z
        mkdir /run/elsewhere; mount --rbind /run/netns /run/elsewhere
        mount --make-rprivate /run/elsewhere""").rc == 0
    return state(world)


@pytest.mark.parametrize("sig", ["INT", "TERM"])
def test_interrupted_busy_delete_keeps_its_mount(world, sig):
    """A signal while the entry is unmounted comes only once the mount is back. (bash starts
    background jobs with SIGINT ignored: python restores it before pynetns starts.)"""
    before = _busy_entry(world)
    attacked(f"SIG{sig} while a busy entry is unmounted")
    r = world.sh(PAUSED + f'STEP=delete:unmounted\nSWAP="kill -{sig} \\$p"\n'
                 f"paused {world_python()} -c '{DEFAULT_INT}' {PYNETNS} delete z")
    assert not r.out.endswith(b"rc=0\n"), r
    assert state(world) == before


def test_busy_delete_at_the_fd_limit_keeps_its_mount(world):
    before = _busy_entry(world)
    for limit in range(5, 24):
        attacked("busy delete under a low ulimit -n")
        r = run(world, ["bash", "-c", f"ulimit -n {limit}; exec {PYNETNS} delete z"])
        assert r.rc != 0, (limit, r)
        assert state(world) == before, limit
        count("tracebacks", r.err.count(b"Traceback"))


FORKS = r"""
import multiprocessing, os, subprocess, sys, threading, time
import pynetns
stop = False
def writer():
    while not stop:
        pynetns.add("f"); pynetns.delete("f")
t = threading.Thread(target=writer, daemon=True); t.start()
ctx = multiprocessing.get_context("fork")
children = []
for i in range(40):
    p = ctx.Process(target=time.sleep, args=(60,)); p.start(); children.append(p)
    time.sleep(0.005)
stop = True
t.join(5)  # a writer that cannot finish: a child holds the lock
r = subprocess.run(["flock", "-n", "-x", "/run/netns", "true"])
ip = subprocess.run([sys.argv[1], "netns", "add", "after"], timeout=5)
print(int(t.is_alive()), r.returncode, ip.returncode, flush=True)  # os._exit skips the flush
for p in children:
    p.kill()
os._exit(0)
"""


def test_a_fork_does_not_keep_the_lock(world):
    attacked("fork while the library holds the lock", 40)
    count("attack processes", 40)
    assert world.run(["mkdir", "/run/netns"]).rc == 0
    # -P: the installed pynetns, not a source tree in the working directory.
    r = world.run([sys.executable, "-P", "-c", FORKS, IP], timeout=60)
    no_traceback(r)
    assert r.out == b"0 0 0\n", r


def test_list_with_more_namespaces_than_descriptors(world):
    """1,100 distinct namespaces, `ulimit -n 1024`: every listing as ip's."""
    n = 1100
    attacked("namespaces listed under ulimit -n 1024", n)
    batches = {"adds": "".join(f"netns add n{i}\n" for i in range(n)),
               "sets": "".join(f"netns set n{i} auto\n" for i in range(0, n, 3))}
    for name, text in batches.items():
        assert world.run(["tee", f"/run/{name}"], input=text.encode()).rc == 0
    listings = {"list": "netns list", "-j list": "-j netns list", "list-id": "netns list-id"}
    # In a network namespace of its own, so that the nsids other tests give the host's
    # meanwhile do not show up between one listing and the next.
    script = "set -e; ulimit -n 1024; " + f"{IP} -batch /run/adds; {IP} -batch /run/sets; " + \
        "".join(f"{PYNETNS} {mine} >/run/mine{i} 2>/run/err{i}; {IP} {theirs} >/run/theirs{i}; "
                for i, (mine, theirs) in enumerate(listings.items())) + \
        f"{PYNETNS} -j -d list >/run/details"
    assert run(world, ["unshare", "-n", "bash", "-c", script], timeout=240).rc == 0
    for i, mine in enumerate(listings):
        got, err, want = (world.run(["cat", f"/run/{f}{i}"]).out for f in ("mine", "err", "theirs"))
        assert err == b"" and got == want and b"n3" in got, mine
    assert len(json.loads(world.run(["cat", "/run/details"]).out)) == n


def test_prune_takes_a_plain_file_from_the_future(world):
    attacked("plain file with a future mtime")
    assert world.sh("mkdir -p /run/netns; touch -d 'next year' /run/netns/later").rc == 0
    r = run(world, [PYNETNS, "prune"])
    assert r.triple() == (0, b"removed later: a plain file\n", b"")


def test_prune_when_run_netns_is_not_a_directory(world):
    for make in ("touch /run/netns", "mkfifo /run/netns",
                 "python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"/run/netns\")'"):
        attacked("/run/netns not a directory")
        assert world.sh(f"rm -f /run/netns; {make}").rc == 0
        for verb in (["prune"], ["list"], ["prune", "--dry-run"], ["add", "x"]):
            r = run(world, [PYNETNS, *verb], timeout=5)
            assert r.rc in (0, 1), (make, verb, r)


def test_add_from_another_network_namespace_is_whole_or_nothing(world):
    """`-netns A add B`: ip leaves B an empty file; pynetns makes nothing and says why."""
    assert run(world, [PYNETNS, "add", "A"]).rc == 0
    r = run(world, [PYNETNS, "-netns", "A", "add", "B"])
    assert r.rc == 1 and b"mount namespace" in r.err, r
    assert_clean(state(world), ["A"])
