"""exec --pid NAME enters exactly the PID namespace of NAME's processes, and refuses targets
that would expose the host without --force (the caller's own namespaces; a process that
holds CAP_SYS_PTRACE in the host's user namespace)."""
import os
import subprocess
import time

import pytest

from conftest import RUN_DIR, pynetns

PS = ("ps", "-e", "-o", "pid=,args=")
NO_PTRACE = ("setpriv", "--bounding-set=-sys_ptrace")


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


class Holder:
    """`unshare -n -pf --mount-proc CMD`: the parent stays in the host's PID namespace (and
    is in the new network namespace too); CMD is PID 1 of a new one."""

    def __init__(self, *cmd):
        self.proc = subprocess.Popen(["unshare", "-n", "-pf", "--mount-proc", *cmd])
        for _ in range(500):
            kids = _children(self.proc.pid)
            if kids and os.readlink(f"/proc/{kids[0]}/exe").endswith("/sleep"):
                self.pid = kids[0]
                return
            time.sleep(0.01)
        raise AssertionError("unshare -pf did not start its child")

    def close(self):
        os.kill(self.pid, 9)  # PID 1 of the namespace: the others go with it
        self.proc.wait()


@pytest.fixture
def holder(request):
    made = []

    def make(*cmd):
        made.append(Holder(*cmd))
        return made[-1]

    yield make
    for h in made:
        h.close()


def test_exactly_the_pid_namespace_of_the_entry(holder, netns_name):
    h = holder(*NO_PTRACE, "sleep", "601")
    assert pynetns("attach", netns_name, str(h.pid)).rc == 0
    # pynetns's own processes in the namespace (a host shell, unshare's parent) are older
    # than none of the container's, but are not in a PID namespace of their own.
    r = pynetns("exec", "--pid", netns_name, *PS)
    assert r.rc == 0 and r.err == b"", r
    assert r.out.decode().split("\n") == ["      1 sleep 601", f"      2 {' '.join(PS)}", ""]


def test_a_process_with_cap_sys_ptrace_in_the_host_user_namespace(holder, netns_name):
    h = holder("sleep", "602")  # root with every capability
    assert pynetns("attach", netns_name, str(h.pid)).rc == 0
    r = pynetns("exec", "--pid", netns_name, "true")
    assert r.triple() == (255, b"", (
        f"{netns_name}: its process {h.pid} has CAP_SYS_PTRACE in the host's user namespace "
        "and could reach the host's files through the command (/proc/PID/root); use --force "
        "to run it anyway\n").encode())
    r = pynetns("exec", "--pid", "--force", netns_name, *PS)
    assert r.rc == 0 and r.out.decode().split("\n")[0] == "      1 sleep 602", r


def test_the_hosts_own_namespaces_are_refused(netns_name):
    """An entry naming this process's network namespace: refused, whether the processes in
    it are all in this PID namespace or (--network host containers) one other is."""
    assert pynetns("attach", netns_name, str(os.getpid())).rc == 0
    r = pynetns("exec", "--pid", netns_name, "true")
    assert (r.rc, r.out) == (255, b"") and r.err in (
        f'The processes in "{netns_name}" are all in this PID namespace: it has no other to '
        "enter (exec without --pid runs a command in it)\n".encode(),
        f"{netns_name}: its network namespace is the host's (that of this process); use "
        "--force to use it anyway\n".encode()), r


def test_an_entry_without_processes(netns_name):
    assert pynetns("add", netns_name).rc == 0
    assert pynetns("exec", "--pid", netns_name, "true").triple() == (
        255, b"", f'No process is in "{netns_name}": it has no PID namespace to enter\n'
        .encode())


def test_processes_in_two_pid_namespaces(holder, netns_name):
    h = holder(*NO_PTRACE, "sleep", "603")
    assert pynetns("attach", netns_name, str(h.pid)).rc == 0
    other = subprocess.Popen(["nsenter", f"--net={RUN_DIR}/{netns_name}", "unshare", "-pf",
                              *NO_PTRACE, "sleep", "604"])
    try:
        for _ in range(500):
            kids = _children(other.pid)
            if kids and os.readlink(f"/proc/{kids[0]}/exe").endswith("/sleep"):
                break
            time.sleep(0.01)
        r = pynetns("exec", "--pid", netns_name, "true")
        assert r.triple() == (1, b"", (
            f'The processes in "{netns_name}" are in 2 PID namespaces: name the container '
            "(docker:C, podman:C) instead\n").encode())
    finally:
        for kid in _children(other.pid):
            os.kill(kid, 9)
        other.kill()
        other.wait()
