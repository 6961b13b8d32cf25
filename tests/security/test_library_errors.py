"""Library errors have the right type and stay inside the NetnsError hierarchy: a lookup
that is not allowed is PermissionDenied (not NotFound), a bad nsid is a UsageError, and
netlink socket failures and a failed restore of the caller's namespace are NetnsErrors."""
import subprocess
import sys

import pytest

import pynetns


def python(code, *prefix):
    r = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("nsid", [2**31, -2, "x", 1.0, True, None])
def test_a_bad_nsid_is_a_usage_error(netns_name, nsid):
    pynetns.add(netns_name)
    with pytest.raises(pynetns.UsageError) as e:
        pynetns.set_nsid(netns_name, nsid)
    assert str(e.value) == (f"Invalid nsid {nsid!r}: an integer from 0 to 2147483647, or -1 "
                            "for the kernel to pick")
    assert pynetns.get_nsid(netns_name) is None
    with pytest.raises(pynetns.UsageError):
        pynetns.list_ids(nsid=nsid)


def test_a_lookup_not_allowed_is_permission_denied():
    """Root without CAP_SYS_PTRACE may not open the namespaces of another user's process."""
    other = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              "sleep", "60"])
    try:
        code = (f"import pynetns\ntry:\n    pynetns.identify({other.pid})\n"
                "except pynetns.NetnsError as e:\n    print(type(e).__name__, e.errno, e)\n")
        out = python(code, "setpriv", "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace")
        assert out == "PermissionDenied 13 Cannot open network namespace: Permission denied\n"
    finally:
        other.kill()
        other.wait()


def test_netlink_socket_errors_are_netns_errors(netns_name):
    pynetns.add(netns_name)
    code = f"""
import _socket, os, resource, pynetns
pynetns.list_ids, pynetns.get_nsid, pynetns.set_nsid  # imported before the limit
pynetns.exists("{netns_name}")  # and libc bound
fd = os.open("/run/netns/{netns_name}", os.O_RDONLY)  # open_checked's fd: one more
os.close(fd)
resource.setrlimit(resource.RLIMIT_NOFILE, (fd + 1, fd + 1))  # no fd for a socket
def list_ids():
    held = os.open("/", os.O_RDONLY)  # where the entry's fd goes in the other two
    try:
        pynetns.list_ids()
    finally:
        os.close(held)
for call in (list_ids, lambda: pynetns.get_nsid("{netns_name}"),
             lambda: pynetns.set_nsid("{netns_name}")):
    try:
        call()
    except pynetns.NetnsError as e:
        print(type(e).__name__, e)
"""
    assert python(code).splitlines() == \
        ["NetlinkError netlink socket failed: Too many open files"] * 3


def test_a_failed_restore_is_a_netns_error(netns_name):
    """Inside the block the thread gives up its privileges (a new user namespace): going
    back to the caller's namespace fails, as a SystemCallFailed."""
    pynetns.add(netns_name)
    code = f"""
import pynetns, pynetns._sys as s
try:
    with pynetns.entered("{netns_name}"):
        s.unshare(s.CLONE_NEWUSER)
except pynetns.NetnsError as e:
    print(type(e).__name__, e.errno, e)
"""
    assert python(code) == ("SystemCallFailed 1 restoring the network namespace of this "
                            "thread failed: Operation not permitted\n")
