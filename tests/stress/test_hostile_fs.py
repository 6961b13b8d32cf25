"""Hostile files: symlinks planted in /run/netns, /run/netns itself a symlink, a read-only
/run. Every verb gives a clear error without a traceback or a hang, and nothing outside
/run/netns is opened for writing, mounted over, unmounted or unlinked (stat, content and
the mount table of every target are compared before and after)."""
import pytest
from conftest import IP, PYNETNS

from .support import agent, assert_clean, changes, count, no_traceback, state

# The targets live on a tmpfs mounted at /run/victim, so that following a symlink to the
# directory and unmounting it (what `ip netns delete` does) shows in the mount table.
# /etc/shadow is shadowed by a bind-mounted copy in the world: a bug cannot reach the
# host's file, and the copy being a mount point makes an unmount through the link show.
SETUP = f"""
{PYNETNS} add good
mkdir /run/victim
mount -t tmpfs tmpfs /run/victim
echo data > /run/victim/file
mkfifo /run/victim/fifo
cp /etc/shadow /run/shadow.copy
mount --bind /run/shadow.copy /etc/shadow
unshare -u sleep 1000 >/dev/null 2>&1 &
echo $! > /run/uts.pid
until [ "$(cat /proc/$!/comm)" = sleep ]; do sleep 0.01; done
ln -s /etc/shadow /run/netns/shadow
ln -s /run/victim/fifo /run/netns/fifo
ln -s /proc/$!/ns/uts /run/netns/uts
ln -s /run/victim /run/netns/dir
ln -s /run/victim/file /run/netns/file
ln -s /nonexistent /run/netns/dangling
"""
PLANTED = {"shadow": "a plain file", "fifo": "a FIFO", "uts": "a UTS namespace",
           "dir": "a directory", "file": "a plain file",
           "dangling": "a dangling symlink to /nonexistent"}


def targets(world):
    uts = world.run(["cat", "/run/uts.pid"]).out.decode().strip()
    return ["/etc/shadow", "/run/shadow.copy", "/run/victim", "/run/victim/file",
            "/run/victim/fifo", f"/proc/{uts}/ns/uts"]


def snapshot(world):
    return agent(world, "snapshot", {"paths": targets(world)})


def attempt(world, argv, **kw):
    r = world.run(argv, timeout=10, **kw)
    count("bad inputs tried")
    assert not r.timed_out, f"{argv} hung"
    no_traceback(r)
    return r


@pytest.fixture
def planted(world):
    assert world.sh(SETUP).rc == 0
    return world


def test_planted_symlinks_are_refused_and_never_followed_for_writing(planted):
    world = planted
    before = snapshot(world)
    for name, problem in PLANTED.items():
        broken = f'"{name}" is {problem}, not a network namespace'.encode()
        for args, rc in ((["exec", name, "true"], 255), (["pids", name], 1),
                         (["set", name, "7"], 1), (["exists", name], 2)):
            r = attempt(world, [PYNETNS, *args])
            assert (r.rc, r.err) == (rc, broken + b"\n"), (args, r)
        for args in (["add", name], ["attach", name, "1"], ["add", "--exist-ok", name]):
            r = attempt(world, [PYNETNS, *args])
            assert r.rc == 1, (args, r)
        listed = attempt(world, [PYNETNS, "list"])
        assert listed.rc == 0 and listed.out == b"good\n"
        assert broken + f" (remove it with: pynetns delete {name})".encode() in listed.err
        assert changes(before, snapshot(world)) == [], name
    assert attempt(world, [PYNETNS, "identify"]).triple() == (0, b"\n", b"")
    for name in PLANTED:
        assert attempt(world, [PYNETNS, "delete", name]).triple() == (0, b"", b"")
    assert changes(before, snapshot(world)) == [], "delete reached through a symlink"
    assert_clean(state(world), ["good"])


def test_ip_delete_follows_a_symlink_entry_and_the_check_sees_it(planted):
    """The detector works: ip's delete unmounts the directory a symlink entry points at."""
    world = planted
    before = snapshot(world)
    assert world.run([IP, "netns", "delete", "dir"]).rc == 0
    assert snapshot(world)["mounts"] != before["mounts"]


def test_prune_removes_planted_entries_only(planted):
    world = planted
    before = snapshot(world)
    r = attempt(world, [PYNETNS, "prune"])
    assert r.rc == 0, r
    assert changes(before, snapshot(world)) == []
    assert_clean(state(world), ["good"])


@pytest.mark.parametrize("link", ["/run/victim", "/nonexistent"])
def test_run_netns_replaced_by_a_symlink(world, link):
    """Writers refuse to work through it; nothing in the directory it points at changes."""
    assert world.sh(f"""
        mkdir /run/victim; mount -t tmpfs tmpfs /run/victim
        touch -d "1 hour ago" /run/victim/x  # old enough for prune to take it for a leftover
        ln -s {link} /run/netns
        unshare -n sleep 1000 >/dev/null 2>&1 & echo $! > /run/target.pid
    """).rc == 0
    pid = world.run(["cat", "/run/target.pid"]).out.decode().strip()
    before = agent(world, "snapshot", {"paths": ["/run/victim", "/run/victim/x", "/run/netns"]})
    refused = (f'Cannot open netns runtime directory "/run/netns": it is a symlink to {link}, '
               "not a directory; refusing to follow it\n").encode()
    for args in (["add", "x"], ["add", "y"], ["attach", "y", pid], ["delete", "x"],
                 ["add", "--exist-ok", "x"]):
        r = attempt(world, [PYNETNS, *args])
        assert (r.rc, r.err) == (1, refused), (args, r)
    for args in (["list"], ["exists", "x"], ["exec", "x", "true"], ["prune"]):
        attempt(world, [PYNETNS, *args])
    after = agent(world, "snapshot", {"paths": ["/run/victim", "/run/victim/x", "/run/netns"]})
    assert changes(before, after) == []


def test_read_only_run_before_setup(world):
    """No /run/netns yet and /run read-only: ip's message, nothing made."""
    assert world.sh("mount -o remount,ro /run").rc == 0
    for tool in ([PYNETNS], [IP, "netns"]):
        r = attempt(world, [*tool, "add", "x"])
        assert r.triple() == (1, b"", b"mkdir /run/netns failed: Read-only file system\n")
    assert state(world)["run_dir"] == "absent"


def test_read_only_run_netns(world):
    """A read-only /run/netns: add fails as in ip; delete fails as in ip but, unlike ip,
    leaves the namespace mounted rather than a bare placeholder."""
    assert world.sh(f"""
        {PYNETNS} add keep; {PYNETNS} add keep2
        mount -o remount,bind,ro /run/netns
        unshare -n sleep 1000 >/dev/null 2>&1 & echo $! > /run/target.pid
    """).rc == 0
    pid = world.run(["cat", "/run/target.pid"]).out.decode().strip()
    before = state(world)
    for args in (["add", "x"], ["attach", "x", pid]):
        expected = b'Cannot create namespace file "/run/netns/x": Read-only file system\n'
        assert attempt(world, [PYNETNS, *args]).triple() == (1, b"", expected)
        assert attempt(world, [IP, "netns", *args]).triple() == (1, b"", expected)
    r = attempt(world, [PYNETNS, "delete", "keep"])
    assert r.rc == 1
    assert r.err == (b'Cannot remove namespace file "/run/netns/keep": Read-only file system\n'
                     b'"keep" was left as it was.\n')
    assert state(world) == before
    ip = attempt(world, [IP, "netns", "delete", "keep2"])
    assert ip.err == b'Cannot remove namespace file "/run/netns/keep2": Read-only file system\n'
    assert state(world)["entry_mounts"].get("a2VlcDI=") is None  # ip's partial delete
