"""The only module that talks to libc: namespace, mount and inotify syscalls through ctypes.

ctypes costs a few milliseconds to import, so it is loaded on first use, never at import time.
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
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MNT_DETACH = 2

IN_CREATE = 0x100
IN_DELETE = 0x200

_libc = None


def _lib():
    global _libc
    if _libc is None:
        import ctypes
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result):
    if result < 0:
        import ctypes
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def setns(fd, nstype=0):
    _check(_lib().setns(fd, nstype))


def unshare(flags):
    _check(_lib().unshare(flags))


def mount(source, target, fstype, flags, data=None):
    import ctypes
    _check(_lib().mount(
        os.fsencode(source), os.fsencode(target),
        None if fstype is None else os.fsencode(fstype),
        ctypes.c_ulong(flags),
        None if data is None else os.fsencode(data)))


def umount2(target, flags=0):
    _check(_lib().umount2(os.fsencode(target), flags))


def inotify_init():
    return _check(_lib().inotify_init1(os.O_CLOEXEC))


def inotify_add_watch(fd, path, mask):
    import ctypes
    return _check(_lib().inotify_add_watch(fd, os.fsencode(path), ctypes.c_uint32(mask)))
