"""Who holds an entry `delete` could not remove, and the namespace mounted on it.

The unlink of an entry fails with EBUSY while something is still mounted on the file in
the caller's mount namespace: mounts stacked on /run/netns/NAME, or the same file seen
through another bind of the directory. (Copies in other mount namespaces do not block it:
since Linux 3.18 the unlink detaches them.) Reads every process's namespaces and
mountinfo, so only the error path imports this module.
"""
import os

from . import ns
from ._proc import mount_rows, pids_in, proc_pids

SHOWN_PIDS = 8


def mountinfo(pid="self"):
    """(mount point, root, fstype) of every mount in the mount namespace of ``pid``."""
    for _, _, point, root, fstype in mount_rows(pid):
        yield point, root, fstype


def mounts_on_entry(name, run_dir):
    """Mounts in this mount namespace that sit on the entry ``name`` of ``run_dir``."""
    directory = os.stat(run_dir)
    found = []
    for point, root, fstype in mountinfo():
        parent, _, base = point.rpartition("/")
        if base != name:
            continue
        try:
            if os.path.samestat(os.stat(parent or "/"), directory):
                found.append((point, root, fstype))
        except OSError:
            continue
    return found


def _mount_namespaces():
    """{mount namespace ("mnt:[N]"): [pids]} of every process we may look at."""
    groups: dict[str, list[str]] = {}
    for pid in proc_pids():
        try:
            groups.setdefault(os.readlink(f"/proc/{pid}/ns/mnt"), []).append(pid)
        except OSError:
            continue
    return groups


def _points_in(pids, root):
    """Where ``root`` (e.g. "net:[N]") is mounted in the mount namespace of these pids."""
    for pid in pids:
        try:
            return [p for p, r, t in mountinfo(pid) if t == "nsfs" and r == root]
        except OSError:
            continue  # exited, or not ours to read: try another process of that namespace
    return []


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return os.fsdecode(f.read().strip())
    except OSError:
        return "?"


def _some(pids):
    shown = ", ".join(f"{p} ({_comm(p)})" for p in pids[:SHOWN_PIDS])
    more = len(pids) - SHOWN_PIDS
    return f"pids {shown}" + (f" and {more} more" if more > 0 else "")


def describe(name, run_dir):
    """Lines saying what is mounted on the entry, where else its namespace is mounted
    (by mount namespace) and which processes are inside it."""
    here = os.readlink("/proc/self/ns/mnt")
    lines = []
    roots = []
    for point, root, fstype in mounts_on_entry(name, run_dir):
        what = f"network namespace {root}" if root.startswith("net:[") else f"{fstype} {root}"
        lines.append(f'"{name}" is still mounted at {point} ({what}) in this mount namespace '
                     f"({here})")
        if root.startswith("net:[") and root not in roots:
            roots.append(root)
    groups = _mount_namespaces() if roots else {}
    entry = f"{run_dir}/{name}"
    for root in roots:
        for mnt, pids in groups.items():
            # Copies on the entry itself go with it; mounts elsewhere keep the namespace.
            points = [p for p in _points_in(pids, root) if p != entry] if mnt != here else []
            if points:
                lines.append(f"{root} is also mounted at {', '.join(points)} in mount "
                             f"namespace {mnt} ({_some(pids)})")
        inside = pids_in((ns.nsfs_device(), int(root[5:-1])))
        if inside:
            lines.append(f"processes inside {root}: {_some(inside)}")
    return lines
