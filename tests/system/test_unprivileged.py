"""As `nobody`: add, attach and delete fail with a clear permission message and a non-zero
exit code, exactly as ip does, and leave nothing behind.
"""
import os
import subprocess
import sys

import pytest

from conftest import IP, PYNETNS, RUN_DIR, run
from netns_diff import Raw, private

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
PERMISSION = (b"Permission denied", b"Operation not permitted")


def as_nobody(*argv):
    return run([*NOBODY, *argv])


@pytest.fixture(autouse=True, scope="module")
def nobody_can_run_pynetns():
    r = as_nobody(PYNETNS, "help")  # ip's usage, exit 255: pynetns ran
    assert r.rc == 255, (f"nobody cannot run {PYNETNS} ({r.err!r}): the venv must be where "
                         "everyone may read it (scripts/test puts it under /var/lib)")


def entry_and_mounts(name):
    with open("/proc/self/mountinfo") as f:
        mounted = [line for line in f if f"/{name} " in line]
    return os.path.lexists(f"{RUN_DIR}/{name}"), mounted


@pytest.mark.parametrize("words", [["add", "{n}"], ["attach", "{n}", "{pid}"],
                                   ["attach", "{n}", "1"]])
def test_creating_is_refused(netns_name, words):
    other = netns_name.another()
    argv = [w.format(n=netns_name, pid=os.getpid()) for w in words]
    ip_argv = [w.format(n=other, pid=os.getpid()) for w in words]
    py = as_nobody(PYNETNS, *argv)
    ip = as_nobody(IP, "netns", *ip_argv)
    assert py.rc == ip.rc == 1
    assert py.out == b"" and py.err.replace(netns_name.encode(), b"N") == \
        ip.err.replace(other.encode(), b"N")
    assert any(p in py.err for p in PERMISSION)
    assert entry_and_mounts(netns_name) == (False, [])


def test_delete_is_refused(netns_name):
    assert run([PYNETNS, "add", netns_name]).rc == 0
    before = entry_and_mounts(netns_name)
    py = as_nobody(PYNETNS, "delete", netns_name)
    ip = as_nobody(IP, "netns", "delete", netns_name)
    assert (py.rc, py.out) == (ip.rc, ip.out) == (1, b"")
    assert py.err == ip.err == (f'Cannot remove namespace file "{RUN_DIR}/{netns_name}": '
                                f"Permission denied\n").encode()
    assert entry_and_mounts(netns_name) == before
    assert before[0] and len(before[1]) == 1


def test_reading_works(netns_name):
    assert run([PYNETNS, "add", netns_name]).rc == 0
    py = as_nobody(PYNETNS, "list")
    assert py.rc == 0 and f"{netns_name}\n".encode() in py.out


def test_exec_and_set_are_refused(netns_name):
    assert run([PYNETNS, "add", netns_name]).rc == 0
    for words in (["exec", netns_name, "true"], ["set", netns_name, "auto"]):
        py = as_nobody(PYNETNS, *words)
        ip = as_nobody(IP, "netns", *words)
        assert py.triple() == ip.triple()
        assert py.rc != 0 and any(p in py.err for p in PERMISSION)


def test_library_raises_permission_denied(netns_name):
    code = ("import sys, pynetns\n"
            "try:\n"
            f"    pynetns.add({netns_name!r})\n"
            "except pynetns.PermissionDenied as e:\n"
            "    print(type(e).__name__, e.errno, e)\n")
    r = run([*NOBODY, sys.executable, "-c", code])
    assert r.rc == 0 and r.out.startswith(b"PermissionDenied 1 ")
    assert entry_and_mounts(netns_name) == (False, [])


def test_nobody_really_is_unprivileged():
    r = subprocess.run([*NOBODY, "id", "-u"], capture_output=True)
    assert r.stdout == b"65534\n"


@pytest.mark.parametrize("globals, words", [
    ((), ["list"]), (("-j",), ["list"]), ((), ["identify"]), (("-all",), ["delete"]),
    (("-all",), ["exec", "true"]), ((), ["pids", "a"]), ((), ["exec", "a", "true"]),
    ((), ["delete", "a"]), ((), ["add", "c"]), ((), ["set", "a", "1"]), ((), ["list-id"]),
])
def test_unreadable_run_dir(globals, words):
    # A /run/netns nobody may not read (private, mode 0700): the same words as ip.
    setup = "$IP netns add a\nchmod 700 /run/netns\n"
    ip = private([[*NOBODY, Raw("$IP"), *globals, "netns", *words]], setup)[0]
    py = private([[*NOBODY, Raw("$PYNETNS"), *globals, *words]], setup)[0]
    assert py.triple() == ip.triple()
    assert py.state() == ip.state()
