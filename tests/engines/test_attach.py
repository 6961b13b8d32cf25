"""attach: containers by name and ID, namespace files, --symlink, and the errors."""
import os
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import RUN_DIR, ip_netns

from .support import cli, identity, is_mount

pytestmark = pytest.mark.engine


def test_by_name_id_and_bare_name(engine, netns_name):
    c = engine.start("byname")
    pid, cid = engine.pid(c), engine.id(c)
    want = identity(f"/proc/{pid}/ns/net")
    for name, source in ((netns_name, f"{engine.name}:{c}"),
                         (netns_name.another(), f"{engine.name}:{cid[:12]}"),
                         (netns_name.another(), c), (netns_name.another(), cid)):
        r = cli("attach", name, source)
        assert r.triple() == (0, b"", b""), (source, r)
        path = f"{RUN_DIR}/{name}"
        assert identity(path) == want and is_mount(path) and not os.path.islink(path)


def test_readme_sequence(engine, netns_name):
    """pynetns attach web docker:web && pynetns exec web ss -tlnp"""
    c = engine.start("web", cmd=("httpd", "-f", "-p", "8080"))
    assert cli("attach", netns_name, f"{engine.name}:{c}").rc == 0
    r = cli("exec", netns_name, "ss", "-tlnp")
    assert r.rc == 0, r
    assert b":8080" in r.out and b'"httpd"' in r.out


def test_podman_without_network_has_no_sandbox_key(podman, netns_name):
    """--network none: no namespace file; the process is checked by its cgroup instead."""
    c = podman.start("none", network="none")
    assert podman.inspect(c)["NetworkSettings"]["SandboxKey"] == ""
    assert cli("attach", netns_name, f"podman:{c}").triple() == (0, b"", b"")
    assert identity(f"{RUN_DIR}/{netns_name}") == identity(f"/proc/{podman.pid(c)}/ns/net")


def test_symlink(engine, netns_name):
    c = engine.start("link")
    pid = engine.pid(c)
    path = f"{RUN_DIR}/{netns_name}"
    assert cli("attach", "--symlink", netns_name, f"{engine.name}:{c}").triple() == (0, b"", b"")
    assert os.readlink(path) == f"/proc/{pid}/ns/net"
    assert identity(path) == identity(f"/proc/{pid}/ns/net") and not is_mount(path)
    engine.stop(c)
    r = cli("list")
    assert netns_name.encode() not in r.out
    assert f'"{netns_name}" is a dangling symlink to /proc/{pid}/ns/net'.encode() in r.err


def test_paths(docker, netns_name):
    c = docker.start("path")
    pid, key = docker.pid(c), docker.inspect(c)["NetworkSettings"]["SandboxKey"]
    want = identity(f"/proc/{pid}/ns/net")
    for name, source in ((netns_name, f"/proc/{pid}/ns/net"), (netns_name.another(), key)):
        assert cli("attach", name, source).triple() == (0, b"", b"")
        assert identity(f"{RUN_DIR}/{name}") == want and is_mount(f"{RUN_DIR}/{name}")
    name = netns_name.another()
    assert cli("attach", "--symlink", name, key).rc == 0
    assert os.readlink(f"{RUN_DIR}/{name}") == key
    bad = netns_name.another()
    r = cli("attach", bad, "/etc/hostname")
    assert r.triple() == (1, b"", b'"/etc/hostname" is a plain file, not a network namespace\n')
    r = cli("attach", bad, "/proc/self/ns/uts")
    assert r.rc == 1 and b"a UTS namespace, not a network namespace" in r.err
    assert not os.path.lexists(f"{RUN_DIR}/{bad}")


@pytest.mark.parametrize("pid", ["0", "-3", "2147483647", "12abc"])
def test_pid_argument_stays_ips(netns_name, pid):
    # No engine to ask: one that knows a container "0..." would add a hint (test_engine_names).
    alone = {"DOCKER_HOST": "unix:///nonexistent.sock", "PATH": "/nonexistent"}
    assert (cli("attach", netns_name, pid, env=alone).triple()
            == ip_netns("attach", netns_name, pid).triple())
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_unknown_container(engine, netns_name):
    r = cli("attach", netns_name, f"{engine.name}:pynetns-test-nope")
    assert r.triple() == (1, b"", f'{engine.name}: no such container '
                                   f'"pynetns-test-nope"\n'.encode())
    # A bare word no engine knows is what ip says it is: not a PID.
    assert (cli("attach", netns_name, "pynetns-test-nope").triple()
            == ip_netns("attach", netns_name, "pynetns-test-nope").triple())
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_bare_name_known_to_both_engines(docker, podman, netns_name):
    c = docker.start("both")
    podman.start(name=c, network="none")
    r = cli("attach", netns_name, c)
    assert r.rc == 1 and r.out == b""
    assert r.err.count(b"\n") == 1
    for text in (b"docker (", b"podman (", f"docker:{c} or podman:{c}".encode()):
        assert text in r.err
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def _one_line_error(r, *texts):
    assert r.rc == 1 and r.out == b"" and r.err.count(b"\n") == 1, r
    assert b"Traceback" not in r.err
    for t in texts:
        assert t.encode() in r.err, r


def test_docker_unreachable(netns_name):
    with tempfile.TemporaryDirectory() as d:
        down = socket.socket(socket.AF_UNIX)  # bound, never listening: a daemon that is down
        down.bind(f"{d}/docker.sock")
        try:
            for host, reason in ((f"unix://{d}/none.sock", "No such file or directory"),
                                 (f"unix://{d}/docker.sock", "Connection refused")):
                r = cli("attach", netns_name, "docker:web", env={"DOCKER_HOST": host})
                _one_line_error(r, f"docker: cannot connect to the Docker daemon at {host}",
                                reason)
        finally:
            down.close()
    r = cli("attach", netns_name, "docker:web", env={"DOCKER_HOST": "tcp://127.0.0.1:2375"})
    _one_line_error(r, "only a local unix:// socket")
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_podman_missing(netns_name):
    r = cli("attach", netns_name, "podman:web", env={"PATH": "/nonexistent"})
    _one_line_error(r, "podman: not installed")
    r = cli("attach", netns_name, "podman:web",
            env={"CONTAINER_HOST": "unix:///nonexistent/podman.sock"})
    _one_line_error(r, "podman: ", "/nonexistent/podman.sock")
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_no_engine_at_all_keeps_ips_message(netns_name):
    r = cli("attach", netns_name, "web",
            env={"PATH": "/nonexistent", "DOCKER_HOST": "unix:///nonexistent.sock"})
    assert r.triple() == (1, b"", b"Invalid PID: web\n")


def test_existing_name(docker, netns_name):
    c = docker.start("taken")
    assert cli("add", netns_name).rc == 0
    for extra in ((), ("--symlink",)):
        r = cli("attach", *extra, netns_name, f"docker:{c}")
        assert r.triple() == (1, b"", f'Cannot create namespace file "{RUN_DIR}/{netns_name}": '
                                      "File exists\n".encode())


def test_pid_with_pynetns_options(netns_name):
    """A PID with --symlink: pinned and checked like a container's process."""
    sleeper = subprocess.Popen(["unshare", "-n", "sleep", "60"])
    try:
        want = f"/proc/{sleeper.pid}/ns/net"
        for _ in range(100):  # until unshare has made its namespace
            if identity(want) != identity("/proc/self/ns/net"):
                break
            time.sleep(0.01)
        assert cli("attach", "--symlink", netns_name, str(sleeper.pid)).triple() == (0, b"", b"")
        assert os.readlink(f"{RUN_DIR}/{netns_name}") == want
        assert identity(f"{RUN_DIR}/{netns_name}") == identity(want)
        other = netns_name.another()
        assert cli("attach", "--force", other, str(sleeper.pid)).triple() == (0, b"", b"")
        assert is_mount(f"{RUN_DIR}/{other}") and identity(f"{RUN_DIR}/{other}") == identity(want)
    finally:
        sleeper.kill()
        sleeper.wait()
    r = cli("attach", "--symlink", netns_name.another(), str(sleeper.pid))
    assert r.rc == 1 and b"No such process" in r.err


def test_podman_through_container_host(podman, netns_name, tmp_path):
    """With CONTAINER_HOST, Podman is asked through its API socket (its CLI's remote mode)."""
    c = podman.start("remote", network="none")
    sock = tmp_path / "podman.sock"
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"])
    try:
        for _ in range(200):
            if sock.is_socket():
                break
            time.sleep(0.05)
        r = cli("attach", netns_name, f"podman:{c}", env={"CONTAINER_HOST": f"unix://{sock}"})
        assert r.triple() == (0, b"", b"")
        assert identity(f"{RUN_DIR}/{netns_name}") == identity(f"/proc/{podman.pid(c)}/ns/net")
    finally:
        service.terminate()
        service.wait()
