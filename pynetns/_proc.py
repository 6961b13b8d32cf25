"""/proc walked one way for every module that needs it: the PIDs, those in a namespace, and
the mounts of a mount namespace.

Below store, procs and holders (it imports only ns), so none of them need each other for it.
"""
import os

from . import ns


def proc_pids():
    """PIDs (as strings) in /proc's readdir order (what `ip` prints)."""
    return [d for d in os.listdir("/proc") if d.isdigit()]


def pids_in(identity):
    """PIDs (as strings, /proc order) whose network namespace has this (dev, ino)."""
    dev, ino = identity
    if dev != ns.nsfs_device():
        return []  # every /proc/PID/ns/net is on nsfs
    # The link's text "net:[INO]" names the inode: readlink skips the nsfs lookup a stat
    # makes, ~15% less kernel time per process, and this loop is one call per process.
    wanted = f"net:[{ino}]"
    readlink = os.readlink
    found = []
    for pid in proc_pids():
        try:
            if readlink(f"/proc/{pid}/ns/net") == wanted:
                found.append(pid)
        except OSError:
            pass
    return found


def stat_field(pid, number):
    """Field ``number`` of /proc/PID/stat as an int (4: the parent's PID, 22: the start time
    in clock ticks since boot), or None when PID is gone. Counted after the command name,
    which may hold blanks and parentheses of its own."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[number - 3])
    except (OSError, ValueError, IndexError):
        return None


def unescape(field):
    """mountinfo writes space, tab, newline and backslash as \\ooo."""
    parts = field.split(b"\\")
    out = [parts[0]]
    for part in parts[1:]:
        code = part[:3]
        if len(code) == 3 and all(48 <= c <= 55 for c in code):
            out.append(bytes([int(code, 8)]) + part[3:])
        else:
            out.append(b"\\" + part)
    return b"".join(out)


def mount_rows(pid="self"):
    """(mount id, parent id, mount point, root, fstype) of every mount in the mount namespace
    of ``pid``."""
    with open(f"/proc/{pid}/mountinfo", "rb") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index(b"-") + 1]
            yield (int(fields[0]), int(fields[1]), os.fsdecode(unescape(fields[4])),
                   os.fsdecode(unescape(fields[3])), os.fsdecode(fstype))


_NSFS = b" - nsfs "  # the separator, then the type: a path's blanks are escaped as \040


def nsfs_mounts(pid="self"):
    """(mount point, root) of the nsfs mounts in the mount namespace of ``pid``, as
    mountinfo writes them (escaped bytes: decoded() gives the text), e.g.
    (b"/run/netns/a", b"net:[4026532288]"). Only their lines are split, and only as far
    as the mount point: every `ip netns exec` makes a copy of a table of thousands."""
    with open(f"/proc/{pid}/mountinfo", "rb") as f:
        data = f.read()
    found = []
    for line in data.split(b"\n"):
        if _NSFS in line:
            fields = line.split(b" ", 5)  # ID PARENT MAJ:MIN ROOT POINT ...: single blanks
            found.append((fields[4], fields[3]))
    return found


def decoded(field):
    """The text of a mountinfo field."""
    return os.fsdecode(unescape(field) if b"\\" in field else field)
