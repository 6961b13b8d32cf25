"""kill -9 at every step of add, attach and delete (PYNETNS_TEST_PAUSE, see pynetns/rundir.py):
what is left is a healthy namespace, nothing, or a placeholder that `list` names as broken,
`delete` or `prune` removes, after which the name can be added again."""
import base64

import pytest
from conftest import PYNETNS

from .support import agent, assert_clean, count, key, no_traceback, state

NAME = "crashed"

# What each step leaves behind when the process dies there.
LEFT = {
    "add:locked": None, "add:placeholder": "placeholder", "add:unshared": "placeholder",
    "add:mounted": "net",
    "attach:locked": None, "attach:placeholder": "placeholder",
    "attach:opened": "placeholder", "attach:mounted": "net",
    "delete:locked": "net", "delete:unmounted": "placeholder", "delete:unlinked": None,
}


def argv_for(step):
    verb = step.split(":")[0]
    if verb == "attach":
        return [PYNETNS, "attach", NAME, "{target}"]
    return [PYNETNS, verb, NAME]


def crash(world, step, then="kill"):
    if step.startswith("delete"):
        assert world.run([PYNETNS, "add", NAME]).rc == 0
    data = agent(world, "crash", {"step": step, "argv": argv_for(step), "then": then,
                                  "target": step.startswith("attach")})
    assert data["stopped"], f"never reached step {step}: {data}"
    count("crashes injected")
    return data


@pytest.mark.parametrize("step", list(LEFT))
def test_kill_at_step(world, step):
    data = crash(world, step)
    entry = data["state"]["entries"].get(key(NAME))
    assert (entry or {}).get("kind") == LEFT[step], data["state"]
    # Mounts: /run/netns once, the entry only if it is whole; a placeholder is judged below.
    assert data["state"]["dir_mounts"] == 1
    assert data["state"]["entry_mounts"] == ({key(NAME): 1} if LEFT[step] == "net" else {})

    listed = world.run([PYNETNS, "list"])
    no_traceback(listed)
    exists = world.run([PYNETNS, "exists", NAME], timeout=10).rc
    if LEFT[step] == "net":
        assert listed.triple() == (0, f"{NAME}\n".encode(), b"")
        assert exists == 0
    elif LEFT[step] == "placeholder":
        assert listed.out == b""
        assert listed.err == (f'"{NAME}" is a plain file, not a network namespace '
                              f"(remove it with: pynetns delete {NAME})\n").encode()
        assert exists == 2
    else:
        assert listed.triple() == (0, b"", b"")
        assert exists == 1

    if LEFT[step] == "placeholder" and step.endswith("placeholder"):
        # As found later: prune leaves entries younger than a few seconds alone.
        world.run(["touch", "-h", "-d", "1 hour ago", f"/run/netns/{NAME}"])
        pruned = world.run([PYNETNS, "prune"])
        assert pruned.rc == 0, pruned
    elif LEFT[step]:
        assert world.run([PYNETNS, "delete", NAME]).triple() == (0, b"", b"")
    assert_clean(state(world))

    assert world.run([PYNETNS, "add", NAME], timeout=20).triple() == (0, b"", b"")
    assert_clean(state(world), [NAME])
    assert world.run([PYNETNS, "delete", NAME]).rc == 0
    assert_clean(state(world))


def test_attach_target_exits_before_it_is_opened(world):
    """The PID dies after the placeholder exists: ip's message, and nothing is left."""
    data = crash(world, "attach:placeholder", then="target-exits")
    err = base64.b64decode(data["err"])
    assert data["rc"] == 1, data
    assert err.startswith(b"Bind /proc/")
    assert err.endswith(
        f"/ns/net -> /run/netns/{NAME} failed: No such file or directory\n".encode())
    assert_clean(data["state"])


def test_attach_target_exits_after_it_is_opened(world):
    """The PID dies once its namespace is held: that namespace is named (it lives on in
    the mount), never whatever the PID might be reused for."""
    data = crash(world, "attach:opened", then="target-exits")
    assert (data["rc"], data["err"]) == (0, ""), data
    assert_clean(data["state"], [NAME])
    assert data["state"]["entries"][key(NAME)]["ino"] == data["target_ino"]
    assert world.run([PYNETNS, "delete", NAME]).rc == 0
