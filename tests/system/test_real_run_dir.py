"""The verbs against the machine's real /run/netns, with the suite's unique names only: ip
does something to one name, pynetns the same to another, and the results (output, file,
mount) must match name for name.
"""
import os
import stat
import subprocess

from conftest import RUN_DIR, ip_netns, pynetns
from netns_diff import mount_shape


def mountinfo():
    with open("/proc/self/mountinfo") as f:
        return f.read()


def entry_state(name):
    """What /run/netns/NAME is: (mode, mount shape), or None when absent."""
    try:
        st = os.lstat(f"{RUN_DIR}/{name}")
    except FileNotFoundError:
        return None
    # The mount table comes first: a mount point's lstat shows the mounted nsfs inode.
    return stat.S_IMODE(st.st_mode), stat.S_IFMT(st.st_mode), mount_shape(
        mountinfo().replace(f"{RUN_DIR}/{name} ", f"{RUN_DIR}/NAME "), f"{RUN_DIR}/NAME")


def same(cmd, ip_name, py_name, *rest):
    """Run `VERB NAME REST` with each tool on its own name; outputs must match."""
    ip = ip_netns(cmd, ip_name, *rest)
    py = pynetns(cmd, py_name, *rest)
    assert py.rc == ip.rc
    assert py.out.replace(py_name.encode(), b"NAME") == ip.out.replace(ip_name.encode(), b"NAME")
    assert py.err.replace(py_name.encode(), b"NAME") == ip.err.replace(ip_name.encode(), b"NAME")
    assert entry_state(py_name) == entry_state(ip_name)
    return py


def test_add_then_add_again(netns_name):
    other = netns_name.another()
    py = same("add", other, netns_name)
    assert py.triple() == (0, b"", b"")
    mode, kind, shape = entry_state(netns_name)
    assert (mode, kind) == (0o444, stat.S_IFREG)  # nsfs inode, not the placeholder's mode 0
    assert [(m[0], m[1], m[2], m[5]) for m in shape] == [
        ("/run/netns", "net:[]", "/run/netns/NAME", "nsfs")]
    assert os.stat(f"{RUN_DIR}/{netns_name}").st_ino != os.stat(f"{RUN_DIR}/{other}").st_ino
    again = same("add", other, netns_name)
    assert again.rc == 1 and b"File exists" in again.err


def test_attach_and_identify(netns_name, netns_holder):
    other = netns_name.another()
    pid = str(netns_holder.pid)
    assert same("attach", other, netns_name, pid).triple() == (0, b"", b"")
    target = os.stat(f"/proc/{pid}/ns/net")
    for name in (netns_name, other):
        st = os.stat(f"{RUN_DIR}/{name}")
        assert (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino)
    # Two names for one namespace: both tools print the last one in readdir order.
    ours = pynetns("identify", pid)
    assert ours.triple() == ip_netns("identify", pid).triple()
    assert ours.out.strip() in (netns_name.encode(), other.encode())


def test_attach_errors_leave_nothing(netns_name):
    other = netns_name.another()
    for pid in ("0", "abc", "999999999", "-1", ""):
        same("attach", other, netns_name, pid)
        assert entry_state(netns_name) is None


def test_delete(netns_name):
    other = netns_name.another()
    ip_netns("add", other)
    pynetns("add", netns_name)
    assert same("delete", other, netns_name).triple() == (0, b"", b"")
    assert entry_state(netns_name) is None
    assert netns_name not in mountinfo()
    gone = same("delete", other, netns_name)
    assert gone.rc == 1 and gone.err.endswith(b": No such file or directory\n")


def test_delete_plain_file(netns_name):
    other = netns_name.another()
    for name in (netns_name, other):
        open(f"{RUN_DIR}/{name}", "w").close()
    assert same("delete", other, netns_name).triple() == (0, b"", b"")


def test_set_and_list_id(netns_name):
    other = netns_name.another()
    ip_netns("add", other)
    pynetns("add", netns_name)
    assert same("set", other, netns_name, "auto").triple() == (0, b"", b"")
    ids = {}
    for line in pynetns("list").out.decode().splitlines():
        name, _, rest = line.partition(" (id: ")
        if name in (netns_name, other):
            ids[name] = int(rest.rstrip(")"))
    assert set(ids) == {netns_name, other}
    again = same("set", other, netns_name, "auto")
    assert again.triple() == (2, b"", b"Error: Peer netns already has a nsid assigned.\n")
    one = pynetns("list-id", "nsid", str(ids[netns_name]))
    assert one.triple() == ip_netns("list-id", "nsid", str(ids[netns_name])).triple()
    assert one.out == f"nsid {ids[netns_name]} (iproute2 netns name: {netns_name})\n".encode()


def test_pids(netns_name):
    pynetns("add", netns_name)
    sleeper = subprocess.Popen(["ip", "netns", "exec", netns_name, "sleep", "30"])
    try:
        for _ in range(100):
            ours = pynetns("pids", netns_name)
            if ours.out:
                break
        assert ours.triple() == (0, f"{sleeper.pid}\n".encode(), b"")
        assert ours.triple() == ip_netns("pids", netns_name).triple()
        assert pynetns("identify", str(sleeper.pid)).out == f"{netns_name}\n".encode()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_list_shows_our_entries_like_ip(netns_name):
    other = netns_name.another()
    pynetns("add", netns_name)
    ip_netns("add", other)
    pynetns("set", netns_name, "auto")
    ours = [line for line in pynetns("list").out.splitlines() if b"pynetns-test-" in line]
    theirs = [line for line in ip_netns("list").out.splitlines() if b"pynetns-test-" in line]
    mine = [line for line in ours if netns_name.encode() in line or other.encode() in line]
    assert len(mine) == 2 and any(b"(id: " in line for line in mine)
    assert set(mine) <= set(theirs)
