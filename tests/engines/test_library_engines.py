"""The library with a real Docker: pynetns.attach from docker:NAME, an ID and a bare name,
describe() naming the owner, and the container errors as exported classes."""
import os

import pytest

import pynetns
from conftest import RUN_DIR

from .support import cli, identity, is_mount

pytestmark = pytest.mark.engine


def test_attach_containers(docker, netns_name):
    c = docker.start("lib")
    pid, cid = docker.pid(c), docker.id(c)
    want = identity(f"/proc/{pid}/ns/net")
    names = [netns_name, netns_name.another(), netns_name.another(), netns_name.another()]
    for name, source, symlink in ((names[0], f"docker:{c}", False), (names[1], c, False),
                                  (names[2], f"docker:{cid[:12]}", False),
                                  (names[3], f"docker:{c}", True)):
        done = pynetns.attach(name, source, symlink=symlink)
        path = f"{RUN_DIR}/{name}"
        assert (done.name, done.path, done.symlink) == (name, path, symlink)
        assert (done.container.engine, done.container.name, done.container.id) == \
            ("docker", c, cid)
        assert identity(path) == want and is_mount(path) != symlink
        with pynetns.open(name) as h:
            assert h.identity == want
    rows, errors = pynetns.describe([e for e in pynetns.entries() if e.name in names])
    assert sorted((r["name"], r["container"]["engine"], r["container"]["name"], r["stale"])
                  for r in rows) == sorted((n, "docker", c, None) for n in names)
    assert all(isinstance(e, pynetns.ContainerError) for e in errors)
    docker.stop(c)
    rows, _ = pynetns.describe([e for e in pynetns.entries() if e.name == names[0]])
    assert rows[0]["stale"] == "container exited"
    assert cli("list", "-d").rc == 0


def test_container_errors_are_exported(docker, netns_name):
    missing = netns_name + "-none"
    with pytest.raises(pynetns.NoSuchContainer) as e:
        pynetns.attach(netns_name, f"docker:{missing}")
    assert missing in str(e.value)
    c = docker.start("stopped")
    docker.stop(c)
    with pytest.raises(pynetns.ContainerError):
        pynetns.attach(netns_name, f"docker:{c}")
    with pytest.raises(pynetns.InvalidPid):  # a bare word no engine knows: ip's message
        pynetns.attach(netns_name, missing)
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")
