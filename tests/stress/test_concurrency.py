"""Many processes on overlapping names at once: each operation succeeds or fails with ip's
message for the race it lost, and the end state is what the successes imply."""
import base64
from collections import Counter

from conftest import IP, PYNETNS

from .support import agent, assert_clean, count, state

WORKERS = 8


def _msg(text):
    return text.encode() + b"\n"


def outcome(op, name, rc, out, err, names):
    """'ok', 'lost' (ip's error for a race lost) or None (anything else)."""
    path = f"/run/netns/{name}"
    if op in ("add", "attach", "ip-add"):
        lost = (1, b"", _msg(f'Cannot create namespace file "{path}": File exists'))
    elif op in ("delete", "ip-delete"):
        lost = (1, b"", _msg(f'Cannot remove namespace file "{path}": No such file or directory'))
    elif op == "exec":
        lost = (255, b"",
                _msg(f'Cannot open network namespace "{name}": No such file or directory'))
    elif op == "exists":
        return "ok" if (rc, out, err) in ((0, b"", b""), (1, b"", b"")) else None
    elif op == "exist-ok":
        return "ok" if (rc, out, err) == (0, b"", b"") else None
    elif op == "list":
        listed = out.decode().split("\n")[:-1]
        return "ok" if rc == 0 and err == b"" and set(listed) <= set(names) else None
    if (rc, out, err) == (0, b"", b""):
        return "ok"
    return "lost" if (rc, out, err) == lost else None


def judge(data, names):
    """Tally the results; return (unclean outcomes, names that must exist now)."""
    unclean = []
    made, removed = Counter(), Counter()
    for worker, op, name, rc, out, err, _ in data["results"]:
        out, err = base64.b64decode(out), base64.b64decode(err)
        verdict = outcome(op, name, rc, out, err, names)
        count("operations done")
        if verdict is None:
            unclean.append((worker, op, name, rc, out, err))
        elif verdict == "lost":
            count("races lost cleanly")
        elif op in ("add", "attach", "ip-add"):
            made[name] += 1
        elif op in ("delete", "ip-delete"):
            removed[name] += 1
    if any(r[1] == "exist-ok" for r in data["results"]):
        # An --exist-ok success may or may not have made it: what is there must be healthy.
        there = {base64.b64decode(k).decode() for k in data["state"]["entries"]}
        return unclean, sorted(there)
    # Creations and deletions of a name alternate: it exists iff it was made once more.
    balance = {n: made[n] - removed[n] for n in set(made) | set(removed)}
    assert all(b in (0, 1) for b in balance.values()), balance
    return unclean, sorted(n for n, b in balance.items() if b == 1)


def run_race(world, **cfg):
    cfg = dict({"workers": WORKERS, "pynetns": PYNETNS, "ip": IP}, **cfg)
    data = agent(world, "race", cfg)
    names = sorted({r[2] for r in data["results"]}) + cfg["names"]
    unclean, alive = judge(data, names)
    assert unclean == [], f"operations that neither succeeded nor lost a race: {unclean}"
    assert_clean(data["state"], alive)
    for name in alive:
        assert world.run([PYNETNS, "delete", name]).rc == 0
    assert_clean(state(world))
    return data


def test_overlapping_add_attach_exec_delete(world):
    run_race(world, names=["n0", "n1", "n2"], rounds=30, seed=5,
             ops={"add": 3, "attach": 2, "delete": 4, "exec": 2, "exists": 1, "list": 1})


def test_add_exist_ok_races_delete(world):
    """--exist-ok never sees the other side's half-made entry: it always succeeds."""
    run_race(world, names=["same"], rounds=15, seed=7,
             ops={"exist-ok": 3, "delete": 1, "exists": 1})


def test_pynetns_and_ip_share_the_lock_without_deadlock(world):
    """ip takes the same flock for its set-up only; mixed with pynetns holding it for whole
    operations, nothing waits forever and nothing is stacked."""
    run_race(world, names=["m"], rounds=12, seed=11, own_names=True,
             ops={"add": 2, "delete": 2, "ip-add": 2, "ip-delete": 2, "exec": 1})


def _setup_rounds(world, **cfg):
    data = agent(world, "setup-race", dict({"racers": WORKERS}, **cfg))
    for r in data["rounds"]:
        count("operations done", len(r["rcs"]))
        assert r["rcs"] == [0] * WORKERS, r
        st = r["state"]
        assert st["dir_mounts"] == 1, f"/run/netns mounted {st['dir_mounts']} times: {st}"
        assert_clean(st, [f"setup{i}" for i in range(WORKERS)])


def test_first_time_setup_races_with_itself(world):
    """A fresh /run/netns (not a mount point): exactly one self bind results."""
    _setup_rounds(world, rounds=6)


def test_first_time_setup_races_with_ip(world):
    _setup_rounds(world, rounds=6, ip=IP)
