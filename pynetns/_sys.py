"""The only module that talks to libc: namespace, mount and inotify syscalls through ctypes.

libc is bound on first use (see _Libc), never at import time.
Every function raises OSError(errno, strerror) on failure, like the os module does.
"""
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWTIME = 0x00000080

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MNT_DETACH = 2
LOCK_SH = 1
LOCK_EX = 2
LOCK_NB = 4
UMOUNT_NOFOLLOW = 8

IN_CREATE = 0x100
IN_DELETE = 0x200

_libc = None


class _Libc:
    """libc functions as attributes, like ctypes.CDLL(None, use_errno=True), but built on
    _ctypes alone: the ctypes package costs ~2 ms to import, _ctypes ~0.4 ms."""

    def __init__(self):
        import _ctypes

        class c_int(_ctypes._SimpleCData):
            _type_ = "i"

        class c_uint(_ctypes._SimpleCData):
            _type_ = "I"

        class c_ulong(_ctypes._SimpleCData):
            _type_ = "L"

        class Function(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
            _restype_ = c_int

        # CFuncPtr looks symbols up here. None is dlopen(NULL), the program itself, which
        # typeshed's stub (paths only) leaves out.
        self._handle = _ctypes.dlopen(None, os.RTLD_NOW)  # type: ignore[arg-type]
        self._function = Function
        self.c_uint, self.c_ulong, self.get_errno = c_uint, c_ulong, _ctypes.get_errno

    def __getattr__(self, name):
        # Any object with a _handle will do at run time; typeshed's stub asks for a CDLL.
        function = self._function((name, self))  # type: ignore[arg-type]
        setattr(self, name, function)
        return function


def _lib():
    global _libc
    if _libc is None:
        _libc = _Libc()
    return _libc


def _check(result):
    if result < 0:
        err = _lib().get_errno()
        raise OSError(err, os.strerror(err))
    return result


def setns(fd, nstype=0):
    _check(_lib().setns(fd, nstype))


def unshare(flags):
    _check(_lib().unshare(flags))


def mount(source, target, fstype, flags, data=None):
    libc = _lib()
    _check(libc.mount(
        os.fsencode(source), os.fsencode(target),
        None if fstype is None else os.fsencode(fstype),
        libc.c_ulong(flags),
        None if data is None else os.fsencode(data)))


def umount2(target, flags=0):
    _check(_lib().umount2(os.fsencode(target), flags))


def inotify_init():
    return _check(_lib().inotify_init1(os.O_CLOEXEC))


def inotify_add_watch(fd, path, mask):
    libc = _lib()
    return _check(libc.inotify_add_watch(fd, os.fsencode(path), libc.c_uint(mask)))


def ioctl(fd, request):
    """An ioctl without argument (NS_GET_NSTYPE...): the fcntl module would be one more
    extension to load on paths that already use libc."""
    libc = _lib()
    return _check(libc.ioctl(fd, libc.c_ulong(request)))


def flock(fd, operation):
    while True:
        try:
            return _check(_lib().flock(fd, operation))
        except InterruptedError:
            continue  # retried, as fcntl.flock does (PEP 475)
