"""A hostile or broken Podman (a fake `podman` script on PATH): its answers are checked as
Docker's are, within one deadline and a size cap; a rootless container is said to be one."""
import json
import os
import socket
import subprocess
import time

import pytest

from conftest import PYNETNS, RUN_DIR, Result

ID = "cd" * 32


def pynetns(*args, env, timeout=30):
    proc = subprocess.run([PYNETNS, *args], capture_output=True, timeout=timeout,
                          env=dict(os.environ, **env))
    return Result(proc)


@pytest.fixture
def fake_podman(tmp_path):
    """make(script body) → env whose PATH has only a `podman` running that shell code."""
    def make(body):
        (tmp_path / "podman").write_text(f"#!/bin/sh\n{body}\n")
        (tmp_path / "podman").chmod(0o755)
        return {"PATH": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    return make


def answering(tmp_path, data):
    (tmp_path / "answer.json").write_text(json.dumps(data))
    return f"exec /bin/cat {tmp_path}/answer.json"


def inspect_data(pid, cid=ID, name="web"):
    return [{"Id": cid, "Name": name, "State": {"Pid": pid, "Status": "running"},
             "HostConfig": {"NetworkMode": "bridge"}, "NetworkSettings": {"SandboxKey": ""}}]


def one_line(r, rc=1):
    assert r.rc == rc and r.out == b"" and r.err.count(b"\n") == 1, r
    assert b"Traceback" not in r.err
    return r.err.decode()


@pytest.mark.parametrize("answer, problem", [
    ({"Id": ID}, "inspect printed an object, not a list"),
    (["web"], "the container is a string, not an object"),
    ([[inspect_data(5)[0]]], "the container is a list, not an object"),
    ("web", "inspect printed a string, not a list"),
    ([], "0 containers for 'web'"),
    (inspect_data(5) * 2, "2 containers for 'web'"),
    (inspect_data(1, cid="/"), "Id a string '/' is not 64 hex digits"),
    (inspect_data("1"), "State.Pid is a string '1', not a PID"),
])
def test_malformed_answers_are_one_line(fake_podman, tmp_path, netns_name, answer, problem):
    env = fake_podman(answering(tmp_path, answer))
    for args, rc in ((["attach", netns_name, "podman:web"], 1),
                     (["attach", netns_name, "web"], 1),
                     (["exec", "--pid", "podman:web", "true"], 255)):
        assert one_line(pynetns(*args, env=env), rc) == f"podman: malformed answer: {problem}\n"
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_an_answer_nested_too_deeply_is_one_line(fake_podman, tmp_path, netns_name):
    """[[[[… deeper than Python's recursion limit: malformed, not a RecursionError."""
    (tmp_path / "answer.json").write_text("[" * 100_000 + "]" * 100_000)
    env = fake_podman(f"exec /bin/cat {tmp_path}/answer.json")
    for args, rc in ((["attach", netns_name, "podman:web"], 1),
                     (["exec", "podman:web", "true"], 255),
                     (["exec", "--pid", "podman:web", "true"], 255)):
        assert one_line(pynetns(*args, env=env), rc) == \
            "podman: malformed answer: inspect printed no JSON, not a list\n"
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_a_host_process_is_not_the_container(fake_podman, tmp_path, netns_name):
    env = fake_podman(answering(tmp_path, inspect_data(os.getpid())))
    err = one_line(pynetns("attach", netns_name, "podman:web", env=env))
    assert err.startswith(f'podman container "web": process {os.getpid()} is not in the '
                          "container's cgroup")
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_one_deadline_and_a_size_cap(fake_podman, tmp_path, netns_name):
    env = fake_podman("while :; do echo '['; /bin/sleep 0.5; done")
    start = time.monotonic()
    r = pynetns("attach", netns_name, "podman:web", env={**env, "PYNETNS_ENGINE_TIMEOUT": "2"},
                timeout=10)
    assert time.monotonic() - start < 5
    assert one_line(r) == "podman: no complete answer within 2 s\n"
    env = fake_podman("exec /usr/bin/head -c 300M /dev/zero")
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", PYNETNS, "attach", netns_name,
                           "podman:web"], capture_output=True, timeout=60,
                          env=dict(os.environ, **env))
    message, _, max_rss_kib = proc.stderr.decode().splitlines()
    assert (proc.returncode, message) == (1, "podman: its answer is larger than 16 MiB")
    assert int(max_rss_kib) < 80 * 1024


@pytest.fixture
def in_a_user_namespace():
    """A process in a user namespace of its own, as a rootless container's process is."""
    proc = subprocess.Popen(["unshare", "-U", "-n", "sleep", "60"])
    try:
        for _ in range(500):
            if os.readlink(f"/proc/{proc.pid}/ns/user") != os.readlink("/proc/self/ns/user"):
                break
            time.sleep(0.01)
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_a_rootless_container_is_said_to_be_one(fake_podman, tmp_path, netns_name,
                                                 in_a_user_namespace):
    """Podman asked through a user's socket (CONTAINER_HOST) about a rootless container: its
    process is alive but its cgroup cannot prove it is the container's."""
    pid = in_a_user_namespace
    env = fake_podman(answering(tmp_path, inspect_data(pid)))
    env["CONTAINER_HOST"] = f"unix://{tmp_path}/podman.sock"
    err = one_line(pynetns("attach", netns_name, "podman:web", env=env))
    assert err == (f'podman container "web": its process {pid} is in another user namespace '
                   "(a rootless container?), where its cgroup does not name the container: "
                   "its identity cannot be proved that way, so it is not used (a rootless "
                   "Podman container is podman:USER@NAME)\n")
    assert "gone" not in err


def test_a_name_in_one_engine_with_the_other_down(fake_podman, tmp_path, netns_name):
    """podman knows "web", docker does not answer: it may know a "web" too, so no guess."""
    env = fake_podman(answering(tmp_path, inspect_data(os.getpid())))
    down = socket.socket(socket.AF_UNIX)  # bound, never listening: a daemon that is down
    down.bind(f"{tmp_path}/docker.sock")
    try:
        env["DOCKER_HOST"] = f"unix://{tmp_path}/docker.sock"
        err = one_line(pynetns("attach", netns_name, "web", env=env))
        assert err == (f'"web" is podman container "web", but docker: cannot connect to the '
                       f"Docker daemon at unix://{tmp_path}/docker.sock: Connection refused: "
                       'it may know "web" too; say podman:web to use the podman one\n')
    finally:
        down.close()
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_containers_gone_between_ps_and_inspect(fake_podman, netns_name):
    """podman ps names a container that inspect no longer knows: nothing is running, not an
    error (found by the inventory work on a busy machine)."""
    env = fake_podman(f'case "$1" in ps) echo {ID};; *) echo "Error: no such container {ID}" >&2;'
                      " exit 125;; esac")
    r = pynetns("attach", "--all-containers", env=env)
    assert (r.rc, r.out, b"Traceback" in r.err) == (0, b"", False), r
    r = pynetns("-d", "list", env=env)
    assert r.rc == 0 and b"Traceback" not in r.err, r
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_an_engine_name_with_control_characters_never_becomes_an_entry(fake_podman, tmp_path):
    name = "web\x1b[31m\nremoved x"
    data = inspect_data(os.getpid(), name=name)
    (tmp_path / "answer.json").write_text(json.dumps(data))
    env = fake_podman(f'case "$1" in ps) echo {ID};; *) exec /bin/cat {tmp_path}/answer.json;;'
                      " esac")
    r = pynetns("attach", "--all-containers", env=env)
    assert r.rc == 1 and b"Traceback" not in r.err, r
    assert r.out.count(b"\n") == 1 and b"\x1b" not in r.out, r
    assert b'"web\\x1b[31m\\x0aremoved x" is not a valid netns name' in r.out, r
    assert not os.path.lexists(f"{RUN_DIR}/{name}")
