"""delete of an entry that is still held. ip unmounts it, fails the unlink with EBUSY and
leaves a bare placeholder; pynetns puts the mount back, exits 3 and names the holders."""
import re

from conftest import IP, PYNETNS

from .support import assert_clean, key, no_traceback, state

BUSY = 3


def busy_delete(world, name):
    r = world.run([PYNETNS, "delete", name])
    no_traceback(r)
    assert r.rc == BUSY, r
    lines = r.err.decode().splitlines()
    assert lines[0] == f'Cannot remove namespace file "/run/netns/{name}": Device or resource busy'
    assert lines[-1] == f'"{name}" was left as it was.'
    return lines


def test_stacked_mount(world):
    """Two mounts on the entry: the second stays, so does the first (put back)."""
    assert world.sh(f"{PYNETNS} add z; mount --bind /run/netns/z /run/netns/z").rc == 0
    before = state(world)
    lines = busy_delete(world, "z")
    assert re.fullmatch(r'"z" is still mounted at /run/netns/z \(network namespace '
                        r'net:\[\d+\]\) in this mount namespace \(mnt:\[\d+\]\)', lines[1])
    assert state(world) == before
    assert world.run(["umount", "/run/netns/z"]).rc == 0
    assert world.run([PYNETNS, "delete", "z"]).triple() == (0, b"", b"")
    assert_clean(state(world))


def test_private_bind_of_the_directory(world):
    """/run/netns bound elsewhere with private propagation: the copy keeps the file busy."""
    assert world.sh(f"""{PYNETNS} add v
        mkdir /run/elsewhere
        mount --rbind /run/netns /run/elsewhere
        mount --make-rprivate /run/elsewhere""").rc == 0
    before = state(world)
    lines = busy_delete(world, "v")
    assert lines[1].startswith('"v" is still mounted at /run/elsewhere/v (network namespace ')
    assert state(world) == before
    # ip, for contrast: the same failure, but the namespace is gone from the entry.
    ip = world.run([IP, "netns", "delete", "v"])
    assert ip.triple() == (1, b"", b'Cannot remove namespace file "/run/netns/v": '
                                   b"Device or resource busy\n")
    assert state(world)["entries"][key("v")]["kind"] == "placeholder"
    assert world.run(["umount", "-R", "/run/elsewhere"]).rc == 0
    assert world.run([PYNETNS, "delete", "v"]).triple() == (0, b"", b"")
    assert_clean(state(world))


def test_holders_are_named(world):
    """Processes inside, and other mount namespaces with a mount of it elsewhere."""
    assert world.sh(f"""{PYNETNS} add h
        mount --bind /run/netns/h /run/netns/h
        {PYNETNS} exec h sleep 1000 >/dev/null 2>&1 &
        touch /run/keep
        unshare -m --propagation private sh -c \
            'mount --bind /run/netns/h /run/keep; exec sleep 1000' >/dev/null 2>&1 &
        until grep -q /run/keep /proc/$!/mountinfo 2>/dev/null; do sleep 0.01; done
        until [ "$({PYNETNS} pids h)" ]; do sleep 0.01; done""").rc == 0
    text = "\n".join(busy_delete(world, "h"))
    assert re.search(r"net:\[\d+\] is also mounted at /run/keep in mount namespace "
                     r"mnt:\[\d+\] \(pids \d+ \(sleep\)\)", text), text
    assert re.search(r"processes inside net:\[\d+\]: pids \d+ \(sleep\)", text), text
    assert world.run(["umount", "/run/netns/h"]).rc == 0
    assert world.run([PYNETNS, "delete", "h"]).rc == 0


def test_copy_in_another_mount_namespace_does_not_block(world):
    """A process in `unshare -m` still has the mount: since Linux 3.18 the unlink detaches
    that copy, so delete succeeds and the copy is gone (not a silent partial failure)."""
    assert world.sh(f"""{PYNETNS} add c
        unshare -m --propagation private sleep 1000 >/dev/null 2>&1 &
        echo $! > /run/holder.pid
        until grep -q /run/netns/c /proc/$!/mountinfo 2>/dev/null; do sleep 0.01; done
        """).rc == 0
    holder = world.run(["cat", "/run/holder.pid"]).out.decode().strip()
    assert world.run([PYNETNS, "delete", "c"]).triple() == (0, b"", b"")
    points = [line.split()[4] for line in
              world.run(["cat", f"/proc/{holder}/mountinfo"]).out.splitlines()]
    assert b"/run/netns/c" not in points
    assert_clean(state(world))


def test_busy_is_documented():
    from pynetns.cli import grammar
    assert "3 if it is busy" in grammar.VERB_BY_NAME["delete"].help
