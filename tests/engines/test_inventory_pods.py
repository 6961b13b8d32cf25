"""inventory's OWNER and which's owner name a Kubernetes pod (pod:NAMESPACE/NAME), from the
node's CRI runtime (the test containerd of scripts/cri.sh); and with no runtime, nothing
is asked and nothing is said."""
import json
import os

import pytest

from conftest import PYNETNS, run

from .test_pods import cri_env, pods  # the fixtures

pytestmark = pytest.mark.engine


def _row(pods, name):
    r = pods("-j", "inventory", "-o", "NS,NAMES,OWNER,PID")
    assert r.rc == 0, r
    return next(row for row in json.loads(r.out) if name in row["names"])


def test_inventory_names_the_pod(pods):
    ns, name, _, path, pid, _ = pods.run()
    row = _row(pods, os.path.basename(path))
    assert row["owner"] == f"pod:{ns}/{name}" and row["pid"] == pid
    text = pods("inventory", "-o", "NAMES,OWNER").out.decode()
    line = next(ln for ln in text.splitlines() if ln.startswith(os.path.basename(path)))
    assert line.split() == [os.path.basename(path), f"pod:{ns}/{name}"]


def test_which_names_the_pod_of_an_address(pods):
    ns, name, sid, path, _, ip = pods.run()
    r = pods("-j", "which", ip)
    assert r.rc == 0, r
    (match,) = [m for m in json.loads(r.out) if os.path.basename(path) in m["names"]]
    assert match["owner"] == f"pod:{ns}/{name}"
    assert match["containers"] == [{"engine": "pod", "name": f"{ns}/{name}", "namespace": ns,
                                    "pod": name, "uid": match["containers"][0]["uid"],
                                    "id": sid}]


def test_a_removed_pod_owns_nothing(pods):
    ns, name, sid, *_ = pods.run()
    pods.remove(sid)
    r = pods("-j", "inventory", "-o", "NS,NAMES,OWNER")
    assert r.rc == 0, r
    assert not [row for row in json.loads(r.out) if row["owner"] == f"pod:{ns}/{name}"]


def test_no_runtime_no_question_no_warning():
    r = run([PYNETNS, "inventory", "-o", "NS,OWNER"],
            env={"PATH": "/nonexistent", "CONTAINER_RUNTIME_ENDPOINT": "",
                 "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert r.rc == 0, r
    assert b"pod:" not in r.err, r
