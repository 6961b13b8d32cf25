"""Namespace identity: is a file a network namespace, and which one.

A namespace file is identified by (st_dev, st_ino) on nsfs; the NS_GET_NSTYPE ioctl tells a
network namespace from a UTS or mount namespace bound on the same filesystem.
"""
import os
import stat as _stat

from . import _sys
from .errors import NotANamespace

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


def identity(path):
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
    symlink to X", "a UTS namespace"). ``fd`` is an open descriptor when one was kept.
    """

    __slots__ = ("path", "dev", "ino", "symlink", "target", "problem", "fd")

    def __init__(self, path, dev=0, ino=0, symlink=False, target=None, problem=None, fd=-1):
        self.path = path
        self.dev = dev
        self.ino = ino
        self.symlink = symlink
        self.target = target
        self.problem = problem
        self.fd = fd

    @property
    def ok(self):
        return self.problem is None


def check(path, is_symlink=None, keep_fd=False, check_type=True):
    """Classify path without ever opening anything that is not on nsfs.

    Raises FileNotFoundError when path itself does not exist. A FIFO or device is never
    opened (opening a FIFO would block). With ``check_type`` false (and ``keep_fd``), a
    namespace of any type passes: the caller checks the kept fd with check_fd_type().
    """
    st = None
    if is_symlink is None:
        st = os.lstat(path)  # for anything but a symlink, what stat() would say
        is_symlink = _stat.S_ISLNK(st.st_mode)
    target = None
    if is_symlink:
        target = os.readlink(path)
        try:
            st = os.stat(path)
        except OSError:
            return Checked(path, symlink=True, target=target,
                           problem=f"a dangling symlink to {target}")
    elif st is None:
        st = os.stat(path)
    res = Checked(path, st.st_dev, st.st_ino, is_symlink, target)
    if st.st_dev != nsfs_device() or not _stat.S_ISREG(st.st_mode):
        res.problem = _file_kind(st.st_mode)
        return res
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    if check_type or not keep_fd:
        check_fd_type(res, fd)
    if keep_fd and res.problem is None:
        res.fd = fd
    else:
        os.close(fd)
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
    return NotANamespace(
        f'"{name}" is {checked.problem}, not a network namespace',
        name=name, problem=checked.problem)
