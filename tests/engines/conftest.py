"""Real Docker and Podman for the container tests.

scripts/engines.sh brings the engines up (scripts/test runs it; if they do not answer here,
it is run once more). A test that needs an engine skips, saying why, only when the engine
cannot be installed; under CI=true it fails instead. Every container is labelled LABEL,
named with the suite's PREFIX and removed after its test, whatever happened. Podman
containers are made inside the firewall namespace of engines.sh, so that netavark never
writes rules into the host's firewall.
"""
import glob
import os

import pytest

from conftest import PREFIX

from .support import LABEL, Engine, PrivateRunDir, ready, require

RECORDS = "/run/pynetns/records"


def _engine(name):
    require(name)
    e = Engine(name)
    try:
        yield e
    finally:
        e.remove_all()


@pytest.fixture
def docker():
    yield from _engine("docker")


@pytest.fixture
def podman():
    yield from _engine("podman")


@pytest.fixture(params=["docker", "podman"])
def engine(request):
    yield from _engine(request.param)


@pytest.fixture(scope="session", autouse=True)
def _no_containers_left():
    """After the session: every container the tests made was removed (they are removed here
    if not, and the session fails)."""
    yield
    left = {}
    for name in ("docker", "podman"):
        if ready(name):
            e = Engine(name)
            e.made = [n for n in e("ps", "-a", "--filter", f"label={LABEL}", "--format",
                                   "{{.Names}}").split() if n.startswith(PREFIX)]
            e.remove_all()
            if e.made:
                left[name] = e.made
    assert not left, f"tests left containers: {left}"


@pytest.fixture(autouse=True)
def _no_records_left():
    """Records of the suite's entries go with the entries (the fixtures unlink those)."""
    yield
    for path in glob.glob(f"{RECORDS}/*/{PREFIX}*"):
        os.unlink(path)


@pytest.fixture
def private():
    p = PrivateRunDir()
    try:
        yield p
    finally:
        p.close()
