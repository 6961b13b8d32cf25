"""Rootless Podman (pynetns/rootless.py) against a real one: a test user made by
scripts/rootless.sh, its pause process, slirp4netns, rootless bridge and none networks.
As root, `podman:USER@NAME`; as the user, `podman:NAME` (the user's namespace first, as
nsenter -U does). Also a hostile answer from the user's podman (a fake one on PATH, run as
the user): one line, never the host's namespace."""
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import PYNETNS, ROOT, RUN_DIR, Result, unique

from .support import cli, identity, require

pytestmark = pytest.mark.engine

SCRIPT = str(ROOT / "scripts" / "rootless.sh")
IMAGE = "localhost/" + os.environ.get("PYNETNS_TEST_IMAGE", "pynetns-busybox:latest")
PS = ("ps", "-e", "-o", "pid=,args=")


class User:
    """The test user: its podman, and pynetns run as that user."""

    def __init__(self, name):
        self.name = name
        self.uid = int(subprocess.check_output(["id", "-u", name]))
        self.runtime = f"/run/user/{self.uid}"
        self.made = []
        self.tool = [PYNETNS]
        if self.run(PYNETNS, "-V").rc != 0:
            # The venv's python may be where the user cannot reach (a pyenv under /root):
            # the system's python3 then runs the very same package.
            import pynetns
            self.tool = ["/usr/bin/env", f"PYTHONPATH={os.path.dirname(pynetns.__path__[0])}",
                         "/usr/bin/python3", "-m", "pynetns"]

    def run(self, *argv, env=(), timeout=60):
        proc = subprocess.run(["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}",
                               "--init-groups", "--reset-env", "/usr/bin/env", "-C", "/",
                               f"XDG_RUNTIME_DIR={self.runtime}", *env, *argv],
                              capture_output=True, timeout=timeout)
        return Result(proc)

    def pynetns(self, *args):
        return self.run(*self.tool, *args)

    def podman(self, *args):
        r = self.run("podman", *args, timeout=120)
        assert r.rc == 0, (args, r)
        return r.out.decode().strip()

    def start(self, network="slirp4netns", cmd=("httpd", "-f", "-p", "8080")):
        name = unique("rl")
        self.made.append(name)
        self.podman("run", "-d", "--name", name, "--network", network, IMAGE, *cmd)
        if cmd[0] == "httpd":
            wait_listening(self.pid(name))
        return name

    def inspect(self, name):
        return json.loads(self.podman("inspect", "--type", "container", name))[0]

    def pid(self, name):
        return self.inspect(name)["State"]["Pid"]


def wait_listening(pid, port=8080):
    """Until something listens on ``port`` in the network namespace of process ``pid``."""
    want = f":{port:04X} "
    for _ in range(500):
        for table in ("tcp", "tcp6"):
            with open(f"/proc/{pid}/net/{table}") as f:
                if any(want in line and line.split()[3] == "0A" for line in f):
                    return
        time.sleep(0.01)
    raise AssertionError(f"nothing listens on {port} in the namespace of process {pid}")


@pytest.fixture(scope="module")
def user():
    require("podman")  # Podman itself, and the busybox tree the image is made from
    name = f"pynetns-{secrets.token_hex(4)}"
    up = subprocess.run([SCRIPT, "up", name], capture_output=True, timeout=300)
    try:
        if up.returncode != 0:
            why = (up.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
            message = f"scripts/rootless.sh up failed: {why}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        yield User(name)
    finally:
        down = subprocess.run([SCRIPT, "down", name], capture_output=True, timeout=120)
        assert down.returncode == 0, down.stderr
        assert subprocess.run(["id", name], capture_output=True).returncode != 0
        assert not os.path.exists(f"/home/{name}")


@pytest.fixture
def web(user):
    """A running httpd on port 8080 of the user's, with slirp4netns."""
    return user.start()


def _one_line(r, rc=255):
    assert r.rc == rc and r.out == b"" and r.err.count(b"\n") == 1, r
    assert b"Traceback" not in r.err
    return r.err.decode()


def _listens_on_8080(r):
    assert r.rc == 0 and r.err == b"", r
    lines = [ln for ln in r.out.decode().splitlines() if ":8080 " in ln]
    assert len(lines) == 1 and lines[0].startswith("LISTEN") and '"httpd"' in lines[0], r


def test_the_done_line(user, web):
    """`pynetns exec podman:dev@web ss -tlnp` as root; `pynetns exec podman:web ss -tlnp` as
    the user dev."""
    _listens_on_8080(cli("exec", f"podman:{user.name}@{web}", "ss", "-tlnp"))
    _listens_on_8080(user.pynetns("exec", f"podman:{web}", "ss", "-tlnp"))
    # root in the container's user namespace, the user itself on the host (as nsenter -U
    # --preserve-credentials): what it makes is the user's
    made = f"/tmp/{unique('made')}"
    try:
        r = user.pynetns("exec", f"podman:{web}", "sh", "-c", f"id -u; touch {made}")
        assert r.triple() == (0, b"0\n", b"") and os.stat(made).st_uid == user.uid, r
    finally:
        if os.path.exists(made):
            os.unlink(made)


@pytest.mark.parametrize("network, device", [("slirp4netns", "tap0"), ("bridge", "eth0"),
                                             ("none", None)])
def test_exec_as_root_and_as_the_user(user, network, device):
    c = user.start(network)
    pid = user.pid(c)
    want = {"lo", device} - {None}
    for r in (cli("exec", f"podman:{user.name}@{c}", "ls", "/sys/class/net"),
              user.pynetns("exec", f"podman:{c}", "ls", "/sys/class/net"),
              cli("exec", f"podman:{user.uid}@{c}", "ls", "/sys/class/net")):
        assert r.rc == 0 and r.err == b"" and set(r.out.decode().split()) == want, r
    r = cli("exec", f"podman:{user.name}@{c}", "readlink", "/proc/self/ns/net")
    assert r.out.decode().strip() == os.readlink(f"/proc/{pid}/ns/net")


def test_exec_pid_as_root_and_as_the_user(user):
    c = user.start(cmd=("sh", "-c", "sleep 1001 & exec sleep 1002"))
    for r in (cli("exec", "--pid", f"podman:{user.name}@{c}", *PS),
              user.pynetns("exec", "--pid", f"podman:{c}", *PS)):
        assert r.rc == 0 and r.err == b"", r
        procs = dict(line.split(None, 1) for line in r.out.decode().splitlines())
        assert procs["1"] == "sleep 1002"
        assert sorted(procs.values()) == sorted(["sleep 1002", "sleep 1001", " ".join(PS)])


def test_attach_as_root_and_list_d(user, web, netns_name):
    target = f"podman:{user.name}@{web}"
    pid = user.pid(web)
    assert cli("attach", netns_name, target).triple() == (0, b"", b"")
    assert identity(f"{RUN_DIR}/{netns_name}") == identity(f"/proc/{pid}/ns/net")
    row, = [r for r in json.loads(cli("list", "-d", "-j").out) if r["name"] == netns_name]
    cid = user.inspect(web)["Id"]
    assert row["container"] == {"engine": "podman", "name": f"{user.name}@{web}",
                                "id": f"{user.name}@{cid}"}
    assert row["stale"] is None and pid in row["pids"]
    line, = [ln for ln in cli("list", "-d").out.decode().splitlines() if netns_name in ln]
    assert line.split()[-2:] == [f"podman:{user.name}@{web}", "ok"]
    # restarted: a new process and namespace; the entry keeps the old one, marked stale
    user.podman("restart", "-t", "0", web)
    wait_listening(user.pid(web))
    row, = [r for r in json.loads(cli("list", "-d", "-j").out) if r["name"] == netns_name]
    assert row["stale"] == "container restarted with a new namespace"
    _listens_on_8080(cli("exec", target, "ss", "-tlnp"))  # exec follows the new one
    assert identity(f"/proc/{user.pid(web)}/ns/net") != identity(f"{RUN_DIR}/{netns_name}")
    user.podman("stop", "-t", "0", web)
    row, = [r for r in json.loads(cli("list", "-d", "-j").out) if r["name"] == netns_name]
    assert row["stale"] == "container exited"


def test_attach_as_the_user_is_refused(user, web, netns_name):
    source = f"podman:{web}"
    assert _one_line(user.pynetns("attach", netns_name, source), 1) == (
        f"attach: only root can name a namespace in /run/netns; exec {source} CMD runs "
        "a command in that container\n")
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_stopped_unknown_and_the_users_engine_down(user, web):
    mine = f"podman:{user.name}@"
    user.podman("stop", "-t", "0", web)
    stopped = f'podman container "{user.name}@{web}" is not running (status: exited)\n'
    unknown = f'podman (user {user.name}): no such container "pynetns-test-nope"\n'
    for args in (("exec",), ("exec", "--pid")):
        assert _one_line(cli(*args, mine + web, "true")) == stopped
        assert _one_line(user.pynetns(*args, f"podman:{web}", "true")) == stopped
        assert _one_line(cli(*args, mine + "pynetns-test-nope", "true")) == unknown
        assert _one_line(user.pynetns(*args, "podman:pynetns-test-nope", "true")) == unknown
    assert _one_line(cli("exec", "podman:pynetns-no-such-user@web", "true")) == (
        'podman: no such user "pynetns-no-such-user"\n')
    assert _one_line(user.pynetns("exec", "podman:root@web", "true")) == (
        "podman: only root can ask root's Podman\n")
    assert _one_line(user.pynetns("exec", "podman:nobody@web", "true")) == (
        "podman (user nobody): only root or that user can ask it\n")
    # The user's Podman cannot run: its runtime directory is closed to it.
    c = user.start()
    os.chmod(user.runtime, 0)
    try:
        for r in (cli("exec", mine + c, "true"), user.pynetns("exec", f"podman:{c}", "true")):
            err = _one_line(r)
            assert err.startswith(f"podman (user {user.name}): ") and "permission denied" in err
    finally:
        os.chmod(user.runtime, 0o700)
    assert cli("exec", mine + c, "true").rc == 0


class FakePodman:
    """A `podman` on PATH that prints ANSWER (run as the user, from a directory it reads)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pynetns-test-")
        os.chmod(self.dir, 0o755)
        with open(f"{self.dir}/podman", "w") as f:
            f.write(f"#!/bin/sh\nexec /bin/cat {self.dir}/answer.json\n")
        os.chmod(f"{self.dir}/podman", 0o755)

    def answer(self, data, *args):
        with open(f"{self.dir}/answer.json", "w") as f:
            json.dump(data, f)
        os.chmod(f"{self.dir}/answer.json", 0o644)
        return cli(*args, env={"PATH": f"{self.dir}:/usr/sbin:/usr/bin:/sbin:/bin"})

    def close(self):
        shutil.rmtree(self.dir)


@pytest.fixture
def fake():
    f = FakePodman()
    try:
        yield f
    finally:
        f.close()


def _answer(real, **changes):
    """A real container's inspect answer with some fields replaced."""
    data = {"Id": real["Id"], "Name": real["Name"], "State": dict(real["State"]),
            "HostConfig": {"NetworkMode": real["HostConfig"]["NetworkMode"]},
            "NetworkSettings": {"SandboxKey": real["NetworkSettings"]["SandboxKey"]}}
    for key, value in changes.items():
        where, _, field = key.partition("_")
        (data[where] if field else data)[field or where] = value
    return [data]


def test_a_hostile_answer_is_one_line_and_never_the_hosts(user, web, fake, netns_name):
    other = user.start("bridge")
    real, real_other = user.inspect(web), user.inspect(other)
    holder = subprocess.Popen(["setpriv", f"--reuid={user.uid}", f"--regid={user.uid}",
                               "--init-groups", "--reset-env", "/usr/bin/env", "-C", "/",
                               f"XDG_RUNTIME_DIR={user.runtime}", "podman", "unshare",
                               "sleep", "60"])
    try:  # a process of the user's own user namespace, in the host's network namespace
        for _ in range(500):
            found = subprocess.run(["pgrep", "-u", str(user.uid), "-x", "-f", "sleep 60"],
                                   capture_output=True).stdout.split()
            if found:
                break
            time.sleep(0.01)
        shell = int(found[0])
        assert os.readlink(f"/proc/{shell}/ns/user") != os.readlink("/proc/self/ns/user")
        label = f'podman container "{user.name}@{web}"'
        sandbox = real["NetworkSettings"]["SandboxKey"]
        for data, problem in [
            (_answer(real, State_Pid=os.getpid()),
             f"process {os.getpid()} is in the host's user namespace: it is not a rootless "
             "container's"),
            (_answer(real, State_Pid=shell),  # --force or not: not the container's
             f"process {shell} is not the one conmon started for container {real['Id'][:12]}: "
             "it is not the container's process (the container restarted, or the engine's "
             "answer is wrong)"),
            (_answer(real, State_Pid=real_other["State"]["Pid"]),
             f"process {real_other['State']['Pid']} is not the one conmon started for "
             f"container {real['Id'][:12]}: it is not the container's process (the container "
             "restarted, or the engine's answer is wrong)"),
            (_answer(real, NetworkSettings_SandboxKey=real_other["NetworkSettings"]["SandboxKey"]),
             f"process {real['State']['Pid']} is not in the network namespace at its "
             f"SandboxKey {real_other['NetworkSettings']['SandboxKey']} (seen by conmon "
             f"{real['State']['ConmonPid']})"),
        ]:
            for args in (("attach", netns_name), ("exec",), ("exec", "--pid"),
                         ("attach", "--force", netns_name)):
                r = fake.answer(data, *args, f"podman:{user.name}@{web}",
                                *(("true",) if args[0] == "exec" else ()))
                assert _one_line(r, 1 if args[0] == "attach" else 255) == (
                    f"{label}: {problem}\n"), (sandbox, args)
        r = fake.answer(_answer(real, State_Pid="1"), "exec", f"podman:{user.name}@{web}", "true")
        assert _one_line(r) == (f"podman (user {user.name}): malformed answer: State.Pid is a "
                                "string '1', not a PID\n")
        r = fake.answer(_answer(real, Name="other"), "exec", f"podman:{user.name}@{web}", "true")
        assert _one_line(r).startswith(f"podman (user {user.name}): asked about '{web}', it "
                                       "answered about container")
    finally:
        holder.kill()
        holder.wait()
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_exec_takes_a_rootful_container_as_well(engine):
    """docker:C and podman:C are exec targets too (root's engines), as for exec --pid."""
    c = engine.start("exec", cmd=("httpd", "-f", "-p", "8080"))
    wait_listening(engine.pid(c))
    r = cli("exec", f"{engine.name}:{c}", "readlink", "/proc/self/ns/net")
    assert r.triple() == (0, f"{os.readlink(f'/proc/{engine.pid(c)}/ns/net')}\n".encode(), b"")
    _listens_on_8080(cli("exec", f"{engine.name}:{c}", "ss", "-tlnp"))


def test_inventory_names_the_owning_user(user, web):
    """Root's engines know nothing of it: inventory says whose user namespace owns it."""
    ino = str(os.stat(f"/proc/{user.pid(web)}/ns/net").st_ino)
    r = cli("inventory", "-o", "NS,OWNER")
    assert r.rc == 0, r
    rows = dict(line.split()[:2] for line in r.out.decode().splitlines()[1:])
    assert rows[ino] == f"user:{user.name}"


def test_network_host_needs_force(user, netns_name):
    """As for a rootful container: the host's namespace only with --force."""
    c = user.start("host", cmd=("sleep", "600"))
    target = f"podman:{user.name}@{c}"
    assert _one_line(cli("attach", netns_name, target), 1) == (
        f'podman container "{user.name}@{c}" runs with --network host: its namespace is the '
        "host's; use --force to name it anyway\n")
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")
    assert cli("attach", "--force", netns_name, target).triple() == (0, b"", b"")
    assert identity(f"{RUN_DIR}/{netns_name}") == identity("/proc/self/ns/net")
