"""Callers without the privileges: an unprivileged user, and root of a new user namespace
(which owns no mount namespace here). Each gets ip's error, no traceback, and nothing
changes."""
import pytest
from conftest import IP, PYNETNS

from .support import agent, changes, count, no_traceback, state

CALLERS = {
    "nobody": ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    "userns": ["unshare", "-U", "-r"],
}
DENIED = (b"Operation not permitted", b"Permission denied")


@pytest.mark.parametrize("caller", CALLERS)
def test_unprivileged_caller_changes_nothing(world, caller):
    assert world.sh(f"""{PYNETNS} add keep
        unshare -n sleep 1000 >/dev/null 2>&1 & echo $! > /run/target.pid""").rc == 0
    pid = world.run(["cat", "/run/target.pid"]).out.decode().strip()
    before = state(world), agent(world, "snapshot", {"paths": ["/run/netns"]})
    wrap = CALLERS[caller]
    writes = [["add", "x"], ["attach", "x", pid], ["delete", "keep"], ["exec", "keep", "true"],
              ["set", "keep", "5"], ["-all", "delete"]]
    reads = [["list"], ["pids", "keep"], ["identify", pid]]
    for args in writes + reads:
        mine = world.run(wrap + [PYNETNS] + args, timeout=10)
        theirs = world.run(wrap + [IP] + (args[:1] + ["netns"] + args[1:] if args[0] == "-all"
                                          else ["netns"] + args), timeout=10)
        count("bad inputs tried")
        no_traceback(mine)
        if args in writes and args[0] != "-all":
            assert mine.rc != 0 and any(d in mine.err for d in DENIED), (args, mine)
        if caller == "userns" and "delete" in args:
            # ip says only "Device or resource busy"; pynetns says why.
            assert mine.err.endswith(b"(it is mounted, and unmounting it failed: "
                                     b"Operation not permitted)\n")
            assert mine.rc == theirs.rc
        else:
            assert mine.triple() == theirs.triple(), (args, mine, theirs)
    for args, rc in ((["exists", "keep"], 0), (["add", "--exist-ok", "x"], 1), (["prune"], 0)):
        r = world.run(wrap + [PYNETNS] + args, timeout=10)
        no_traceback(r)
        assert r.rc == rc, (args, r)
    after = state(world), agent(world, "snapshot", {"paths": ["/run/netns"]})
    assert after[0] == before[0]
    assert changes(before[1], after[1]) == []
