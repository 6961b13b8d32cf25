"""The library beyond the ip verbs: the namespace handle (pynetns.open), attach from every
kind of source, prune and describe as data, events, and the exported exception classes.
"""
import json
import os
import pathlib
import shlex
import subprocess
import sys

import pytest

import pynetns
from conftest import RUN_DIR, in_private_run_dir, ip_netns
from conftest import pynetns as cli


def stat_identity(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino


def netns_seen_through(fd):
    """The network namespace a child process is in after setns(2) on our descriptor ``fd``
    (nsenter opens /proc/self/fd/FD: the very file we hold)."""
    r = subprocess.run(["nsenter", f"--net=/proc/self/fd/{fd}", "readlink",
                        "/proc/self/ns/net"], pass_fds=[fd], capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


def test_handle_identity_and_equality(netns_name):
    pynetns.add(netns_name)
    other = netns_name.another()
    pynetns.bind(other, f"{RUN_DIR}/{netns_name}")  # a second name, the same namespace
    third = netns_name.another()
    pynetns.add(third)
    with pynetns.open(netns_name) as a, pynetns.open(netns_name) as b, \
            pynetns.open(other) as c, pynetns.open(third) as d:
        assert isinstance(a, pynetns.Handle)
        assert a.identity == stat_identity(f"{RUN_DIR}/{netns_name}") == c.identity
        assert a.fileno() != b.fileno()
        assert a == b == c and hash(a) == hash(b) == hash(c) and len({a, b, c, d}) == 2
        assert a != d and a != a.identity and a != netns_name
        assert (a.name, a.path, c.name) == (netns_name, f"{RUN_DIR}/{netns_name}", other)
        assert repr(a) == (f"<pynetns.Handle {netns_name!r} net:[{a.identity[1]}] "
                           f"dev={a.identity[0]} fd={a.fileno()}>")


def test_handle_fileno_enters_the_namespace_even_after_delete(netns_name):
    pynetns.add(netns_name)
    h = pynetns.open(netns_name)
    try:
        want = f"net:[{h.identity[1]}]"
        assert os.readlink("/proc/self/ns/net") != want
        assert netns_seen_through(h.fileno()) == want
        pynetns.delete(netns_name)  # the handle holds the namespace, not the name
        assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")
        assert netns_seen_through(h.fileno()) == want
    finally:
        h.close()


def test_handle_close_is_idempotent_and_use_after_close_fails(netns_name):
    pynetns.add(netns_name)
    with pynetns.open(netns_name) as h:
        fd = h.fileno()
        assert not h.closed
        st = os.fstat(fd)
        assert (st.st_dev, st.st_ino) == h.identity
    assert h.closed
    with pytest.raises(OSError):
        os.fstat(fd)  # the with-block closed the descriptor itself
    h.close()  # again: nothing happens
    with pytest.raises(ValueError, match="closed namespace handle"):
        h.fileno()
    with pytest.raises(ValueError):
        netns_seen_through(h.fileno())
    assert repr(h).endswith(" closed>") and h.identity == stat_identity(f"{RUN_DIR}/{netns_name}")


def test_open_errors_are_typed(netns_name):
    with pytest.raises(pynetns.NotFound) as e:
        pynetns.open(netns_name)
    assert (e.value.name, e.value.errno) == (netns_name, 2)
    assert str(e.value) == (f'Cannot open network namespace "{netns_name}": '
                            "No such file or directory")
    with open(f"{RUN_DIR}/{netns_name}", "w"):
        pass
    with pytest.raises(pynetns.NotANamespace) as e:
        pynetns.open(netns_name)
    assert (e.value.name, e.value.problem) == (netns_name, "a plain file")
    with pytest.raises(pynetns.InvalidName):
        pynetns.open("a/b")


def test_handle_leaves_no_descriptor_open(netns_name):
    pynetns.add(netns_name)
    before = sorted(os.listdir("/proc/self/fd"))
    pynetns.open(netns_name).close()
    h = pynetns.open(netns_name)
    del h  # a forgotten handle closes its descriptor too
    assert pynetns.exists(netns_name) and pynetns.pids(netns_name) == []
    assert sorted(os.listdir("/proc/self/fd")) == before


def test_attach_every_source_kind(netns_name, netns_holder):
    pid = netns_holder.pid
    want = stat_identity(f"/proc/{pid}/ns/net")
    names = [netns_name.another() for _ in range(5)]
    for name, source, options in ((netns_name, pid, {}), (names[0], str(pid), {}),
                                  (names[1], pid, {"symlink": True}),
                                  (names[2], f"/proc/{pid}/ns/net", {}),
                                  (names[3], pathlib.Path(f"/proc/{pid}/ns/net"), {}),
                                  (names[4], f"/proc/{pid}/ns/net", {"symlink": True})):
        done = pynetns.attach(name, source, **options)
        path = f"{RUN_DIR}/{name}"
        assert (done.name, done.path, done.symlink) == (name, path, bool(options))
        assert done.container is None and done.notes == []
        assert os.path.islink(path) == bool(options) and stat_identity(path) == want
        with pynetns.open(name) as h:
            assert h.identity == want
    assert os.readlink(f"{RUN_DIR}/{names[1]}") == f"/proc/{pid}/ns/net"


def test_attach_pid_keeps_ips_messages(netns_name):
    """A PID alone goes ip's way, with ip's words (the symlink path says its own)."""
    r = ip_netns("attach", netns_name, "999999999")
    with pytest.raises(pynetns.NotFound) as e:
        pynetns.attach(netns_name, 999999999)
    assert r.rc == 1 and r.err.decode() == f"{e.value}\n"
    with pytest.raises(pynetns.NotFound):
        pynetns.attach(netns_name, 999999999, symlink=True)
    with pytest.raises(pynetns.NotANamespace):
        pynetns.attach(netns_name, "/proc/self/ns/uts")
    with pytest.raises(TypeError):
        pynetns.attach(netns_name, 1, True)  # the options are keywords only
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_describe_is_the_data_of_list_d(netns_name, netns_holder):
    pid = netns_holder.pid
    pynetns.attach(netns_name, pid)
    rows, errors = pynetns.describe()
    mine = [r for r in rows if r["name"] == netns_name]
    assert mine == [{"name": netns_name, "inode": os.stat(f"/proc/{pid}/ns/net").st_ino,
                     "kind": "bind", "target": None, "pids": [pid], "container": None,
                     "stale": None}]
    assert all(isinstance(e, pynetns.ContainerError) for e in errors)
    listed = json.loads(cli("-j", "list", "-d").out)
    assert [r for r in listed if r["name"] == netns_name] == mine
    only, _ = pynetns.describe([e for e in pynetns.entries() if e.name == netns_name])
    assert only == mine


def run_library(code):
    """Run python ``code`` in a private mount namespace with an empty tmpfs /run/netns."""
    return in_private_run_dir(f"{sys.executable} -c {shlex.quote(code)}\n", net=True)


def test_prune_returns_data():
    code = """
import os, pynetns
open("/run/netns/plain", "w").close()
os.symlink("/nonexistent", "/run/netns/dangling")
pynetns.add("good")
def seen(results):
    return sorted((r.name, r.problem, r.removed, r.reason) for r in results)
os.utime("/run/netns/plain", (0, 0))  # older than an add in progress
print(seen(pynetns.prune(dry_run=True)))
print(sorted(os.listdir("/run/netns")))
print(seen(pynetns.prune()))
print(sorted(os.listdir("/run/netns")), pynetns.prune())
"""
    r = run_library(code)
    assert r.rc == 0, r.err
    assert r.out.decode().splitlines() == [
        "[('dangling', 'a dangling symlink to /nonexistent', False, None), "
        "('plain', 'a plain file', False, None)]",
        "['dangling', 'good', 'plain']",
        "[('dangling', 'a dangling symlink to /nonexistent', True, None), "
        "('plain', 'a plain file', True, None)]",
        "['good'] []",
    ]


def test_attach_all_without_engines_is_a_container_error():
    code = """
import os, pynetns
os.environ["PATH"] = "/nonexistent"  # no podman
os.environ["DOCKER_HOST"] = "unix:///nonexistent.sock"
try:
    pynetns.attach_all()
except pynetns.ContainerError as e:
    print(type(e).__name__, str(e).startswith("no container engine answers"))
"""
    r = run_library(code)
    assert (r.rc, r.out) == (0, b"ContainerError True\n"), r.err


def test_events():
    """pynetns.events() yields what `monitor` prints: ("add", name) then ("delete", name)."""
    code = """
import sys, pynetns
seen = []
for kind, name in pynetns.events():
    if name == "watched" and (seen or kind == "add"):
        seen.append(kind)
        print(kind, flush=True)
        if kind == "delete":
            break
"""
    script = (f"{sys.executable} -c {shlex.quote(code)} &\n"
              "for i in $(seq 200); do\n"
              "  kill -0 $! 2>/dev/null || break\n"
              "  $PYNETNS add watched; sleep 0.05; $PYNETNS delete watched\n"
              "done\nwait $!\n")
    r = in_private_run_dir(script, timeout=60)
    assert (r.rc, r.out) == (0, b"add\ndelete\n"), r.err


def test_every_exception_class_is_exported():
    from pynetns import errors
    classes = {name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, errors.NetnsError)}
    assert {"NoSuchContainer", "EngineUnavailable", "Unsafe", "ContainerError"} <= classes
    assert classes <= set(pynetns.__all__)
    assert all(getattr(pynetns, name) is getattr(errors, name) for name in classes)
    for name in pynetns.__all__:
        assert getattr(pynetns, name) is not None
    assert pynetns.EngineUnavailable("down", installed=False).installed is False


def test_lazy_exports_stay_lazy():
    """The new exports load their modules on first use only: import pynetns stays cheap."""
    code = ("import sys, pynetns\n"
            "heavy = ['pynetns.attachments', 'pynetns.containers', 'pynetns.described', "
            "'pynetns.monitor', 'json']\n"
            "print([m for m in heavy if m in sys.modules])\n"
            "pynetns.describe\n"
            "print('pynetns.described' in sys.modules, callable(pynetns.describe))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert r.stdout == b"[]\nTrue True\n", r.stderr
