"""A hostile or broken Docker daemon (a fake of its Engine API on a unix socket): whatever it
answers, pynetns names no namespace it cannot prove is the container's, never the host's
without --force, says in one line what was wrong, and gives up by one deadline."""
import os
import socket
import subprocess
import time

import pytest

from conftest import PYNETNS, RUN_DIR, Result, in_private_run_dir, unique
from fakeengine import FakeEngine

ID = "ab" * 32
NO_PODMAN = "/nonexistent"  # PATH without podman: only the fake Docker is asked


class FakeDocker(FakeEngine):
    """A Docker daemon's socket in ``directory`` (see FakeEngine for ``routes``), the only
    engine pynetns asks under ``env``."""

    def __init__(self, directory, routes):
        super().__init__(f"{directory}/docker.sock", routes)

    @property
    def env(self):
        return {"DOCKER_HOST": f"unix://{self.path}", "PATH": NO_PODMAN}


@pytest.fixture
def fake(tmp_path):
    made = []

    def make(routes):
        made.append(FakeDocker(tmp_path, routes))
        return made[-1]

    yield make
    for f in made:
        f.close()


def pynetns(*args, env, timeout=30):
    proc = subprocess.run([PYNETNS, *args], capture_output=True, timeout=timeout,
                          env=dict(os.environ, **env))
    return Result(proc)


def inspect_data(pid, cid=ID, key="", name="web", mode="bridge"):
    return {"Id": cid, "Name": f"/{name}",
            "State": {"Pid": pid, "Status": "running", "Paused": False},
            "HostConfig": {"NetworkMode": mode}, "NetworkSettings": {"SandboxKey": key}}


def one_line(r, rc=1):
    assert r.rc == rc and r.out == b"" and r.err.count(b"\n") == 1, r
    assert b"Traceback" not in r.err
    return r.err.decode()


@pytest.mark.parametrize("cid", [ID, "", "/"])
@pytest.mark.parametrize("pid", [1, os.getpid()])
def test_a_hostile_engine_does_not_get_the_hosts_namespace_named(fake, netns_name, cid, pid):
    """A host PID with its namespace as SandboxKey, and IDs that any cgroup path contains."""
    body = inspect_data(pid, cid, key=f"/proc/{pid}/ns/net")
    f = fake({"/containers/web/json": (200, body)})
    for args, rc in ((["attach", netns_name, "docker:web"], 1),
                     (["exec", "--pid", "docker:web", "true"], 255)):
        err = one_line(pynetns(*args, env=f.env), rc)
        if cid != ID:
            assert err == f"docker: malformed answer: Id a string {cid!r} is not 64 hex digits\n"
        elif pid == 1:  # whether this (sandboxed) root may open PID 1's namespaces or not
            assert "process 1 is not in the container's cgroup" in err \
                or "cannot open the namespaces of its process 1" in err, err
        else:
            assert err.startswith(f'docker container "web": process {pid} is not in the '
                                  "container's cgroup: it is not the container's process")
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


@pytest.fixture
def host_process_in_a_container_cgroup():
    """A process of the host's namespaces in a cgroup named like a container (an ID as a
    path component): it passes the cgroup proof, and is still the host."""
    group = f"/sys/fs/cgroup/pids/{unique('cgroup')}/{ID}"
    os.makedirs(group)
    proc = subprocess.Popen(["sleep", "60"])
    try:
        with open(f"{group}/cgroup.procs", "w") as f:
            f.write(str(proc.pid))
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()
        for _ in range(500):
            try:
                os.rmdir(group)
                break
            except OSError:  # EBUSY until the killed process is gone from it
                time.sleep(0.01)
        os.rmdir(os.path.dirname(group))


def test_the_hosts_namespace_needs_force(fake, netns_name, host_process_in_a_container_cgroup):
    pid = host_process_in_a_container_cgroup
    f = fake({"/containers/web/json": (200, inspect_data(pid))})
    err = one_line(pynetns("attach", netns_name, "docker:web", env=f.env))
    assert err == ('docker container "web": its network namespace is the host\'s (that of '
                   "this process); use --force to use it anyway\n")
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")
    assert pynetns("attach", "--force", netns_name, "docker:web", env=f.env).triple() == \
        (0, b"", b"")
    assert os.stat(f"{RUN_DIR}/{netns_name}").st_ino == os.stat("/proc/self/ns/net").st_ino
    err = one_line(pynetns("exec", "--pid", "docker:web", "true", env=f.env), rc=255)
    assert "namespace is the host's" in err


@pytest.mark.parametrize("body, problem", [
    (inspect_data("12"), "State.Pid is a string '12', not a PID"),
    (inspect_data(1.5), "State.Pid is a number 1.5, not a PID"),
    (inspect_data(2**70), "State.Pid is a number 1180591620717411303424, not a PID"),
    (inspect_data(True), "State.Pid is a boolean true, not a PID"),
    ({k: v for k, v in inspect_data(5).items() if k != "Id"}, "Id is missing"),
    ([inspect_data(5)], "the container is a list, not an object"),
    ("web", "the container is a string, not an object"),
    (None, "the container is null, not an object"),
    ({**inspect_data(5), "State": [5]}, "State is a list, not an object"),
    ({**inspect_data(5), "Name": 7}, "Name is a number, not a string"),
    ({**inspect_data(5), "NetworkSettings": {"SandboxKey": ["x"]}},
     "NetworkSettings.SandboxKey is a list, not a string"),
])
def test_malformed_inspect_is_one_line(fake, netns_name, body, problem):
    f = fake({"/containers/web/json": (200, body)})
    for args, rc in ((["attach", netns_name, "docker:web"], 1),
                     (["exec", "--pid", "docker:web", "true"], 255)):
        assert one_line(pynetns(*args, env=f.env), rc) == f"docker: malformed answer: {problem}\n"
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_an_answer_about_another_container_is_refused(fake, netns_name):
    f = fake({"/containers/web/json": (200, inspect_data(5, name="db"))})
    err = one_line(pynetns("attach", netns_name, "docker:web", env=f.env))
    assert err == f"docker: asked about 'web', it answered about container {ID[:12]} ('db')\n"


@pytest.mark.parametrize("listing, problem", [
    ({"Id": ID}, "the container list is an object, not a list"),
    ("x", "the container list is a string, not a list"),
    ([{"Id": ""}], "an item of the container list has no valid Id"),
    ([ID], "an item of the container list has no valid Id"),
])
def test_malformed_listing_is_one_line(fake, listing, problem):
    """attach --all-containers and -d list, in a private /run/netns."""
    f = fake({"/containers/json": (200, listing)})
    env = " ".join(f"{k}={v}" for k, v in f.env.items())
    r = in_private_run_dir(f'{env} "$PYNETNS" attach --all-containers || echo "rc=$?"\n'
                           f'"$PYNETNS" add one\n{env} "$PYNETNS" -d list >/dev/null\n')
    assert r.rc == 0 and b"Traceback" not in r.err, r
    assert r.err.decode().splitlines() == [
        f"no container engine answers: docker: malformed answer: {problem}; "
        "podman: not installed (no podman in PATH)",
        f"warning: docker: malformed answer: {problem}"]
    assert r.out == b"rc=1\n"


def _trickle(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{")
    for _ in range(40):
        time.sleep(0.5)
        conn.sendall(b" ")


def test_one_deadline_for_the_whole_request(fake, netns_name):
    """A byte every 0.5 s keeps each read short: the deadline is for the whole answer."""
    f = fake({"/containers/web/json": _trickle})
    start = time.monotonic()
    r = pynetns("attach", netns_name, "docker:web", env={**f.env, "PYNETNS_ENGINE_TIMEOUT": "2"},
                timeout=10)
    assert time.monotonic() - start < 5
    assert one_line(r) == f"docker: no complete answer from unix://{f.path} within 2 s\n"


HUGE = 256 << 20


def _huge(conn):
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {HUGE}\r\n\r\n".encode())
    block = b" " * (1 << 20)
    for _ in range(HUGE >> 20):
        conn.sendall(block)


def test_a_huge_answer_is_cut_off(fake, netns_name):
    f = fake({"/containers/web/json": _huge})
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", PYNETNS, "attach", netns_name,
                           "docker:web"], capture_output=True, timeout=60,
                          env=dict(os.environ, **f.env))
    message, status, max_rss_kib = proc.stderr.decode().splitlines()
    assert (proc.returncode, status) == (1, "Command exited with non-zero status 1")
    assert message == f"docker: the answer from unix://{f.path} is larger than 16 MiB"
    assert int(max_rss_kib) < 80 * 1024


def test_docker_unreachable_is_said(tmp_path, netns_name):
    """A bare name with the Docker daemon down: its error, not ip's "Invalid PID"."""
    down = socket.socket(socket.AF_UNIX)  # bound, never listening
    down.bind(f"{tmp_path}/docker.sock")
    try:
        env = {"DOCKER_HOST": f"unix://{tmp_path}/docker.sock", "PATH": NO_PODMAN}
        assert one_line(pynetns("attach", netns_name, "web", env=env)) == (
            f"docker: cannot connect to the Docker daemon at unix://{tmp_path}/docker.sock: "
            "Connection refused\n")
    finally:
        down.close()
