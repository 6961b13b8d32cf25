"""The library leaves the caller as it found it: entered() used again, nested, by threads
at once and under a storm of KeyboardInterrupts; exec_in() failing or not; run_in()."""
import json
import os
import signal
import subprocess
import sys
import threading

import pytest

import pynetns
from conftest import RUN_DIR


def here():
    return os.readlink("/proc/thread-self/ns/net")


def inode_of(name):
    return f"net:[{os.stat(f'{RUN_DIR}/{name}').st_ino}]"


@pytest.fixture
def two(netns_name):
    other = netns_name.another()
    pynetns.add(netns_name)
    pynetns.add(other)
    return netns_name, other


def test_one_object_nested(two):
    name, _ = two
    home, e = here(), pynetns.entered(name)
    with e:
        with e:
            assert here() == inode_of(name)
        assert here() == inode_of(name)
    assert here() == home


def test_one_object_shared_by_threads_and_a_reused_fd_number(two):
    """A enters, B enters, A leaves, a namespace file is opened (it may get the number of
    a closed fd), B leaves: each thread ends where it started."""
    name, other = two
    home, e = here(), pynetns.entered(name)
    steps = [threading.Event() for _ in range(4)]
    seen, errors = {}, []

    def thread(tag, enter_after, leave_after, done):
        try:
            steps[enter_after].wait(10) if enter_after >= 0 else None
            with e:
                steps[done[0]].set()
                steps[leave_after].wait(10)
            seen[tag] = here()
        except BaseException as err:
            errors.append(err)
        finally:
            steps[done[1]].set()

    a = threading.Thread(target=thread, args=("a", -1, 1, (0, 2)))
    b = threading.Thread(target=thread, args=("b", 0, 3, (1, 2)))
    a.start()
    b.start()
    steps[2].wait(10)  # A is out
    fd = os.open(f"{RUN_DIR}/{other}", os.O_RDONLY)
    try:
        steps[3].set()
        a.join(10)
        b.join(10)
    finally:
        os.close(fd)
    assert errors == [] and seen == {"a": home, "b": home}


STORM = r"""
import json, os, signal, sys, traceback
import pynetns, pynetns._sys

class Interrupt(BaseException):
    pass

armed = False
def handler(*_):
    global armed
    if armed:
        armed = False
        raise Interrupt

signal.signal(signal.SIGALRM, handler)
home_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
home = os.readlink("/proc/thread-self/ns/net")
e = pynetns.entered(sys.argv[1])
exit_starts = e.__exit__.__code__.co_firstlineno
fds = len(os.listdir("/proc/self/fd"))
interrupted, left = 0, {"inside": 0, "boundary": 0}
spread = float(sys.argv[3])  # about as long as one enter and exit
for i in range(int(sys.argv[2])):
    where = None
    try:
        armed = True
        signal.setitimer(signal.ITIMER_REAL, spread * (i % 97 + 1) / 97)
        with e:
            os.getpid()
        armed = False
    except Interrupt as stop:
        interrupted += 1
        ours = [f for f in traceback.extract_tb(stop.__traceback__)
                if f"{os.sep}pynetns{os.sep}" in f.filename]
        # Python checks for a pending handler as __exit__ starts: no code of pynetns has
        # run yet, and none can run (the same holds for any with block written in Python).
        at_boundary = [(f.name, f.lineno) for f in ours] == [("__exit__", exit_starts)]
        where = "boundary" if at_boundary else "inside"
    signal.setitimer(signal.ITIMER_REAL, 0)
    if os.readlink("/proc/thread-self/ns/net") != home:
        left[where or "inside"] += 1
        pynetns._sys.setns(home_fd, pynetns._sys.CLONE_NEWNET)
print(json.dumps({"interrupted": interrupted, "left": left,
                  "leaked": len(os.listdir("/proc/self/fd")) - fds,
                  "mask": sorted(signal.pthread_sigmask(signal.SIG_BLOCK, ()))}))
"""


def test_interrupts_never_leave_the_thread_in_the_namespace(two):
    """KeyboardInterrupt-like exceptions at random points of 4,000 blocks: none raised
    from pynetns's code leaves the thread in the namespace, leaks an fd or blocks signals."""
    name, _ = two
    r = subprocess.run([sys.executable, "-c", STORM, name, "4000", "0.0004"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["interrupted"] > 200, result  # the storm did hit the blocks
    assert result["left"]["inside"] == 0, result
    assert result["leaked"] <= result["left"]["boundary"] and result["mask"] == [], result


def _process_state():
    """Namespaces, the /sys and /etc mounts exec makes, and the dispositions it resets
    (the rest of the mount table is shared with whatever else runs on the machine)."""
    with open("/proc/self/mountinfo") as f:
        mounts = [line for line in f if line.split()[4] == "/sys"
                  or line.split()[4].startswith("/etc/")]
    return (os.readlink("/proc/self/ns/net"), os.readlink("/proc/self/ns/mnt"), mounts,
            signal.getsignal(signal.SIGPIPE), signal.getsignal(signal.SIGXFSZ))


def test_exec_in_leaves_the_caller_untouched(two):
    name, _ = two
    before = _process_state()
    with pytest.raises(pynetns.CommandFailed) as e:
        pynetns.exec_in(name, ["pynetns-test-no-such-command"])
    assert str(e.value) == 'exec of "pynetns-test-no-such-command" failed: No such file or ' \
        "directory"
    assert e.value.errno == 2
    assert _process_state() == before
    assert pynetns.exec_in(name, ["sh", "-c", f'[ "$(readlink /proc/self/ns/net)" = '
                                  f'"{inode_of(name)}" ] && exit 4']) == 4
    assert pynetns.exec_in(name, ["sh", "-c", "kill -TERM $$"]) == -signal.SIGTERM
    with pytest.raises(pynetns.NotFound):
        pynetns.exec_in(name + "-missing", ["true"])
    assert _process_state() == before


def test_run_in_runs_on_a_thread_of_its_own(two):
    name, _ = two
    home = here()
    assert pynetns.run_in(name, here) == inode_of(name)
    assert pynetns.run_in(name, lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(KeyError, match="inside"):
        pynetns.run_in(name, lambda: {}["inside"])
    with pytest.raises(pynetns.NotFound):
        pynetns.run_in(name + "-missing", here)
    assert here() == home
    assert "run_in" in pynetns.__all__
