"""/run/netns: names, the add/attach/delete mount sequences, and the list of entries.

The sequences follow iproute2 6.1 step by step (mkdir, flock, make-shared with a self bind
when needed, O_EXCL placeholder, bind mount), so files and mounts are the same as `ip`
leaves; every failure after the placeholder exists removes it.
"""
import os

from . import _sys, ns, rundir
from ._cint import parse_c_int
from .errors import (Busy, Exists, InvalidName, InvalidPid, NetnsError, NotANamespace,
                     NotFound, PermissionDenied, SystemCallFailed)
from .rundir import pause

RUN_DIR = "/run/netns"
NAME_MAX = 255


def is_valid_name(name):
    """Whether ``name`` may name an entry (see InvalidName)."""
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


def make_run_dir():
    """Create /run/netns unless it exists, as `ip netns add` and `monitor` do."""
    try:
        os.mkdir(RUN_DIR, 0o755)
    except FileExistsError:
        pass
    except OSError as e:
        raise _failed(SystemCallFailed, f"mkdir {RUN_DIR} failed", e) from None


def prepare_run_dir():
    """Make /run/netns exist and be a shared mount point, as `ip netns add` does.

    Returns a descriptor holding the directory's exclusive lock: the caller keeps it for its
    whole operation and closes it at the end.
    """
    make_run_dir()
    # Under the lock, parallel first-time adds cannot stack self bind mounts (Debian #949235).
    lock = rundir.lock(RUN_DIR)
    try:
        made_mount_point = False
        while True:
            try:
                _sys.mount("", RUN_DIR, "none", _sys.MS_SHARED | _sys.MS_REC)
                return lock
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
    except BaseException:
        os.close(lock)
        raise


def create_failed(name, err):
    """The error for an OSError from creating entry ``name`` (placeholder or symlink)."""
    message = f'Cannot create namespace file "{path_of(name)}"'
    return _failed(Exists if err.errno == 17 else SystemCallFailed, message, err, name)


def _create_placeholder(name):
    """The new empty entry, created with O_EXCL (which never follows a planted symlink);
    returns its descriptor, which the bind mount targets exactly."""
    try:
        return os.open(path_of(name), os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0)
    except OSError as e:
        raise create_failed(name, e) from None


def _remove_placeholder(name, placeholder):
    """Unlink our placeholder, but not an entry someone (ip, which takes no lock) put
    in its place meanwhile."""
    path = path_of(name)
    try:
        if os.path.samestat(os.lstat(path), os.fstat(placeholder)):
            os.unlink(path)
    except FileNotFoundError:
        pass


def _bind_placeholder(source, placeholder, name, shown_source=None):
    """Bind source on the placeholder (through its descriptor, so a path swapped meanwhile
    cannot redirect the mount); on failure remove the placeholder."""
    try:
        _sys.mount(source, f"/proc/self/fd/{placeholder}", "none", _sys.MS_BIND)
    except OSError as e:
        _remove_placeholder(name, placeholder)
        raise _failed(NotFound if e.errno == 2 else SystemCallFailed,
                      f"Bind {shown_source or source} -> {path_of(name)} failed", e,
                      name) from None


def add(name, exist_ok=False):
    """Create a new network namespace and name it. The caller's namespace is unchanged.

    With ``exist_ok``, an existing network namespace of that name is fine (returns False);
    an existing broken entry is not (NotANamespace).
    """
    check_name(name)
    lock = prepare_run_dir()
    try:
        pause("add:locked")
        try:
            placeholder = _create_placeholder(name)
        except Exists as taken:
            if not exist_ok:
                raise
            try:
                found = ns.check(path_of(name))
            except OSError:
                raise taken from None
            if not found.ok:
                raise ns.not_a_namespace(name, found) from None
            return False
        try:
            pause("add:placeholder")
            _new_namespace_on(placeholder, name)
        finally:
            os.close(placeholder)
    finally:
        os.close(lock)
    return True


def _new_namespace_on(placeholder, name):
    self_ns = "/proc/thread-self/ns/net"
    saved = os.open(self_ns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            _sys.unshare(_sys.CLONE_NEWNET)
        except OSError as e:
            _remove_placeholder(name, placeholder)
            raise _failed(SystemCallFailed,
                          f'Failed to create a new network namespace "{name}"', e,
                          name) from None
        try:
            pause("add:unshared")
            _bind_placeholder(self_ns, placeholder, name)
            pause("add:mounted")
        finally:
            _sys.setns(saved, _sys.CLONE_NEWNET)
    finally:
        os.close(saved)


def attach(name, pid):
    """Name the network namespace of process ``pid`` (a bind mount of /proc/PID/ns/net)."""
    number = parse_c_int(str(pid))
    if not number:
        raise InvalidPid(f"Invalid PID: {pid}")
    return bind(name, f"/proc/{number}/ns/net")


def bind(name, source):
    """Bind the namespace file ``source`` on a new entry ``name``.

    The source is opened once the placeholder exists (ip's order of errors) and bound
    through that descriptor, so what is bound is what was checked: a process that exits
    before the open gives ip's "No such file or directory"; one that exits after it leaves
    its namespace named, kept alive by the mount. A source that is not a network namespace
    is refused.
    """
    check_name(name)
    lock = prepare_run_dir()
    try:
        pause("attach:locked")
        placeholder = _create_placeholder(name)
        try:
            pause("attach:placeholder")
            held = _open_source(source, placeholder, name)
            try:
                pause("attach:opened")
                _bind_placeholder(f"/proc/self/fd/{held}", placeholder, name, source)
                pause("attach:mounted")
            finally:
                os.close(held)
        finally:
            os.close(placeholder)
    finally:
        os.close(lock)
    return path_of(name)


def _open_source(source, placeholder, name):
    """The source, opened (O_PATH: a FIFO cannot block us) and checked to be a network
    namespace; otherwise the placeholder is removed and the error raised."""
    held = -1
    try:
        held = os.open(source, os.O_PATH | os.O_CLOEXEC)
        c = ns.check(f"/proc/self/fd/{held}", is_symlink=False)
        if c.ok:
            return held
        error = NotANamespace(f"Bind {source} -> {path_of(name)} failed: {source} is "
                              f"{c.problem}, not a network namespace", name=name,
                              problem=c.problem)
    except OSError as e:
        error = _failed(NotFound if e.errno == 2 else SystemCallFailed,
                        f"Bind {source} -> {path_of(name)} failed", e, name)
    if held >= 0:
        os.close(held)
    _remove_placeholder(name, placeholder)
    raise error


def delete(name):
    """Unmount and remove an entry, healthy or broken, as `ip netns delete` does, but all or
    nothing: when the entry cannot be removed its mount is put back, and Busy says what
    holds it. A symlink entry is removed, never followed (ip unmounts its target).
    """
    check_name(name)  # the CLI checked already; a library caller must not reach outside
    path = path_of(name)
    try:
        lock = rundir.lock(RUN_DIR)
    except NetnsError as e:
        # ip just unlinks, and what keeps us from the directory fails that unlink too.
        if e.errno not in (2, 13, 20) or (e.errno == 20 and os.path.islink(RUN_DIR)):
            raise
        cls = PermissionDenied if e.errno == 13 else NotFound
        raise cls(f'Cannot remove namespace file "{path}": {os.strerror(e.errno)}',
                  name=name, errno=e.errno) from None
    try:
        pause("delete:locked")
        _remove_entry(name, path)
        pause("delete:unlinked")
    finally:
        os.close(lock)


def _remove_entry(name, path):
    try:
        # Keeps what is mounted there reachable, to put it back if the unlink fails.
        held = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError as e:
        raise NotFound(f'Cannot remove namespace file "{path}": {e.strerror}',
                       name=name, errno=e.errno) from None
    except OSError:
        held = -1  # the unlink below reports it
    try:
        try:
            _sys.umount2(path, _sys.MNT_DETACH | _sys.UMOUNT_NOFOLLOW)
            unmount_error = None
        except OSError as e:
            unmount_error = e  # EINVAL: not a mount point (plain file, symlink)
        pause("delete:unmounted")
        try:
            try:
                os.unlink(path)
            except IsADirectoryError:
                os.rmdir(path)  # unlike ip: `list` says a stray directory is removed this way
        except FileNotFoundError as e:
            raise NotFound(f'Cannot remove namespace file "{path}": {e.strerror}',
                           name=name, errno=e.errno) from None
        except OSError as e:
            raise _not_removed(name, path, e, held, unmount_error) from None
    finally:
        if held >= 0:
            os.close(held)


def _not_removed(name, path, err, held, unmount_error):
    """The error for an entry the unlink refused; puts back the mount we took off."""
    message = f'Cannot remove namespace file "{path}": {err.strerror}'
    if err.errno == 16 and unmount_error is not None and unmount_error.errno in (1, 13):
        return PermissionDenied(f"{message} (it is mounted, and unmounting it failed: "
                                f"{unmount_error.strerror})", name=name, errno=1)
    lines = []
    if err.errno == 16:
        from . import holders
        lines = holders.describe(name, RUN_DIR)
    if unmount_error is None:
        try:
            _sys.mount(f"/proc/self/fd/{held}", path, "none", _sys.MS_BIND)
            lines.append(f'"{name}" was left as it was.')
        except OSError as e:
            lines.append(f'"{name}" is unmounted here now; putting its mount back failed: '
                         f"{e.strerror}")
    cls = Busy if err.errno == 16 else PermissionDenied if err.errno in (1, 13) else \
        SystemCallFailed
    return cls("\n".join([message] + lines), name=name, errno=err.errno)


def names():
    """Entry names in readdir order; an absent /run/netns is empty."""
    return [d.name for d in _scan()]


def _scan():
    """The directory entries of /run/netns in readdir order; none when it is absent, ip's
    words when it cannot be read (not a directory, no permission)."""
    try:
        return list(os.scandir(RUN_DIR))
    except FileNotFoundError:
        return []
    except OSError as e:
        raise _failed(SystemCallFailed, f"Failed to open directory {RUN_DIR}", e) from None


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
    found = _entries(with_nsid)
    if all(e.ok for e in found):
        return found
    # Maybe an add or delete in progress: look again once it is done.
    with rundir.settled(RUN_DIR):
        return _entries(with_nsid)


def _entries(with_nsid):
    result = []
    kept = []
    try:
        for d in _scan():
            try:
                # With nsids the kernel checks the type (RTM_GETNSID refuses an fd of
                # another namespace type): only entries it refuses need the ioctl.
                c = ns.check(d.path, d.is_symlink(), keep_fd=with_nsid, check_type=False)
            except FileNotFoundError:
                continue  # removed while we looked
            e = Entry(d.name, c)
            result.append(e)
            if c.fd >= 0:
                kept.append(e)
        if kept:
            from . import _nsid
            for e, (nsid, error) in zip(kept, _nsid.nsid_replies([e.checked.fd for e in kept])):
                e.nsid = nsid
                if error:
                    ns.check_fd_type(e.checked, e.checked.fd)
    finally:
        for e in kept:
            os.close(e.checked.fd)
            e.checked.fd = -1
    return result


def open_checked(name):
    """Open a named entry for use; raise NotFound or NotANamespace before anything happens."""
    check_name(name)
    c = _check_entry(name)
    if not c.ok:
        # Maybe an add or delete in progress: look again once it is done.
        with rundir.settled(RUN_DIR):
            c = _check_entry(name)
        if not c.ok:
            raise ns.not_a_namespace(name, c)
    return c


def _check_entry(name):
    try:
        return ns.check(path_of(name), keep_fd=True)
    except FileNotFoundError as e:
        raise NotFound(f'Cannot open network namespace "{name}": {e.strerror}',
                       name=name, errno=e.errno) from None
    except OSError as e:
        raise _failed(SystemCallFailed, f'Cannot open network namespace "{name}"', e,
                      name) from None


def exists(name):
    """True if ``name`` is a network namespace, False if there is no such entry; a broken
    entry raises NotANamespace."""
    try:
        os.close(open_checked(name).fd)
    except NotFound:
        return False
    return True
