"""Containers that are not simply running: stopped, paused, restarted, sharing a namespace,
on the host's network; and a PID that is no longer the container's."""
import os
import subprocess

import pytest

from conftest import RUN_DIR

from .support import LABEL, cli, identity

pytestmark = pytest.mark.engine


def _refused(r, name, *texts):
    assert r.rc == 1 and r.out == b"" and r.err.count(b"\n") == 1, r
    for t in texts:
        assert t.encode() in r.err, r
    assert not os.path.lexists(f"{RUN_DIR}/{name}")


def test_stopped(engine, netns_name):
    c = engine.start("stopped")
    engine.stop(c)
    engine("create", "--label", LABEL, "--name", c + "-new", engine.image, "sleep", "1")
    engine.made.append(c + "-new")
    for ref, status in ((c, "exited"), (c + "-new", "created")):
        for extra in ((), ("--symlink",)):
            r = cli("attach", *extra, netns_name, f"{engine.name}:{ref}")
            _refused(r, netns_name, f'{engine.name} container "{ref}" is not running',
                     f"(status: {status})")


def test_paused(engine, netns_name):
    c = engine.start("paused")
    engine("pause", c)
    try:
        r = cli("attach", netns_name, f"{engine.name}:{c}")
        assert r.rc == 0 and r.out == b"", r
        assert r.err == f'{engine.name} container "{c}" is paused: its network namespace is ' \
                        "there all the same\n".encode()
        assert identity(f"{RUN_DIR}/{netns_name}") == identity(f"/proc/{engine.pid(c)}/ns/net")
    finally:
        engine("unpause", c)


def test_restarted_keeps_the_old_namespace_and_is_marked_stale(engine, netns_name):
    c = engine.start("restart")
    old = identity(f"/proc/{engine.pid(c)}/ns/net")
    assert cli("attach", netns_name, f"{engine.name}:{c}").rc == 0
    engine("restart", "-t", "0", c)
    assert identity(f"/proc/{engine.pid(c)}/ns/net") != old
    assert identity(f"{RUN_DIR}/{netns_name}") == old  # the bind mount pins it
    line = [ln for ln in cli("list", "-d").out.decode().splitlines()
            if ln.split()[0] == netns_name]
    assert line and line[0].endswith("stale: container restarted with a new namespace")


def test_host_network(engine, netns_name):
    c = engine.start("host", network="host")
    r = cli("attach", netns_name, f"{engine.name}:{c}")
    _refused(r, netns_name, "runs with --network host", "--force")
    r = cli("attach", "--force", netns_name, f"{engine.name}:{c}")
    assert r.triple() == (0, b"", b"")
    assert identity(f"{RUN_DIR}/{netns_name}") == identity(engine.host_netns)


def test_container_network(engine, netns_name):
    owner = engine.start("owner")
    guest = engine.start("guest", network=f"container:{owner}")
    r = cli("attach", netns_name, f"{engine.name}:{guest}")
    assert r.rc == 0 and r.out == b""
    assert r.err == (f'{engine.name} container "{guest}" uses the network namespace of '
                     f'{engine.name} container "{owner}" (--network container:{owner}): '
                     "using that one\n").encode()
    assert identity(f"{RUN_DIR}/{netns_name}") == identity(f"/proc/{engine.pid(owner)}/ns/net")
    engine.stop(owner)
    r = cli("attach", netns_name.another(), f"{engine.name}:{guest}")
    assert r.rc == 1 and b"is not running" in r.err


def test_a_pid_that_is_not_the_containers_is_refused(engine):
    """The check attach makes after pinning the PID: a reused PID (here: another process)
    fails whether the container has a namespace file to compare with or not."""
    from pynetns import containers
    from pynetns.errors import ContainerError
    c = containers.inspect(engine.name, engine.start("reuse"))
    stranger = subprocess.Popen(["unshare", "-n", "sleep", "60"])
    try:
        for key in (c.sandbox_key, ""):
            c.pid, c.sandbox_key = stranger.pid, key
            with pytest.raises(ContainerError, match="is not the container's process"):
                containers.pin(c)
    finally:
        stranger.kill()
        stranger.wait()
    with containers.pin(containers.inspect(engine.name, c.id)) as pinned:
        assert pinned.alive()
