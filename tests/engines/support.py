"""Helpers of the container tests: engine CLIs, the pynetns runner, a private /run/netns."""
import contextlib
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import PYNETNS, ROOT, Result, unique

LABEL = os.environ.get("PYNETNS_TEST_LABEL", "pynetns-test")
IMAGE = os.environ.get("PYNETNS_TEST_IMAGE", "pynetns-busybox:latest")
STATE = os.environ.get("PYNETNS_ENGINES_STATE", "/run/pynetns-engines")
FWNS = f"{STATE}/podman-fw.netns"
DOCKER = "/usr/bin/docker"

_ready = {}


def _answers(engine):
    probe = ([DOCKER, "image", "inspect", IMAGE] if engine == "docker" else
             ["nsenter", f"--net={FWNS}", "podman", "image", "exists", f"localhost/{IMAGE}"])
    try:
        return subprocess.run(probe, capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


def _bring_up():
    proc = subprocess.run([str(ROOT / "scripts" / "engines.sh"), "up"], capture_output=True,
                          timeout=900)
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    return proc.returncode == 0, (lines or ["no output"])[-1]


def ready(engine):
    """Whether ``engine`` was found usable (False when not asked about yet)."""
    return _ready.get(engine, (False,))[0]


def require(engine):
    """Skip (or fail under CI) unless ``engine`` is installed, running and has the image."""
    if engine not in _ready:
        why = ""
        if not _answers(engine):
            if "up" not in _ready:
                _ready["up"] = _bring_up()
            why = _ready["up"][1]
        _ready[engine] = (_answers(engine), why)
    ok, why = _ready[engine]
    if not ok:
        message = f"{engine} cannot be installed or started here: {why}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class Engine:
    """One engine's CLI, and the containers a test made with it."""

    def __init__(self, name):
        self.name = name
        if name == "docker":
            self.cli, self.image = [DOCKER], IMAGE
            self.host_netns = "/proc/self/ns/net"
        else:
            self.cli, self.image = ["nsenter", f"--net={FWNS}", "podman"], f"localhost/{IMAGE}"
            self.host_netns = FWNS  # what --network host means to podman run in there
        self.made = []

    def __call__(self, *args, check=True):
        proc = subprocess.run([*self.cli, *args], capture_output=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name} {' '.join(args)}: {proc.stderr.decode()}")
        return proc.stdout.decode().strip()

    def start(self, tag="", *, network=None, cmd=("sleep", "600"), name=None, pod=None):
        """Run a container (in Podman pod ``pod``, if given); returns its name."""
        name = name or unique(tag)
        self.made.append(name)
        net = ["--network", network] if network else []
        net += ["--pod", pod] if pod else []
        self("run", "-d", "--label", LABEL, "--name", name, *net, self.image, *cmd)
        return name

    def inspect(self, name):
        return json.loads(self("inspect", "--type", "container", name))[0]

    def pid(self, name):
        return self.inspect(name)["State"]["Pid"]

    def id(self, name):
        return self.inspect(name)["Id"]

    def stop(self, name):
        self("stop", "-t", "0", name)

    def remove(self, *names, check=True):
        # -t 0: PID 1 ignores SIGTERM, and podman would wait 10 s before killing it
        self("rm", "-f", *(["-t", "0"] if self.name == "podman" else []), *names, check=check)

    def remove_all(self):
        # One at a time, newest first: podman removes the containers of one command in
        # parallel and refuses one that another (--network container:) still depends on.
        for name in reversed(self.made):
            self.remove(name, check=False)


def cli(*args, env=None, timeout=60, ns_pid=None):
    """Run pynetns (inside the mount namespace of ``ns_pid``, if given)."""
    enter = ["/usr/bin/nsenter", "-m", "-t", str(ns_pid)] if ns_pid else []
    proc = subprocess.run([*enter, PYNETNS, *args], capture_output=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    return Result(proc)


def identity(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino


def is_mount(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


class PrivateRunDir:
    """A mount namespace with empty tmpfs on /run/netns and /run/pynetns, held by a sleeping
    process: for verbs that act on every entry (prune, attach --all-containers), which must
    not touch what others keep in the machine's /run/netns. Everything in it goes with it.

    Podman keeps its containers' namespaces in /run/netns and fails when it cannot see
    them, so pynetns finds a `podman` here that runs the real one in our mount namespace.
    """

    def __init__(self):
        script = ("mkdir -p /run/netns /run/pynetns && mount -t tmpfs tmpfs /run/netns && "
                  "mount -t tmpfs tmpfs /run/pynetns && echo ready && exec sleep 3600")
        self.holder = subprocess.Popen(["unshare", "-m", "--propagation", "slave", "sh", "-c",
                                        script], stdout=subprocess.PIPE)
        assert self.holder.stdout.readline() == b"ready\n"
        self.bin = tempfile.mkdtemp(prefix="pynetns-test-")
        real = shutil.which("podman") or "podman"
        with open(f"{self.bin}/podman", "w") as f:
            f.write(f'#!/bin/sh\nexec /usr/bin/nsenter --mount=/proc/{os.getpid()}/ns/mnt '
                    f'{real} "$@"\n')
        os.chmod(f"{self.bin}/podman", 0o755)

    def __call__(self, *args, env=None, **kw):
        env = {"PATH": f"{self.bin}:{os.environ['PATH']}", **(env or {})}
        return cli(*args, ns_pid=self.holder.pid, env=env, **kw)

    def path(self, name):
        return f"/proc/{self.holder.pid}/root/run/netns/{name}"

    def close(self):
        self.holder.kill()
        self.holder.wait()
        self.holder.stdout.close()
        shutil.rmtree(self.bin)


@contextlib.contextmanager
def etc_netns_file(name, file, text):
    """/etc/netns/NAME/FILE holding ``text`` while the block runs; /etc/netns goes after it
    too if this made it and nothing else is in it by then."""
    etc = f"/etc/netns/{name}"
    made_top = not os.path.exists("/etc/netns")
    os.makedirs(etc)
    try:
        with open(f"{etc}/{file}", "w") as f:
            f.write(text)
        yield
    finally:
        shutil.rmtree(etc)
        if made_top:
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass  # another test's files are in it now
