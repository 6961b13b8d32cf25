"""Issue 10 #4: /run/netns swapped for a symlink (or another directory) after the writers'
lock is taken. Every later step acts relative to the directory locked: nothing in the
symlink's target is created, mounted, unmounted or unlinked."""
from conftest import PYNETNS

from stress.support import agent, changes, count, no_traceback

from .fsworld import PAUSED, attacked, world

VICTIM = """
mkdir -p /run/victim; mount -t tmpfs tmpfs /run/victim
touch /run/victim/x /run/victim/m
mount --bind /proc/1/ns/net /run/victim/m
"""
PATHS = ["/run/victim", "/run/victim/x", "/run/victim/m"]


def _swap_run(world, setup, step, argv, swap):
    assert world.sh(setup).rc == 0
    before = agent(world, "snapshot", {"paths": PATHS})
    r = world.sh(PAUSED + f'STEP={step}\nSWAP="{swap}"\npaused {" ".join(argv)}')
    no_traceback(r)
    assert r.out.endswith(b"\n") and b"rc=" in r.out, r
    found = changes(before, agent(world, "snapshot", {"paths": PATHS}))
    count("escapes", len(found))
    return r, found


def test_delete_after_the_lock_stays_in_the_locked_directory(world):
    attacked("delete with /run/netns swapped after the lock")
    r, found = _swap_run(
        world, VICTIM + "mkdir /run/netns; touch /run/netns/x /run/netns/m", "delete:locked",
        [PYNETNS, "delete", "x"],
        "mv /run/netns /run/netns.real; ln -s /run/victim /run/netns")
    assert found == [], found
    assert r.out.endswith(b"rc=0\n"), r
    assert world.run(["ls", "/run/netns.real"]).out == b"m\n"  # x went from the real one
    # Swapped for another directory: the entry goes from the one locked all the same.
    r, found = _swap_run(world, "rm /run/netns; mv /run/netns.real /run/netns",
                         "delete:locked", [PYNETNS, "delete", "m"],
                         "mv /run/netns /run/netns.real; mkdir /run/netns; touch /run/netns/m")
    assert r.out.endswith(b"rc=0\n"), r
    assert world.run(["ls", "/run/netns.real", "/run/netns"]).out == \
        b"/run/netns:\nm\n\n/run/netns.real:\n"
    assert found == [], found


def test_add_after_the_lock_creates_nothing_elsewhere(world):
    attacked("add with /run/netns swapped after the lock")
    # The directory is a mount point once set up: it is detached and removed, then a
    # symlink takes its place.
    r, found = _swap_run(world, VICTIM, "add:locked", [PYNETNS, "add", "n"],
                         "umount -l /run/netns; rmdir /run/netns; "
                         "ln -s /run/victim /run/netns")
    assert found == [], found
    assert not r.out.endswith(b"rc=0\n"), r  # its directory is gone: nothing to add to
    assert world.run(["test", "-e", "/run/victim/n"]).rc == 1


def test_attach_after_the_lock_creates_nothing_elsewhere(world):
    attacked("attach with /run/netns swapped after the lock")
    _r, found = _swap_run(world, VICTIM, "attach:locked", [PYNETNS, "attach", "y", "1"],
                         "umount -l /run/netns; rmdir /run/netns; "
                         "ln -s /run/victim /run/netns")
    assert found == [], found
    assert world.run(["test", "-e", "/run/victim/y"]).rc == 1
