"""/run/netns as a resource shared by concurrent callers.

Writers (add, attach, delete, prune) hold an exclusive flock on the directory for their whole
operation, so two pynetns calls never see each other's half-made entries. It is the lock
`ip netns add` takes, on the same inode, but ip holds it only while it sets the directory
up and waits for nothing while holding it, so neither side can deadlock the other.
Readers (list, exec, exists...) take no lock on the normal path; only when an entry looks
broken do they wait, briefly, for writers in flight and look again.

The directory is never opened through a symlink: a /run/netns replaced by one would make
every mount and unlink land elsewhere.
"""
import _thread
import os

from . import _sys
from .errors import NetnsError, SystemCallFailed, class_of, from_oserror

# Test hook for tests/stress: PYNETNS_TEST_PAUSE=STEP makes the process stop itself with
# SIGSTOP at STEP, where the test kills it. Steps, in order:
#   add:locked add:placeholder add:unshared add:mounted
#   attach:locked attach:placeholder attach:opened attach:mounted
#   delete:locked delete:unmounted delete:unlinked
#   record:written (a record's temporary file, before its rename)
#   attach:recorded (attach --symlink: the record is there, the symlink not yet)
PAUSE_AT = os.environ.get("PYNETNS_TEST_PAUSE")

# How long a reader waits for a writer in flight before it reports what it sees (a
# stopped or hung writer must not hang `list`).
READER_WAIT = 2.0


def pause(step):
    if step == PAUSE_AT:
        os.kill(os.getpid(), 19)  # SIGSTOP (the signal module costs an enum import)


def is_symlink(path):
    """Whether ``path`` is a symlink now; a race with its removal is simply False."""
    try:
        os.readlink(path)
    except OSError:
        return False
    return True


def open_dir(path):
    """A descriptor of the directory ``path``, which must not be a symlink."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        message = f'Cannot open netns runtime directory "{path}"'
        if e.errno in (20, 40):  # ENOTDIR or ELOOP: what O_NOFOLLOW gives for a symlink
            try:
                target = os.readlink(path)
            except OSError:
                target = None  # not a symlink, or no longer one
            if target is not None:
                from ._text import printable
                raise class_of(e.errno)(f"{message}: it is a symlink to {printable(target)}, "
                                        "not a directory; refusing to follow it", path=path,
                                        errno=e.errno) from None
        raise from_oserror(e, message, path=path) from None


# Descriptors that hold a flock on a run directory. A fork() copies them, and with them the
# lock (flock belongs to the open file description), so a child of a library user would
# keep /run/netns locked until it exits: the child closes its copies at once. _guard keeps a
# fork from falling between a descriptor's opening and its registration (or its closing).
_held: dict[int, bool] = {}
_guard = _thread.allocate_lock()


def _close_held_in_child():
    for fd in _held:
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()
    _guard.release()


os.register_at_fork(before=_guard.acquire, after_in_parent=_guard.release,
                    after_in_child=_close_held_in_child)


def _open_held(path, opener):
    with _guard:
        fd = opener(path)
        _held[fd] = True
    return fd


def _close_held(fd):
    with _guard:
        _held.pop(fd, None)
        os.close(fd)


class Locked:
    """The exclusive lock on the directory ``path`` (as ip's flock), and ``dir``: the
    descriptor every step of the operation acts relative to, so that a /run/netns swapped
    for a symlink or another directory meanwhile changes nothing for us."""

    def __init__(self, path):
        self.path = path
        self.fd = _open_held(path, open_dir)
        self.dir = self.fd
        try:
            _sys.flock(self.fd, _sys.LOCK_EX)
            # What we opened may be under a self bind mount that ip made while we waited.
            self.reopen()
        except BaseException:
            self.close()
            raise

    def reopen(self):
        """Act on what is mounted on the directory now (after a self bind mount), which must
        be the directory we locked."""
        fd = open_dir(self.path)
        if not os.path.samestat(os.fstat(fd), os.fstat(self.fd)):
            os.close(fd)
            raise SystemCallFailed(f'"{self.path}" was replaced while it was being set up')
        if self.dir != self.fd:
            os.close(self.dir)
        self.dir = fd

    def close(self):
        if self.dir != self.fd:
            os.close(self.dir)
        if self.fd >= 0:
            _close_held(self.fd)
        self.fd = self.dir = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class settled:
    """``with settled(path):`` waits (at most READER_WAIT) until no writer holds the lock,
    then keeps a shared lock for the block, so a second look sees finished operations only.
    Without the directory, or past the wait, the block runs unlocked."""

    def __init__(self, path):
        self.path = path
        self.fd = -1

    def __enter__(self):
        try:
            self.fd = _open_held(self.path, open_dir)
        except NetnsError:
            return self
        import time
        waited, delay = 0.0, 0.001
        while True:
            try:
                _sys.flock(self.fd, _sys.LOCK_SH | _sys.LOCK_NB)
                return self
            except BlockingIOError:
                pass
            if waited >= READER_WAIT:
                return self
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.05)

    def __exit__(self, *exc):
        if self.fd >= 0:
            _close_held(self.fd)
            self.fd = -1
