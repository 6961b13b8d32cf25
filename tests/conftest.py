"""Shared fixtures: unique names, the CLI runner, a private /run/netns, and a leak check.

Everything here runs as root against the real kernel. Names start with PREFIX so that the
session-end check can tell the suite's leftovers from other users of /run/netns; PREFIX is
different in each session, so that two sessions at once do not blame each other.
"""
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

PREFIX = f"pynetns-test-{secrets.token_hex(3)}-"
RUN_DIR = "/run/netns"
ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PYNETNS = str(VENV_BIN / "pynetns") if (VENV_BIN / "pynetns").exists() else shutil.which("pynetns")
IP = shutil.which("ip") or "/usr/sbin/ip"
# A fresh Debian sets neither: a child that relies on them here would fail there.
for _var in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"):
    os.environ.pop(_var, None)


def unique(tag=""):
    return f"{PREFIX}{tag}{secrets.token_hex(4)}"


def suite_entries():
    try:
        return sorted(n for n in os.listdir(RUN_DIR) if n.startswith(PREFIX))
    except FileNotFoundError:
        return []


def suite_mounts():
    with open("/proc/self/mountinfo") as f:
        return sorted(line.split()[4] for line in f if PREFIX in line.split()[4])


def remove_entry(name):
    """Best-effort cleanup of one suite entry (mount and file)."""
    path = f"{RUN_DIR}/{name}"
    subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL, check=False)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@pytest.fixture
def netns_name():
    """A fresh unique name; whatever ends up under it is removed after the test."""
    made = []

    def make(tag=""):
        name = unique(tag)
        made.append(name)
        return name

    first = make()
    yield _Namer(make, first)
    for name in made:
        remove_entry(name)


class _Namer(str):
    """The fixture value: a name (str) that can also mint more names: netns_name.another()."""

    def __new__(cls, make, first):
        obj = super().__new__(cls, first)
        obj._make = make
        return obj

    def another(self, tag=""):
        return self._make(tag)


@pytest.fixture
def netns_holder():
    """A process sleeping in a new network namespace of its own (killed after the test)."""
    proc = subprocess.Popen(["unshare", "-n", "sleep", "60"])
    try:
        path = f"/proc/{proc.pid}/ns/net"
        for _ in range(1000):  # until unshare has moved it
            if os.stat(path).st_ino != os.stat("/proc/self/ns/net").st_ino:
                break
            time.sleep(0.005)
        else:
            raise AssertionError("unshare -n did not start")
        yield proc
    finally:
        proc.kill()
        proc.wait()


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out!r}, err={self.err!r})"

    def triple(self):
        return self.rc, self.out, self.err


def run(argv, *, env=None, input=None, timeout=30, cwd=None):
    proc = subprocess.run(argv, capture_output=True, input=input, env=env, timeout=timeout,
                          cwd=cwd)
    return Result(proc)


def pynetns(*args, click=False, env=None, **kw):
    env = dict(os.environ if env is None else env)
    if click:
        env["PYNETNS_CLICK"] = "1"
    return run([PYNETNS, *args], env=env, **kw)


def ip_netns(*args, globals=(), **kw):
    return run([IP, *globals, "netns", *args], **kw)


def in_private_run_dir(script, timeout=120, net=False):
    """Run a bash script in a private mount namespace with a fresh tmpfs on /run/netns.

    Use for -all verbs and anything that must see an empty /run/netns. $PYNETNS and $IP
    are set; the namespace (and every mount in it) dies with the script. ``net`` also gives
    the script a new network namespace, so that nsids it assigns or lists are its own.
    """
    env = dict(os.environ, PYNETNS=PYNETNS, IP=IP)
    full = "set -e\nmkdir -p /run/netns\nmount -t tmpfs tmpfs /run/netns\n" + script
    unshare = ["unshare", "-m", "--propagation", "private"] + (["-n"] if net else [])
    proc = subprocess.run([*unshare, "bash", "-c", full],
                          capture_output=True, env=env, timeout=timeout)
    return Result(proc)


# Test tiers, by directory: tests/unit runs anywhere (no root, no ip, no pyroute2 needed:
# `pytest -m "not root"`); everything else needs root and the real kernel, and some tiers
# need more. pyproject.toml declares the markers.
_TIERS = {"unit": (), "system": ("root", "ip"), "stress": ("root", "ip"), "bench": ("root", "ip"),
          "security": ("root", "ip"), "engines": ("root", "engine"), "shell": ("root", "shells")}


# Without root the other tiers cannot even set up (they read the venv's script, /run/netns,
# the engines): they are left out, so that `pytest` on a laptop runs what can run.
collect_ignore = [] if os.geteuid() == 0 else [t for t, needs in _TIERS.items() if needs]


def pytest_collection_modifyitems(items):
    tests = Path(__file__).resolve().parent
    for item in items:
        tier = Path(item.fspath).resolve().relative_to(tests).parts[0]
        for marker in _TIERS.get(tier, ("root",)):
            item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def no_leftovers():
    """After the whole session: no entry or mount of the suite is left behind."""
    before_entries, before_mounts = suite_entries(), suite_mounts()
    yield
    entries, mounts = suite_entries(), suite_mounts()
    for name in entries:
        remove_entry(name)
    assert entries == before_entries, f"tests left entries in {RUN_DIR}: {entries}"
    assert mounts == before_mounts, f"tests left mounts: {mounts}"
