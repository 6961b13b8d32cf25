"""exec docker:C / podman:C CMD (without --pid): the container's network namespace, pinned
and proved as attach does; docker:/C (the form docker prints in .Name) wherever docker:C
works."""
import os

import pytest

from conftest import RUN_DIR

from .support import cli, etc_netns_file, identity

pytestmark = pytest.mark.engine

READ_NS = ("sh", "-c", "readlink /proc/self/ns/net /proc/self/ns/pid")


def _ns_of(pid):
    return [os.readlink(f"/proc/{pid}/ns/net"), os.readlink("/proc/self/ns/pid")]


def test_enters_the_containers_network_namespace_only(engine):
    c = engine.start("exec")
    want = _ns_of(engine.pid(c))
    for target in (f"{engine.name}:{c}", f"{engine.name}:/{c}",
                   f"{engine.name}:{engine.id(c)[:12]}"):
        r = cli("exec", target, *READ_NS)
        assert r.triple() == (0, "\n".join(want).encode() + b"\n", b""), (target, r)
    links = cli("exec", f"{engine.name}:{c}", "ls", "/sys/class/net").out.split()
    assert b"lo" in links and b"docker0" not in links  # /sys is the container's, as exec NAME
    assert cli("exec", f"{engine.name}:{c}", "sh", "-c", "exit 7").rc == 7
    assert cli("-netns", f"{engine.name}:/{c}", "identify").rc == 0


def test_etc_netns_files_of_the_containers_name(docker):
    c = docker.start("etc")
    with etc_netns_file(c, "hosts", "192.0.2.7 only-in-the-container\n"):
        for pid in ((), ("--pid",)):  # exec --pid binds the same files
            r = cli("exec", *pid, f"docker:{c}", "cat", "/etc/hosts")
            assert r.triple() == (0, b"192.0.2.7 only-in-the-container\n", b""), (pid, r)


def test_refusals_are_attachs(docker, netns_name):
    c = docker.start("stopped")
    docker.stop(c)
    assert cli("exec", f"docker:{c}", "true").triple() == (
        255, b"", f'docker container "{c}" is not running (status: exited)\n'.encode())
    host = docker.start("host", network="host")
    r = cli("exec", f"docker:{host}", "true")
    assert r.rc == 255 and r.out == b"" and b"runs with --network host" in r.err, r
    assert cli("exec", "--force", f"docker:{host}", "true").triple() == (0, b"", b"")
    assert cli("exec", "docker:pynetns-test-nope", "true").triple() == (
        255, b"", b'docker: no such container "pynetns-test-nope"\n')
    assert not os.path.lexists(f"{RUN_DIR}/docker:{c}")


def test_shared_namespace_is_the_owners_with_a_note(docker):
    owner = docker.start("owner")
    guest = docker.start("guest", network=f"container:{owner}")
    r = cli("exec", f"docker:{guest}", "readlink", "/proc/self/ns/net")
    assert r.rc == 0 and r.out.decode().strip() == os.readlink(
        f"/proc/{docker.pid(owner)}/ns/net")
    assert r.err == (f'docker container "{guest}" uses the network namespace of docker '
                     f'container "{owner}" (--network container:{owner}): using that one\n'
                     ).encode()


def test_slash_name_wherever_docker_name_works(docker, netns_name):
    c = docker.start("slash")
    name = docker.inspect(c)["Name"]
    assert name == f"/{c}"
    assert cli("attach", netns_name, f"docker:{name}").triple() == (0, b"", b"")
    assert identity(f"{RUN_DIR}/{netns_name}") == identity(f"/proc/{docker.pid(c)}/ns/net")
    r = cli("exec", "--pid", f"docker:{name}", "ps", "-o", "pid=")
    assert r.rc == 0 and r.out.split()[0] == b"1", r
    assert cli("exec", "docker:/", "true").triple() == (255, b"", b"docker: no container named\n")
    for ref in ("..", "a/../../json"):  # Docker would redirect these paths (HTTP 301)
        assert cli("attach", netns_name, f"docker:{ref}").triple() == (
            1, b"", f'docker: no such container "{ref}"\n'.encode())


def test_in_a_batch_and_from_the_library(docker, tmp_path):
    c = docker.start("batch")
    want = f"{identity(f'/proc/{docker.pid(c)}/ns/net')[1]}\n".encode()
    batch = tmp_path / "lines"
    batch.write_text(f"exec docker:{c} stat -L -c %i /proc/self/ns/net\n"
                     f"exec docker:/{c} stat -L -c %i /proc/self/ns/net\n")
    assert cli("-batch", str(batch)).triple() == (0, want * 2, b"")
    import pynetns
    assert pynetns.exec_in(f"docker:{c}", ["sh", "-c", "exit 4"]) == 4
