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
    """Short of descriptors at any point of the call, each fails with a NetnsError, never a
    bare OSError; list_ids, whose first descriptor is the socket, with NetlinkError. The soft
    limit is raised one by one from "nothing can be opened" to "enough"."""
    pynetns.add(netns_name)
    code = f"""
import _socket, os, resource, pynetns  # _socket: loaded before the limit
pynetns.list_ids(); pynetns.get_nsid("{netns_name}")  # every lazy import done before the limit
pynetns.exists("{netns_name}")  # and libc bound
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
base = os.open("/", os.O_RDONLY)  # the lowest free descriptor
os.close(base)
def outcomes(call):
    seen = []
    for limit in range(base, base + 16):
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        try:
            call()
            seen.append("ok")
        except pynetns.NetnsError as e:
            seen.append(f"{{type(e).__name__}} {{e}}")
        except Exception as e:
            seen.append(f"NOT A NetnsError: {{type(e).__name__}} {{e}}")
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return sorted(set(seen))
print(outcomes(pynetns.list_ids))
for call in (lambda: pynetns.get_nsid("{netns_name}"), lambda: pynetns.set_nsid("{netns_name}")):
    # Past the limits that fail, set_nsid has set one: the kernel refuses a second.
    print([o for o in outcomes(call) if o != "ok" and "Cannot open network namespace" not in o
           and "already has a nsid" not in o])
"""
    lines = python(code).splitlines()
    # Whether a limit falls between the socket and the directory's dup depends on which
    # descriptors the interpreter holds: the listing's failure may or may not be seen.
    assert lines[0] in (str(["NetlinkError netlink socket failed: Too many open files", "ok"]),
                        str(["NetlinkError netlink socket failed: Too many open files",
                             "SystemCallFailed Failed to open directory /run/netns: Too many "
                             "open files", "ok"]))
    assert lines[1:] == ["[]", "[]"]


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
