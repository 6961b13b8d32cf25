"""The library API against the real kernel (suite names in the real /run/netns): results,
typed exceptions, entered() restoring the caller's namespace, and lazy imports.
"""
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

import pynetns
from conftest import RUN_DIR, ip_netns, pynetns as cli


def my_netns():
    return os.readlink("/proc/thread-self/ns/net")


def ns_inode(name):
    return os.stat(f"{RUN_DIR}/{name}").st_ino


def test_add_delete_and_entries(netns_name):
    assert pynetns.add(netns_name) is True
    assert pynetns.add(netns_name, exist_ok=True) is False
    with pytest.raises(pynetns.Exists) as e:
        pynetns.add(netns_name)
    assert (e.value.name, e.value.errno) == (netns_name, 17)
    assert str(e.value) == f'Cannot create namespace file "{RUN_DIR}/{netns_name}": File exists'
    ours = [e for e in pynetns.entries() if e.name == netns_name]
    assert len(ours) == 1 and ours[0].ok and ours[0].nsid is None and ours[0].problem is None
    assert netns_name in pynetns.names()
    assert pynetns.exists(netns_name) is True
    assert ip_netns("list").out.count(netns_name.encode()) == 1  # ip sees what we made
    pynetns.delete(netns_name)
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")
    with pytest.raises(pynetns.NotFound):
        pynetns.delete(netns_name)
    assert pynetns.exists(netns_name) is False


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "/abs", "n" * 256, "nul\0"])
@pytest.mark.parametrize("call", ["add", "delete", "attach", "pids", "get_nsid", "set_nsid",
                                  "entered", "exists"])
def test_invalid_names(bad, call):
    args = (bad, os.getpid()) if call == "attach" else (bad,)
    with pytest.raises(pynetns.InvalidName) as e:
        getattr(pynetns, call)(*args).__enter__() if call == "entered" else \
            getattr(pynetns, call)(*args)
    assert isinstance(e.value, pynetns.UsageError) and isinstance(e.value, pynetns.NetnsError)
    assert str(e.value) == f'Invalid netns name "{bad}"'


def test_long_valid_name():
    name = "pynetns-test-" + "l" * 242
    assert not pynetns.is_valid_name(name + "x") and pynetns.is_valid_name(name)


def test_attach_and_identify(netns_name, netns_holder):
    pid = netns_holder.pid
    pynetns.attach(netns_name, pid)
    assert ns_inode(netns_name) == os.stat(f"/proc/{pid}/ns/net").st_ino
    assert pynetns.identify(pid) == netns_name
    assert pynetns.names_of_pid(str(pid)) == [netns_name]
    assert pynetns.pids(netns_name) == [pid]
    with pytest.raises(pynetns.Exists):
        pynetns.attach(netns_name, pid)


@pytest.mark.parametrize("pid", [0, "0", "abc", "", "12x", 2**31])
def test_attach_invalid_pid(netns_name, pid):
    with pytest.raises(pynetns.InvalidPid) as e:
        pynetns.attach(netns_name, pid)
    assert str(e.value) == f"Invalid PID: {pid}"
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_attach_missing_process(netns_name):
    with pytest.raises(pynetns.NotFound):
        pynetns.attach(netns_name, 999999999)
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_identify_errors():
    with pytest.raises(pynetns.UsageError):
        pynetns.identify("abc")
    with pytest.raises(pynetns.NotFound):
        pynetns.identify(999999999)


def test_nsid(netns_name):
    pynetns.add(netns_name)
    assert pynetns.get_nsid(netns_name) is None
    pynetns.set_nsid(netns_name)
    nsid = pynetns.get_nsid(netns_name)
    assert isinstance(nsid, int) and nsid >= 0
    assert f"{netns_name} (id: {nsid})".encode() in ip_netns("list").out
    with pytest.raises(pynetns.NetlinkError) as e:
        pynetns.set_nsid(netns_name, nsid + 1)
    assert e.value.errno == 17
    assert e.value.extack == "Peer netns already has a nsid assigned"
    assert str(e.value) == "Error: Peer netns already has a nsid assigned."
    rows = pynetns.list_ids(nsid=nsid)
    assert [(r.nsid, r.name) for r in rows] == [(nsid, netns_name)]
    assert rows[0].as_text() == f"nsid {nsid} (iproute2 netns name: {netns_name})\n"
    assert rows[0].as_json() == {"nsid": nsid, "name": netns_name}
    with pytest.raises(pynetns.NetlinkError):
        pynetns.list_ids(target=2**31 - 1)


def test_nsid_errors(netns_name):
    with pytest.raises(pynetns.NotFound):
        pynetns.get_nsid(netns_name)
    with pytest.raises(pynetns.NotFound):
        pynetns.set_nsid(netns_name, 5)


def test_broken_entries(netns_name):
    open(f"{RUN_DIR}/{netns_name}", "w").close()
    entry = next(e for e in pynetns.entries() if e.name == netns_name)
    assert not entry.ok and entry.problem == "a plain file"
    for call in (pynetns.pids, pynetns.get_nsid, pynetns.set_nsid, pynetns.exists):
        with pytest.raises(pynetns.NotANamespace) as e:
            call(netns_name)
        assert e.value.problem == "a plain file" and e.value.name == netns_name
    with pytest.raises(pynetns.NotANamespace):
        pynetns.entered(netns_name).__enter__()
    assert pynetns.check(f"{RUN_DIR}/{netns_name}").problem == "a plain file"
    pynetns.delete(netns_name)
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_entered_switches_and_restores(netns_name):
    pynetns.add(netns_name)
    home = my_netns()
    with pynetns.entered(netns_name):
        assert my_netns() == f"net:[{ns_inode(netns_name)}]"
        assert [name for _, name in socket.if_nameindex()] == ["lo"]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    assert my_netns() == home
    # The socket stays in the namespace it was made in.
    with pynetns.entered(netns_name):
        sock.bind(("127.0.0.1", 0))  # lo is down in a new namespace
        port = sock.getsockname()[1]
    sock.close()
    assert port > 0


def test_entered_restores_when_the_block_raises(netns_name):
    pynetns.add(netns_name)
    home = my_netns()
    with pytest.raises(KeyError), pynetns.entered(netns_name):
        raise KeyError("inside")
    assert my_netns() == home
    with pytest.raises(pynetns.NotFound), pynetns.entered(netns_name + "-missing"):
        pass
    assert my_netns() == home


def test_entered_leaves_other_threads_alone(netns_name):
    pynetns.add(netns_name)
    home = my_netns()
    go, seen = threading.Event(), []

    def other():
        go.wait(10)
        seen.append(my_netns())

    t = threading.Thread(target=other)
    t.start()
    with pynetns.entered(netns_name):
        go.set()
        t.join()
    assert seen == [home]


HOT = [["list"], ["-j", "list"], ["add", "{n}"], ["identify"], ["pids", "{n}"],
       ["attach", "{m}", "{pid}"], ["exec", "{n}", "true"], ["set", "{n}", "auto"],
       ["list"], ["delete", "{m}"], ["delete", "{n}"]]


def imported_by(argv):
    """Top-level packages imported by `python -m pynetns ARGV` (exec too: importtime is
    written before the exec)."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "pynetns", *argv],
                       capture_output=True, timeout=30)
    lines = [line for line in r.stderr.decode().splitlines() if line.startswith("import time:")]
    names = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines[1:]}
    return r, names


def test_hot_verbs_import_neither_click_nor_pyroute2(netns_name, netns_holder):
    other = netns_name.another()
    for words in HOT:
        argv = [w.format(n=netns_name, m=other, pid=netns_holder.pid) for w in words]
        r, names = imported_by(argv)
        assert r.returncode == 0, (argv, r.stderr[-300:])
        assert "pynetns" in names, argv
        assert not names & {"click", "pyroute2"}, (argv, names & {"click", "pyroute2"})


def test_help_does_import_click():
    # The check above can see click when it is there.
    r, names = imported_by(["--help"])
    assert r.returncode == 0
    assert "click" in names


def test_import_pynetns_is_light():
    code = ("import sys, json, pynetns; pynetns.add; pynetns.entries; pynetns.entered; "
            "print(json.dumps([m for m in ('click', 'pyroute2') if m in sys.modules]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert json.loads(r.stdout) == []


def test_library_and_cli_agree(netns_name):
    pynetns.add(netns_name)
    pynetns.set_nsid(netns_name, -1)
    nsid = pynetns.get_nsid(netns_name)
    assert f"{netns_name} (id: {nsid})\n".encode() in cli("list").out
