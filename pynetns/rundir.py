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
import os

from . import _sys
from .errors import NotFound, PermissionDenied, SystemCallFailed

# Test hook for tests/stress: PYNETNS_TEST_PAUSE=STEP makes the process stop itself with
# SIGSTOP at STEP, where the test kills it. Steps, in order:
#   add:locked add:placeholder add:unshared add:mounted
#   attach:locked attach:placeholder attach:opened attach:mounted
#   delete:locked delete:unmounted delete:unlinked
PAUSE_AT = os.environ.get("PYNETNS_TEST_PAUSE")

# How long a reader waits for a writer in flight before it reports what it sees (a
# stopped or hung writer must not hang `list`).
READER_WAIT = 2.0


def pause(step):
    if step == PAUSE_AT:
        os.kill(os.getpid(), 19)  # SIGSTOP (the signal module costs an enum import)


def open_dir(path):
    """A descriptor of the directory ``path``, which must not be a symlink."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        message = f'Cannot open netns runtime directory "{path}"'
        if e.errno == 20 and os.path.islink(path):  # ENOTDIR is what O_NOFOLLOW gives here
            target = os.readlink(path)
            raise SystemCallFailed(f"{message}: it is a symlink to {target}, "
                                   "not a directory; refusing to follow it",
                                   errno=e.errno) from None
        cls = {2: NotFound, 1: PermissionDenied, 13: PermissionDenied}.get(e.errno,
                                                                        SystemCallFailed)
        raise cls(f"{message}: {e.strerror}", errno=e.errno) from None


def lock(path):
    """Open ``path`` and hold an exclusive lock on it until the descriptor is closed."""
    fd = open_dir(path)
    try:
        _sys.flock(fd, _sys.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


class settled:
    """``with settled(path):`` waits (at most READER_WAIT) until no writer holds the lock,
    then keeps a shared lock for the block, so a second look sees finished operations only.
    Without the directory, or past the wait, the block runs unlocked."""

    def __init__(self, path):
        self.path = path
        self.fd = -1

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
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
            os.close(self.fd)
            self.fd = -1
