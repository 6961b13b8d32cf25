"""Names that mean two things: an all-digit word that is ip's PID and an engine's container,
and a container name that Docker and Podman both have (attach --all-containers)."""
import json
import os
import secrets
import time

import pytest

from conftest import RUN_DIR, ip_netns

from .support import cli, identity

pytestmark = pytest.mark.engine


def _digits():
    """An all-digit container name that ip reads as a PID (a C int) no process can have
    (above the kernel's PID_MAX_LIMIT)."""
    return str(100_000_000 + secrets.randbelow(2_000_000_000))


def test_all_digit_container_keeps_ips_pid_meaning_with_a_hint(docker, podman, netns_name):
    only_docker, both = _digits(), _digits()
    docker.start(name=only_docker)
    docker.start(name=both)
    podman.start(name=both, network="none")
    for word, specs in ((only_docker, f"docker:{only_docker}"),
                        (both, f"docker:{both} or podman:{both}")):
        for extra in ((), ("--symlink",)):
            ips = ip_netns("attach", netns_name, word) if not extra else None
            r = cli("attach", *extra, netns_name, word)
            assert r.rc == 1 and r.out == b"", r
            line = r.err.decode()
            assert line.endswith(f" (did you mean {specs}?)\n"), line
            if ips is not None:  # ip's own line, then the hint
                assert line.startswith(ips.err.decode().rstrip("\n")), (line, ips)
            assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")
    # The PID meaning stays: a live PID is attached as ip does, with nothing said.
    assert cli("attach", netns_name, str(os.getpid())).triple() == (0, b"", b"")
    assert identity(f"{RUN_DIR}/{netns_name}") == identity("/proc/self/ns/net")


def test_no_hint_without_a_container(netns_name):
    word = _digits()
    want = ip_netns("attach", netns_name, word).triple()
    assert cli("attach", netns_name, word).triple() == want
    assert cli("attach", netns_name, "0").triple()[:2] == (1, b"")


def test_the_pid_path_does_not_wait_for_engines(netns_name):
    """A daemon that accepts and never answers costs a failing PID attach at most the
    hint's deadline, and a working one nothing at all."""
    import socket
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        hung = socket.socket(socket.AF_UNIX)
        hung.bind(f"{d}/docker.sock")
        hung.listen(4)
        try:
            env = {"DOCKER_HOST": f"unix://{d}/docker.sock", "PATH": "/nonexistent:/usr/bin"}
            start = time.monotonic()
            r = cli("attach", netns_name, _digits(), env={**env, "PATH": "/nonexistent"})
            assert r.rc == 1 and b"did you mean" not in r.err, r
            assert time.monotonic() - start < 5  # the request's own deadline is 30 s
        finally:
            hung.close()


def test_a_name_in_both_engines_gets_engine_prefixed_entries(docker, podman, private):
    name = f"pynetns-test-clash{secrets.token_hex(4)}"
    docker.start(name=name)
    podman.start(name=name, network="none")
    for action in ("attached", "unchanged"):
        r = private("-j", "attach", "--all-containers")
        assert r.rc in (0, 1), r  # other containers of the machine may fail to be named
        ours = [o for o in json.loads(r.out) if o["name"] == name]
        assert [(o["engine"], o["entry"], o["action"], o["clash"]) for o in ours] == [
            ("docker", f"docker:{name}", action, ["docker", "podman"]),
            ("podman", f"podman:{name}", action, ["docker", "podman"])]
        lines = [ln for ln in r.err.decode().splitlines() if name in ln]
        assert lines == [f'"{name}" is a container in docker and podman: named '
                         f"docker:{name} and podman:{name}"], r.err
    for engine in (docker, podman):
        assert identity(private.path(f"{engine.name}:{name}")) == identity(
            f"/proc/{engine.pid(name)}/ns/net")
    assert not os.path.lexists(private.path(name))
    table = private("attach", "--all-containers").out.decode().splitlines()
    assert [ln.split()[:3] for ln in table if name in ln] == [
        ["unchanged", f"docker:{name}", "docker"], ["unchanged", f"podman:{name}", "podman"]]


def test_a_name_like_an_option_is_a_name(podman, netns_name):
    """podman:--help asks podman about a container "--help", not for its help text."""
    podman.start("opt")  # so that the engine is up and answering
    for args, rc in ((["attach", netns_name, "podman:--help"], 1),
                     (["exec", "podman:--help", "true"], 255)):
        assert cli(*args).triple() == (rc, b"", b'podman: no such container "--help"\n'), args
