"""Helpers of the filesystem attack tests (tests/security/test_fs_*): a private world (see
tests/stress/world.py) and scripts that stop pynetns at a step, change the files under it
and let it go on."""
import pytest

from stress.support import World, count

# bash: run "$@" stopped at $STEP (PYNETNS_TEST_PAUSE), run $SWAP while it is stopped, then
# let it go on; prints its exit code as the last line.
PAUSED = """
paused() {
    PYNETNS_TEST_PAUSE=$STEP "$@" & p=$!
    until grep -q '^State:[[:space:]]*T' /proc/$p/status 2>/dev/null; do
        kill -0 $p 2>/dev/null || break
        sleep 0.01
    done
    eval "$SWAP"
    kill -CONT $p
    wait $p && rc=0 || rc=$?
    echo "rc=$rc"
}
"""


@pytest.fixture
def world():
    with World() as w:
        yield w


def attacked(what, n=1):
    count("attack iterations", n)
    return what
