"""The first `add` or `attach` on a machine: /run/netns is created and made a shared mount
point (a bind mount of itself when it is not one yet). pynetns must leave exactly the mount
structure ip leaves. Each case runs in a private mount namespace with a tmpfs over /run.
"""
import pytest

from conftest import IP, PYNETNS
from netns_diff import Raw, mount_shape, private

FRESH_RUN = "umount /run/netns\nmount -t tmpfs tmpfs /run\n"
STATES = {
    "absent": FRESH_RUN,
    "plain directory": FRESH_RUN + "mkdir -m 0700 /run/netns\n",
    "private mount point": FRESH_RUN + "mkdir /run/netns\nmount -t tmpfs tmpfs /run/netns\n",
    "shared mount point": FRESH_RUN + "mkdir /run/netns\nmount -t tmpfs tmpfs /run/netns\n"
                                      "mount --make-shared /run/netns\n",
    "directory in a shared /run": FRESH_RUN + "mount --make-shared /run\nmkdir /run/netns\n",
}
AFTER = "stat -c '%a %F' /run/netns; ls -A /run/netns"


def first(tool_argv, setup):
    return private([tool_argv], setup, after=AFTER)[0]


@pytest.mark.parametrize("state", STATES.values(), ids=STATES.keys())
@pytest.mark.parametrize("verb", [["add", "x"], ["attach", "x", "$$"]], ids=["add", "attach"])
def test_first_time_mounts_like_ip(state, verb):
    words = [Raw(w) if w == "$$" else w for w in verb]
    ip = first([IP, "netns", *words], state)
    py = first([PYNETNS, *words], state)
    assert py.triple() == ip.triple() == (0, b"", b"")
    assert py.extra == ip.extra
    assert mount_shape(py.mountinfo, "/run") == mount_shape(ip.mountinfo, "/run")
    shape = mount_shape(py.mountinfo, "/run/netns")
    # /run/netns is a shared mount point and the name an nsfs mount below it.
    assert shape[0][2] == "/run/netns" and shape[0][4][0].startswith("shared:")
    assert [m[2] for m in shape] == ["/run/netns", "/run/netns/x"] and shape[1][5] == "nsfs"


def test_absent_run_dir_becomes_a_self_bind():
    py = first([PYNETNS, "add", "x"], STATES["absent"])
    run = mount_shape(py.mountinfo, "/run")
    # The tmpfs /run's parent is / here, the machine's own /run where that is a mount point
    # (a tmpfs on systemd machines): not compared.
    assert [(m[1], m[2], m[5]) for m in run[:1]] == [("/", "/run", "tmpfs")]
    assert [(m[0], m[1], m[2], m[5]) for m in run[1:]] == [
        ("/run", "/netns", "/run/netns", "tmpfs"),  # the directory bound on itself
        ("/run/netns", "net:[]", "/run/netns/x", "nsfs"),
    ]
    assert py.extra == b"755 directory\nx\n"


def test_second_add_does_not_stack_mounts():
    runs = private([[PYNETNS, "add", "x"], [PYNETNS, "add", "y"], [IP, "netns", "add", "z"]],
                   STATES["absent"])
    points = [m[2] for m in mount_shape(runs[-1].mountinfo, "/run")]
    assert points.count("/run/netns") == 1
    assert sorted(points) == ["/run", "/run/netns", "/run/netns/x", "/run/netns/y",
                              "/run/netns/z"]


def test_parallel_first_adds_make_one_mount_point():
    script = " & ".join(f"$PYNETNS add p{i}" for i in range(6)) + " & wait"
    run = private([["true"]], STATES["absent"] + script + "\n")[0]
    shape = mount_shape(run.mountinfo, "/run")
    points = [m[2] for m in shape]
    assert points.count("/run/netns") == 1
    assert sorted(points[2:]) == [f"/run/netns/p{i}" for i in range(6)]


def test_failed_first_add_still_prepares_like_ip():
    # An invalid name fails before anything is touched, with both tools.
    ip = first([IP, "netns", "add", ".."], STATES["absent"])
    py = first([PYNETNS, "add", ".."], STATES["absent"])
    assert py.triple() == ip.triple()
    assert mount_shape(py.mountinfo, "/run") == mount_shape(ip.mountinfo, "/run")
    assert py.extra == ip.extra  # stat fails: /run/netns was not created
