"""exec --pid: the container's processes under a /proc of their own; the host's untouched."""
import os

import pytest

from conftest import RUN_DIR

from .support import cli, identity

pytestmark = pytest.mark.engine

PS = ("ps", "-e", "-o", "pid=,args=")


def _host_proc():
    with open("/proc/self/mountinfo") as f:
        mounts = sorted(line for line in f if line.split()[4] == "/proc")
    return mounts, identity("/proc/self/ns/pid"), os.readlink("/proc/self")


def test_shows_the_containers_processes(engine, netns_name):
    c = engine.start("ps", cmd=("sh", "-c", "sleep 1001 & exec sleep 1002"))
    assert cli("attach", netns_name, f"{engine.name}:{c}").rc == 0
    before = _host_proc()
    for target in (f"{engine.name}:{c}", netns_name):
        r = cli("exec", "--pid", target, *PS)
        assert r.rc == 0 and r.err == b"", r
        procs = dict(line.split(None, 1) for line in r.out.decode().splitlines())
        assert procs["1"] == "sleep 1002"
        assert sorted(procs.values()) == sorted(["sleep 1002", "sleep 1001", " ".join(PS)])
        links = cli("exec", "--pid", target, "ls", "/sys/class/net").out.split()
        assert b"lo" in links and b"docker0" not in links  # /sys is the container's too
    assert _host_proc() == before


def test_exit_status_and_errors(docker, netns_name):
    c = docker.start("status")
    target = f"docker:{c}"
    assert cli("exec", "--pid", target, "sh", "-c", "exit 3").triple() == (3, b"", b"")
    assert cli("exec", "--pid", target, "sh", "-c", "kill -TERM $$").rc == -15
    assert cli("exec", "--pid", target, "nosuchcmd").triple() == (
        1, b"", b'exec of "nosuchcmd" failed: No such file or directory\n')
    assert cli("-all", "exec", "--pid", "true").triple() == (
        1, b"", b"exec --pid does not go with -all\n")

    assert cli("add", netns_name).rc == 0  # a namespace without processes
    assert cli("exec", "--pid", netns_name, "true").triple() == (
        255, b"", f'No process is in "{netns_name}": it has no PID namespace to enter\n'
        .encode())
    missing = netns_name.another()
    assert cli("exec", "--pid", missing, "true").triple() == (
        255, b"", f'Cannot open network namespace "{missing}": No such file or directory\n'
        .encode())
    assert cli("exec", "--pid", "docker:pynetns-test-nope", "true").triple() == (
        255, b"", b'docker: no such container "pynetns-test-nope"\n')
    docker.stop(c)
    r = cli("exec", "--pid", target, "true")
    assert r.rc == 255 and r.err == f'docker container "{c}" is not running (status: exited)\n' \
        .encode()
    assert not os.path.lexists(f"{RUN_DIR}/{missing}")


@pytest.mark.parametrize("caps", [("--cap-add", "SYS_PTRACE"), ("--privileged",)])
def test_a_container_that_could_reach_the_host_needs_force(engine, caps):
    """Its process could read host files through /proc/PID/root of the host tool."""
    from conftest import unique
    from .support import LABEL
    name = unique("ptrace")
    engine.made.append(name)
    engine("run", "-d", "--label", LABEL, "--name", name, "--network", "none", *caps,
           engine.image, "sleep", "600", check=False)
    if engine.inspect(name)["State"]["Status"] != "running" and caps == ("--privileged",):
        # runc in this sandbox lacks capabilities to hand out
        pytest.skip(f"{engine.name} cannot run a --privileged container on this machine")
    target = f"{engine.name}:{name}"
    r = cli("exec", "--pid", target, "true")
    assert r.triple() == (255, b"", (
        f"{target}: its process {engine.pid(name)} has CAP_SYS_PTRACE in the host's user "
        "namespace and could reach the host's files through the command (/proc/PID/root); "
        "use --force to run it anyway\n").encode())
    r = cli("exec", "--pid", "--force", target, *PS)
    assert r.rc == 0 and r.out.decode().split("\n")[0].split() == ["1", "sleep", "600"], r


def test_a_container_in_the_hosts_pid_namespace_needs_force(engine):
    """--pid host: "its PID namespace" is the host's; ps would list the host's processes."""
    from conftest import unique
    from .support import LABEL
    name = unique("pidhost")
    engine.made.append(name)
    engine("run", "-d", "--label", LABEL, "--name", name, "--network", "none", "--pid", "host",
           engine.image, "sleep", "600")
    target = f"{engine.name}:{name}"
    assert cli("exec", "--pid", target, "true").triple() == (255, b"", (
        f"{target}: its PID namespace is the host's (that of this process); use --force to "
        "use it anyway\n").encode())
