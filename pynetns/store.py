"""/run/netns: names, the add/attach/delete mount sequences, and the list of entries.

The sequences follow iproute2 6.1 step by step (mkdir, flock, make-shared with a self bind
when needed, O_EXCL placeholder, bind mount), so files and mounts are the same as `ip`
leaves; every failure after the placeholder exists removes it.
"""
import os

from . import _sys, ns
from ._cint import parse_c_int
from .errors import (Exists, InvalidName, InvalidPid, NotFound, PermissionDenied,
                     SystemCallFailed)

RUN_DIR = "/run/netns"
NAME_MAX = 255


def is_valid_name(name):
    raw = os.fsencode(name)
    # A NUL cannot reach ip through argv; for library callers it is just as invalid.
    return (bool(raw) and len(raw) <= NAME_MAX and b"/" not in raw and b"\0" not in raw
            and raw not in (b".", b".."))


def check_name(name):
    if not is_valid_name(name):
        raise InvalidName(f'Invalid netns name "{name}"', name=name)


def path_of(name):
    return f"{RUN_DIR}/{name}"


def _failed(cls_default, message, err, name=None):
    """An OSError turned into the right pynetns error (EPERM → PermissionDenied)."""
    cls = PermissionDenied if err.errno in (1, 13) else cls_default
    return cls(f"{message}: {err.strerror}", name=name, errno=err.errno)


def prepare_run_dir():
    """Make /run/netns exist and be a shared mount point, as `ip netns add` does."""
    try:
        os.mkdir(RUN_DIR, 0o755)
    except FileExistsError:
        pass
    except OSError as e:
        raise _failed(SystemCallFailed, f"mkdir {RUN_DIR} failed", e) from None
    try:
        lock = os.open(RUN_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise _failed(SystemCallFailed,
                      f'Cannot open netns runtime directory "{RUN_DIR}"', e) from None
    try:
        import fcntl
        # Parallel first-time adds would otherwise stack self bind mounts (Debian #949235).
        fcntl.flock(lock, fcntl.LOCK_EX)
        made_mount_point = False
        while True:
            try:
                _sys.mount("", RUN_DIR, "none", _sys.MS_SHARED | _sys.MS_REC)
                return
            except OSError as e:
                if e.errno != 22 or made_mount_point:
                    raise _failed(SystemCallFailed,
                                  f"mount --make-shared {RUN_DIR} failed", e) from None
            try:
                _sys.mount(RUN_DIR, RUN_DIR, "none", _sys.MS_BIND | _sys.MS_REC)
            except OSError as e:
                raise _failed(SystemCallFailed,
                              f"mount --bind {RUN_DIR} {RUN_DIR} failed", e) from None
            made_mount_point = True
    finally:
        os.close(lock)  # closing drops the flock


def _create_placeholder(name):
    path = path_of(name)
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0))
    except FileExistsError as e:
        raise Exists(f'Cannot create namespace file "{path}": {e.strerror}',
                     name=name, errno=e.errno) from None
    except OSError as e:
        raise _failed(SystemCallFailed, f'Cannot create namespace file "{path}"', e,
                      name) from None
    return path


def _bind_or_remove(source, path, name):
    try:
        _sys.mount(source, path, "none", _sys.MS_BIND)
    except OSError as e:
        os.unlink(path)
        raise _failed(NotFound if e.errno == 2 else SystemCallFailed,
                      f"Bind {source} -> {path} failed", e, name) from None


def add(name, exist_ok=False):
    """Create a new network namespace and name it. The caller's namespace is unchanged."""
    check_name(name)
    prepare_run_dir()
    try:
        path = _create_placeholder(name)
    except Exists:
        if exist_ok:
            return False
        raise
    self_ns = "/proc/thread-self/ns/net"
    saved = os.open(self_ns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            _sys.unshare(_sys.CLONE_NEWNET)
        except OSError as e:
            os.unlink(path)
            raise _failed(SystemCallFailed,
                          f'Failed to create a new network namespace "{name}"', e,
                          name) from None
        try:
            _bind_or_remove(self_ns, path, name)
        finally:
            _sys.setns(saved, _sys.CLONE_NEWNET)
    finally:
        os.close(saved)
    return True


def attach(name, pid):
    """Name the network namespace of process ``pid`` (a bind mount of /proc/PID/ns/net)."""
    number = parse_c_int(str(pid))
    if not number:
        raise InvalidPid(f"Invalid PID: {pid}")
    return bind(name, f"/proc/{number}/ns/net")


def bind(name, source):
    """Bind the namespace file ``source`` on a new entry ``name``."""
    check_name(name)
    prepare_run_dir()
    path = _create_placeholder(name)
    _bind_or_remove(source, path, name)
    return path


def delete(name):
    """Unmount and remove an entry, healthy or broken, as `ip netns delete` does."""
    check_name(name)  # the CLI checked already; a library caller must not reach outside
    path = path_of(name)
    try:
        _sys.umount2(path, _sys.MNT_DETACH)
    except OSError:
        pass  # EINVAL: not a mount point (plain file, symlink); the unlink still runs
    try:
        try:
            os.unlink(path)
        except IsADirectoryError:
            os.rmdir(path)  # unlike ip: `list` says a stray directory is removed this way
    except FileNotFoundError as e:
        raise NotFound(f'Cannot remove namespace file "{path}": {e.strerror}',
                       name=name, errno=e.errno) from None
    except OSError as e:
        raise _failed(SystemCallFailed, f'Cannot remove namespace file "{path}"', e,
                      name) from None


def names():
    """Entry names in readdir order; an absent /run/netns is empty."""
    try:
        return [e.name for e in os.scandir(RUN_DIR)]
    except FileNotFoundError:
        return []


class Entry:
    """One name under /run/netns and what it holds."""

    __slots__ = ("name", "checked", "nsid")

    def __init__(self, name, checked, nsid=None):
        self.name = name
        self.checked = checked
        self.nsid = nsid

    @property
    def ok(self):
        return self.checked.ok

    @property
    def problem(self):
        return self.checked.problem

    def __repr__(self):
        state = "ok" if self.ok else self.problem
        return f"Entry({self.name!r}, {state}, nsid={self.nsid})"


def entries(with_nsid=True):
    """Every entry in readdir order, checked; nsids (in the caller's namespace) for good ones."""
    try:
        scan = list(os.scandir(RUN_DIR))
    except FileNotFoundError:
        return []
    result = []
    fds = []
    try:
        for d in scan:
            try:
                c = ns.check(d.path, d.is_symlink(), keep_fd=with_nsid)
            except FileNotFoundError:
                continue  # removed while we looked
            e = Entry(d.name, c)
            result.append(e)
            if c.fd >= 0:
                fds.append(e)
        if fds:
            from . import _nsid
            for e, nsid in zip(fds, _nsid.get_nsids([e.checked.fd for e in fds])):
                e.nsid = nsid
    finally:
        for e in fds:
            os.close(e.checked.fd)
            e.checked.fd = -1
    return result


def open_checked(name):
    """Open a named entry for use; raise NotFound or NotANamespace before anything happens."""
    check_name(name)
    path = path_of(name)
    try:
        c = ns.check(path, keep_fd=True)
    except FileNotFoundError as e:
        raise NotFound(f'Cannot open network namespace "{name}": {e.strerror}',
                       name=name, errno=e.errno) from None
    except OSError as e:
        raise _failed(SystemCallFailed, f'Cannot open network namespace "{name}"', e,
                      name) from None
    if not c.ok:
        raise ns.not_a_namespace(name, c)
    return c
