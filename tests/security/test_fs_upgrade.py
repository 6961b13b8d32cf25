"""A /run/netns that is still a plain directory with namespaces mounted on its entries (as
containerd leaves it on a node where no `ip netns add` ran yet), made a mount point by the
first add: ip's recursive self bind copies each mount and hides the original under it."""
import pytest

from conftest import IP, PYNETNS

from .fsworld import attacked, world

SETUP = """set -e
mkdir /run/netns
touch /run/netns/pod
unshare --net=/run/netns/pod true
stat -L -c %d:%i /run/netns/pod
"""


@pytest.mark.parametrize("verb", [["add", "x"], ["attach", "x", "1"]])
def test_each_entry_is_mounted_once_after_the_upgrade(world, verb):
    attacked("a plain /run/netns with mounts, made a mount point")
    before = world.sh(SETUP)
    assert before.rc == 0, before
    assert world.run([PYNETNS, *verb]).triple() == (0, b"", b"")
    r = world.sh("grep -c ' /run/netns/pod ' /proc/self/mountinfo; stat -L -c %d:%i /run/netns/pod")
    assert r.out == b"1\n" + before.out, r
    # So the runtime's own clean-up frees the namespace and the name.
    r = world.sh("umount /run/netns/pod && rm /run/netns/pod && ls /run/netns")
    assert r.triple() == (0, b"x\n", b"")


def test_ip_leaves_the_hidden_copy(world):
    """What the test above guards against, shown with the oracle."""
    assert world.sh(SETUP).rc == 0
    assert world.run([IP, "netns", "add", "x"]).rc == 0
    r = world.sh("grep -c ' /run/netns/pod ' /proc/self/mountinfo; umount /run/netns/pod; "
                 "rm /run/netns/pod")
    assert r.out == b"2\n" and b"Device or resource busy" in r.err, r
