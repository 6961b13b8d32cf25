"""Helpers of the stress suite: figures for the final report, world state and leak counts."""
import json
import os
import sys

from conftest import IP, PYNETNS

from . import world

AGENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agents.py")

# What the suite did, printed at the end of the run (conftest.pytest_terminal_summary).
FIGURES = {
    "operations done": 0,
    "races lost cleanly": 0,
    "crashes injected": 0,
    "bad inputs tried": 0,
    "leaked entries": 0,
    "leaked mounts": 0,
    # The filesystem attacks (tests/security/test_fs_*): what they tried, what they found.
    "attack iterations": 0,
    "attack processes": 0,
    "escapes": 0,
    "healthy removed": 0,
    "hangs": 0,
    "tracebacks": 0,
}


def count(key, n=1):
    FIGURES[key] += n


class World(world.World):
    """A world that counts the pynetns and ip commands run in it as operations."""

    def run(self, argv, **kw):
        if any(a in (PYNETNS, IP) for a in argv):
            count("operations done")
        return super().run(argv, **kw)


def agent(world, verb, config=None, timeout=170):
    """Run an agent (agents.py) in the world; its JSON answer."""
    argv = [sys.executable, AGENTS, verb] + ([json.dumps(config)] if config is not None else [])
    r = world.run(argv, timeout=timeout)
    assert r.rc == 0 and not r.timed_out, f"agent {verb} failed: {r}"
    return json.loads(r.out)


def state(world):
    return agent(world, "state")


def key(name):
    """How agents name an entry: base64 of its bytes."""
    import base64
    return base64.b64encode(os.fsencode(name)).decode()


def leaks(st, expected=()):
    """(entries, mounts) in a world's /run/netns beyond the healthy namespaces ``expected``,
    counted into the figures: any other entry, a second mount on /run/netns, a mount for a
    name that is gone or a second one for a name that is there."""
    want = {key(n) for n in expected}
    entries = sorted(n for n, e in st["entries"].items() if n not in want or e["kind"] != "net")
    mounts = max(0, st["dir_mounts"] - 1)
    for n, c in st["entry_mounts"].items():
        mounts += c - (1 if n in want and n in st["entries"] else 0)
    count("leaked entries", len(entries))
    count("leaked mounts", mounts)
    return entries, mounts


def assert_clean(st, expected=()):
    """Exactly the healthy namespaces ``expected``, each mounted once, and nothing else."""
    entries, mounts = leaks(st, expected)
    assert entries == [] and mounts == 0, f"leftovers: {entries}, {mounts} mounts; {st}"
    missing = [n for n in expected if st["entries"].get(key(n), {}).get("kind") != "net"]
    assert missing == [], f"expected namespaces missing: {missing}; {st}"


def no_traceback(result):
    assert b"Traceback" not in result.err, result.err.decode(errors="replace")


def changes(before, after):
    """What differs between two snapshots (agents.py snapshot), readably."""
    import base64
    diff = [f"{p}: {before['files'][p]} -> {after['files'].get(p)}"
            for p in before["files"] if before["files"][p] != after["files"].get(p)]

    def shown(rows):
        return {(r[0], base64.b64decode(r[1]).decode(errors="replace"), r[2]) for r in rows}
    was, now = shown(before["mounts"]), shown(after["mounts"])
    diff += [f"unmounted: {m}" for m in sorted(was - now)]
    diff += [f"mounted: {m}" for m in sorted(now - was)]
    return diff
