"""Podman pods: podman:POD is the network namespace its containers share (its infra
container's), and attach --all-containers names it after the pod."""
import json
import os

import pytest

from conftest import RUN_DIR, unique

from .support import LABEL, cli, etc_netns_file, identity

pytestmark = pytest.mark.engine


@pytest.fixture
def pod(podman):
    """(pod name, pod ID, infra container's PID, a member container) of a running pod."""
    name = unique("pod")
    podman("pod", "create", "--label", LABEL, "--name", name)
    try:
        member = podman.start("member", network=None, cmd=("sleep", "600"), pod=name)
        data = json.loads(podman("pod", "inspect", "--format", "json", name))
        data = data[0] if isinstance(data, list) else data
        yield name, data["Id"], podman.pid(data["InfraContainerID"]), member
    finally:
        podman.remove_all()
        podman("pod", "rm", "-f", "-t", "0", name, check=False)


def test_the_pod_names_its_shared_namespace(podman, pod, netns_name):
    name, pod_id, infra_pid, member = pod
    want = identity(f"/proc/{infra_pid}/ns/net")
    assert identity(f"/proc/{podman.pid(member)}/ns/net") == want  # what the pod shares
    for entry, source in ((netns_name, f"podman:{name}"),
                          (netns_name.another(), f"podman:{pod_id[:12]}")):
        assert cli("attach", entry, source).triple() == (0, b"", b""), source
        assert identity(f"{RUN_DIR}/{entry}") == want
    r = cli("exec", f"podman:{name}", "stat", "-L", "-c", "%i", "/proc/self/ns/net")
    assert r.triple() == (0, f"{want[1]}\n".encode(), b"")
    with etc_netns_file(name, "hosts", "192.0.2.8 in-the-pod\n"):  # the pod's name
        r = cli("exec", f"podman:{member}", "cat", "/etc/hosts")  # a member: the pod's, said so
    assert r.rc == 0 and r.out == b"192.0.2.8 in-the-pod\n", r
    assert f'uses the network namespace of podman pod "{name}"'.encode() in r.err
    r = cli("-d", "list")
    assert [ln.split()[-2] for ln in r.out.decode().splitlines()
            if ln.startswith(netns_name + " ")] == [f"podman:{name}"], r.out


def test_all_containers_names_the_pod_after_the_pod(podman, pod, private):
    name, _, infra_pid, member = pod
    for action in ("attached", "unchanged"):
        r = private("-j", "attach", "--all-containers")
        ours = {o["name"]: (o["action"], o.get("entry"), o.get("reason"))
                for o in json.loads(r.out) if o["name"] in (name, member)}
        assert ours == {
            name: (action, None, None),
            member: ("skipped", None, f'shares the network namespace of podman pod "{name}"')}
    assert identity(private.path(name)) == identity(f"/proc/{infra_pid}/ns/net")


POD_ID, INFRA_ID = "ab" * 32, "cd" * 32


def _fake_podman(tmp_path, pod, infra_pod=POD_ID):
    """A `podman` that knows no container "web" but a pod "web" answering ``pod``, whose
    infra container says it is in pod ``infra_pod``."""
    infra = [{"Id": INFRA_ID, "Name": "abab-infra", "IsInfra": True, "Pod": infra_pod,
              "State": {"Pid": 1, "Status": "running"}}]
    (tmp_path / "pod.json").write_text(json.dumps(pod))
    (tmp_path / "infra.json").write_text(json.dumps(infra))
    inspect = "inspect --format json --"
    (tmp_path / "podman").write_text(
        "#!/bin/sh\ncase \"$*\" in\n"
        f"  'container {inspect} {INFRA_ID}') exec /bin/cat {tmp_path}/infra.json;;\n"
        f"  'container {inspect} web') echo 'Error: no such container web' >&2; exit 125;;\n"
        f"  'pod {inspect} web') exec /bin/cat {tmp_path}/pod.json;;\nesac\nexit 125\n")
    (tmp_path / "podman").chmod(0o755)
    return {"PATH": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}


@pytest.mark.parametrize("pod, infra_pod, message", [
    ({"Id": POD_ID, "Name": "web", "InfraContainerID": INFRA_ID}, "ef" * 32,
     "podman: malformed answer: pod 'web' has no infra container of its own"),
    ({"Id": POD_ID, "Name": "web", "InfraContainerID": "/"}, POD_ID,
     "podman: malformed answer: pod 'web' has no infra container of its own"),
    ({"Id": POD_ID, "Name": "web", "InfraContainerID": ""}, POD_ID,
     'podman pod "web" has no infra container: name one of its containers'),
    ([{"Id": "/", "Name": "web"}], POD_ID,
     "podman: malformed answer: pod inspect printed no pod with an Id and a Name"),
    ({"Id": POD_ID, "Name": "db", "InfraContainerID": INFRA_ID}, POD_ID,
     "podman: asked about 'web', it answered about container cdcdcdcdcdcd ('abab-infra')"),
])
def test_a_hostile_pod_answer_is_one_line(tmp_path, netns_name, pod, infra_pod, message):
    env = _fake_podman(tmp_path, pod, infra_pod)
    for args, rc in ((["attach", netns_name, "podman:web"], 1),
                     (["exec", "podman:web", "true"], 255)):
        assert cli(*args, env=env).triple() == (rc, b"", f"{message}\n".encode()), args
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_a_pods_infra_process_is_proved_as_a_containers(tmp_path, netns_name):
    """The infra container's PID (here 1, the host's init) must be in its cgroup."""
    env = _fake_podman(tmp_path, {"Id": POD_ID, "Name": "web", "InfraContainerID": INFRA_ID})
    r = cli("attach", netns_name, "podman:web", env=env)
    assert r.rc == 1 and r.err.startswith(b'podman pod "web": '), r
    assert b"process 1 is not in the container's cgroup" in r.err \
        or b"cannot open the namespaces of its process 1" in r.err, r
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")
