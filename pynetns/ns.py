"""Namespace identity: is a file a network namespace, and which one.

A namespace file is identified by (st_dev, st_ino) on nsfs; the NS_GET_NSTYPE ioctl tells a
network namespace from a UTS or mount namespace bound on the same filesystem.
"""
from __future__ import annotations

import os
import stat as _stat

from . import _sys
from .errors import NotANamespace, PermissionDenied, class_of

NS_GET_NSTYPE = 0xB703

NSTYPE_NAMES = {
    _sys.CLONE_NEWNET: "network",
    _sys.CLONE_NEWUTS: "UTS",
    _sys.CLONE_NEWNS: "mount",
    _sys.CLONE_NEWIPC: "IPC",
    _sys.CLONE_NEWPID: "PID",
    _sys.CLONE_NEWUSER: "user",
    _sys.CLONE_NEWCGROUP: "cgroup",
    _sys.CLONE_NEWTIME: "time",
}

_nsfs_dev = None


def nsfs_device():
    """The st_dev of nsfs, read from our own namespace link."""
    global _nsfs_dev
    if _nsfs_dev is None:
        _nsfs_dev = os.stat("/proc/self/ns/net").st_dev
    return _nsfs_dev


def identity(path: str) -> tuple[int, int]:
    """(st_dev, st_ino) of the namespace at path (symlinks followed)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _file_kind(mode):
    if _stat.S_ISDIR(mode):
        return "a directory"
    if _stat.S_ISFIFO(mode):
        return "a FIFO"
    if _stat.S_ISSOCK(mode):
        return "a socket"
    if _stat.S_ISCHR(mode) or _stat.S_ISBLK(mode):
        return "a device file"
    return "a plain file"


class Checked:
    """What a namespace file turned out to be.

    ``problem`` is None for a network namespace, else a phrase ("a plain file", "a dangling
    symlink to X", "a UTS namespace"). ``unknown`` is the reason when we could not tell
    (no permission to follow a symlink into /proc/PID/ns): neither healthy nor broken, and
    ``errno`` the error's number. ``ctime`` is the namespace file's st_ctime_ns; ``fd`` an
    open descriptor when one was kept.
    """

    __slots__ = ("path", "dev", "ino", "ctime", "symlink", "target", "problem", "unknown",
                 "errno", "fd")

    def __init__(self, path: str, dev: int = 0, ino: int = 0, symlink: bool = False,
                 target: str | None = None, problem: str | None = None, fd: int = -1,
                 unknown: str | None = None, ctime: int = 0,
                 errno: int | None = None) -> None:
        self.path = path
        self.dev = dev
        self.ino = ino
        self.ctime = ctime
        self.symlink = symlink
        self.target = target
        self.problem = problem
        self.unknown = unknown
        self.errno = errno
        self.fd = fd

    @property
    def ok(self) -> bool:
        return self.problem is None and self.unknown is None


def check(path: str, keep_fd: bool = False, check_type: bool = True,
          dir_fd: int | None = None) -> Checked:
    """Classify path (relative to ``dir_fd`` if given) without ever opening for reading
    anything that is not on nsfs.

    Everything is opened first (O_PATH, which cannot block on a FIFO nor reach a device's
    driver) and judged by fstat of the descriptor held, so a file swapped in meanwhile is
    never the one opened. Raises FileNotFoundError when path itself does not exist. With
    ``check_type`` false (and ``keep_fd``), a namespace of any type passes: the caller
    checks the kept fd with check_fd_type().
    """
    entry = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        st = os.fstat(entry)
        if not _stat.S_ISLNK(st.st_mode):
            return held(entry, path, st, keep_fd, check_type)
        target = os.readlink("", dir_fd=entry)  # of the very link we hold: no race
    finally:
        os.close(entry)
    base = dir_fd
    if dir_fd is None and not target.startswith("/"):
        target_path = os.path.join(os.path.dirname(path), target)
    else:
        target_path = target
    try:
        followed = os.open(target_path, os.O_PATH | os.O_CLOEXEC, dir_fd=base)
    except OSError as e:
        if class_of(e.errno) is PermissionDenied:  # another's /proc/PID/ns: cannot tell
            return Checked(path, symlink=True, target=target, unknown=e.strerror,
                           errno=e.errno)
        return Checked(path, symlink=True, target=target,
                       problem=f"a dangling symlink to {target}")
    try:
        res = held(followed, path, os.fstat(followed), keep_fd, check_type)
    finally:
        os.close(followed)
    res.symlink, res.target = True, target
    return res


def held(fd, path, st=None, keep_fd=False, check_type=True):
    """Classify the file of the O_PATH descriptor ``fd`` (with its fstat ``st``). Only a
    file on nsfs is opened for reading (through the descriptor, so the same file), with
    O_NONBLOCK all the same."""
    if st is None:
        st = os.fstat(fd)
    res = Checked(path, st.st_dev, st.st_ino, ctime=st.st_ctime_ns)
    if st.st_dev != nsfs_device() or not _stat.S_ISREG(st.st_mode):
        res.problem = _file_kind(st.st_mode)
        return res
    readable = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if check_type or not keep_fd:
        check_fd_type(res, readable)
    if keep_fd and res.problem is None:
        res.fd = readable
    else:
        os.close(readable)
    return res


def check_fd_type(checked, fd):
    """Set checked.problem unless fd is a network namespace."""
    try:
        kind = _sys.ioctl(fd, NS_GET_NSTYPE)
    except OSError:
        kind = None
    if kind != _sys.CLONE_NEWNET:
        what = NSTYPE_NAMES.get(kind, "non-network")
        checked.problem = f"{'an' if what == 'IPC' else 'a'} {what} namespace"


def not_a_namespace(name, checked):
    """The error for a broken entry: says what it is and how to remove it."""
    from ._text import printable  # a name or a symlink's target can hold anything
    return NotANamespace(
        f'"{printable(name)}" is {printable(checked.problem)}, not a network namespace',
        name=name, problem=checked.problem)
