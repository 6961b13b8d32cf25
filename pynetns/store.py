"""/run/netns: names, the add/attach/delete mount sequences, and the list of entries.

The sequences follow iproute2 6.1 step by step (mkdir, flock, make-shared with a self bind
when needed, O_EXCL placeholder, bind mount), so files and mounts are the same as `ip`
leaves; every failure after the placeholder exists removes it.
"""
from __future__ import annotations

import os

from . import _sys, ns, rundir
from ._cint import parse_c_int
from .errors import (Exists, InvalidName, InvalidPid, NetnsError, NotANamespace, NotFound,
                     PermissionDenied, SystemCallFailed, class_of, from_oserror)
from .handle import Handle
from .rundir import pause

RUN_DIR = "/run/netns"
NAME_MAX = 255


def is_valid_name(name: str) -> bool:
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


def make_run_dir():
    """Create /run/netns unless it exists, as `ip netns add` and `monitor` do."""
    try:
        os.mkdir(RUN_DIR, 0o755)
    except FileExistsError:
        pass
    except OSError as e:
        raise from_oserror(e, f"mkdir {RUN_DIR} failed", path=RUN_DIR) from None


def prepare_run_dir():
    """Make /run/netns exist and be a shared mount point, as `ip netns add` does.

    Returns the held exclusive lock (rundir.Locked): the caller keeps it for its whole
    operation, acts relative to its ``dir`` and closes it at the end.
    """
    make_run_dir()
    # Under the lock, parallel first-time adds cannot stack self bind mounts (Debian #949235).
    held = rundir.Locked(RUN_DIR)
    try:
        _check_mounts_reach_caller(held.dir)
        made_mount_point = False
        while True:
            here = f"/proc/self/fd/{held.dir}"  # the directory we locked, not the path now
            try:
                _sys.mount("", here, "none", _sys.MS_SHARED | _sys.MS_REC)
                return held
            except OSError as e:
                if e.errno != 22 or made_mount_point:
                    raise from_oserror(e, f"mount --make-shared {RUN_DIR} failed",
                                       path=RUN_DIR) from None
            _self_bind(held.dir)
            made_mount_point = True
            held.reopen()  # entries go in the new mount, not under it
    except BaseException:
        held.close()
        raise


def _mount_id(fd):
    with open(f"/proc/self/fdinfo/{fd}", "rb") as f:
        return int(next(line.split()[1] for line in f if line.startswith(b"mnt_id:")))


def _mounts_on_entries(run_dir):
    """O_PATH descriptors of the mounts on entries of ``run_dir`` while it is a plain
    directory (containerd, say, mounts pod namespaces there without making it a mount point)."""
    from . import _proc
    here = _mount_id(run_dir)
    found = []
    for mount_id, parent_id, point, _, _ in _proc.mount_rows():
        directory, _, name = point.rpartition("/")
        if parent_id != here or directory != RUN_DIR:
            continue
        try:
            fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=run_dir)
        except OSError:
            continue
        if _mount_id(fd) == mount_id:
            found.append(fd)
        else:  # something stacked on it: the bind copies that too, as ip's does
            os.close(fd)
    return found


def _self_bind(run_dir):
    """Make the directory a mount point: a recursive bind on itself, as ip's netns_add does.
    The bind copies each mount on an entry; the original, hidden under it, would keep its
    namespace alive after the entry's unmount, and make its unlink fail with EBUSY (ip
    leaves both), so it is detached."""
    here = f"/proc/self/fd/{run_dir}"
    entries = _mounts_on_entries(run_dir)
    try:
        try:
            _sys.mount(here, here, "none", _sys.MS_BIND | _sys.MS_REC)
        except OSError as e:
            raise from_oserror(e, f"mount --bind {RUN_DIR} {RUN_DIR} failed",
                               path=RUN_DIR) from None
        for fd in entries:
            try:
                _sys.umount2(f"/proc/self/fd/{fd}", _sys.MNT_DETACH)
            except OSError:
                pass  # it went meanwhile: nothing left to free
    finally:
        for fd in entries:
            os.close(fd)


def _check_mounts_reach_caller(run_dir):
    """Refuse to make entries in a mount namespace of our own whose mounts do not propagate
    to our caller's (`pynetns -netns A add B`: -netns unshared one, a slave): the mount
    would go with us and leave the caller an empty file (ip leaves one)."""
    try:
        if os.readlink("/proc/self/ns/mnt") == os.readlink(f"/proc/{os.getppid()}/ns/mnt"):
            return
        mount_id = _mount_id(run_dir)
        with open("/proc/self/mountinfo", "rb") as f:
            fields = next(line.split() for line in f if int(line.split()[0]) == mount_id)
    except (OSError, StopIteration):
        return  # cannot tell (our parent is gone, say): do as ip does
    tags = fields[6:fields.index(b"-")]
    # A slave that is shared with no peer: what -netns's `mount --make-rslave /` leaves.
    if any(t.startswith(b"master:") for t in tags) and not any(t.startswith(b"shared:")
                                                               for t in tags):
        raise SystemCallFailed(f"Cannot create entries in {RUN_DIR} from a mount namespace of "
                               "this process's own (as -netns makes): what it mounts would "
                               "not reach its caller's")


def create_failed(name, err):
    """The error for an OSError from creating entry ``name`` (placeholder or symlink)."""
    path = path_of(name)
    return from_oserror(err, f'Cannot create namespace file "{path}"', name=name, path=path)


def _create_placeholder(run_dir, name):
    """The new empty entry, created with O_EXCL (which never follows a planted symlink);
    returns its descriptor, which the bind mount targets exactly."""
    try:
        return os.open(name, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                       | os.O_CLOEXEC, 0, dir_fd=run_dir)
    except OSError as e:
        raise create_failed(name, e) from None


def _remove_placeholder(run_dir, name, placeholder):
    """Unlink our placeholder, but not an entry someone (ip, which takes no lock) put
    in its place meanwhile."""
    try:
        if os.path.samestat(os.stat(name, dir_fd=run_dir, follow_symlinks=False),
                            os.fstat(placeholder)):
            os.unlink(name, dir_fd=run_dir)
    except FileNotFoundError:
        pass


def _bind_placeholder(run_dir, source, placeholder, name, shown_source=None):
    """Bind source on the placeholder (through its descriptor, so a path swapped meanwhile
    cannot redirect the mount); on failure remove the placeholder."""
    try:
        _sys.mount(source, f"/proc/self/fd/{placeholder}", "none", _sys.MS_BIND)
    except OSError as e:
        _remove_placeholder(run_dir, name, placeholder)
        raise from_oserror(e, f"Bind {shown_source or source} -> {path_of(name)} failed",
                           name=name, path=path_of(name)) from None


def add(name: str, exist_ok: bool = False) -> bool:
    """Create a new network namespace and name it. The caller's namespace is unchanged.

    With ``exist_ok``, an existing network namespace of that name is fine (returns False);
    an existing broken entry is not (NotANamespace).
    """
    check_name(name)
    with prepare_run_dir() as held:
        pause("add:locked")
        try:
            placeholder = _create_placeholder(held.dir, name)
        except Exists as taken:
            if not exist_ok:
                raise
            try:
                found = check_in(held.dir, name)  # a stale symlink is no namespace either
            except OSError:
                raise taken from None
            if found.unknown:
                raise taken from None
            if not found.ok:
                raise ns.not_a_namespace(name, found) from None
            return False
        try:
            pause("add:placeholder")
            _new_namespace_on(held.dir, placeholder, name)
        finally:
            os.close(placeholder)
    return True


def _new_namespace_on(run_dir, placeholder, name):
    self_ns = "/proc/thread-self/ns/net"
    saved = os.open(self_ns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        # The new namespace is ours: if we already sit in one of /run/netns (-netns A), it
        # is still a fresh one, bound through /proc/thread-self as any other.
        try:
            _sys.unshare(_sys.CLONE_NEWNET)
        except OSError as e:
            _remove_placeholder(run_dir, name, placeholder)
            raise from_oserror(e, f'Failed to create a new network namespace "{name}"',
                               name=name) from None
        try:
            pause("add:unshared")
            _bind_placeholder(run_dir, self_ns, placeholder, name)
            pause("add:mounted")
        finally:
            _sys.setns(saved, _sys.CLONE_NEWNET)
    finally:
        os.close(saved)


def attach(name: str, pid: int | str) -> str:
    """Name the network namespace of process ``pid`` (a bind mount of /proc/PID/ns/net)."""
    number = parse_c_int(str(pid))
    if not number:
        raise InvalidPid(f"Invalid PID: {pid}")
    return bind(name, f"/proc/{number}/ns/net")


def bind(name: str, source: str) -> str:
    """Bind the namespace file ``source`` on a new entry ``name``.

    The source is opened once the placeholder exists (ip's order of errors) and bound
    through that descriptor, so what is bound is what was checked: a process that exits
    before the open gives ip's "No such file or directory"; one that exits after it leaves
    its namespace named, kept alive by the mount. A source that is not a network namespace
    is refused.
    """
    check_name(name)
    with prepare_run_dir() as held:
        pause("attach:locked")
        placeholder = _create_placeholder(held.dir, name)
        try:
            pause("attach:placeholder")
            source_fd = _open_source(held.dir, source, placeholder, name)
            try:
                pause("attach:opened")
                _bind_placeholder(held.dir, f"/proc/self/fd/{source_fd}", placeholder, name,
                                  source)
                pause("attach:mounted")
            finally:
                os.close(source_fd)
        finally:
            os.close(placeholder)
    return path_of(name)


def _open_source(run_dir, source, placeholder, name):
    """The source, opened (O_PATH: a FIFO cannot block us) and checked to be a network
    namespace; otherwise the placeholder is removed and the error raised."""
    source_fd = -1
    try:
        source_fd = os.open(source, os.O_PATH | os.O_CLOEXEC)
        c = ns.held(source_fd, source)
        if c.ok:
            return source_fd
        error = NotANamespace(f"Bind {source} -> {path_of(name)} failed: {source} is "
                              f"{c.problem}, not a network namespace", name=name,
                              problem=c.problem)
    except OSError as e:
        error = from_oserror(e, f"Bind {source} -> {path_of(name)} failed", name=name,
                             path=source)
    if source_fd >= 0:
        os.close(source_fd)
    _remove_placeholder(run_dir, name, placeholder)
    raise error


def lock_for_removal(name):
    """The writers' lock for removing entry ``name``; when /run/netns cannot be opened,
    ip's words for the unlink that would fail the same way."""
    try:
        return rundir.Locked(RUN_DIR)
    except NetnsError as e:
        # ip just unlinks, and what keeps us from the directory fails that unlink too.
        if e.errno not in (2, 13, 20) or (e.errno == 20 and rundir.is_symlink(RUN_DIR)):
            raise
        path = path_of(name)
        raise class_of(e.errno, NotFound)(f'Cannot remove namespace file "{path}": '
                                          f"{os.strerror(e.errno)}", name=name, path=path,
                                          errno=e.errno) from None


def delete(name: str) -> None:
    """Unmount and remove an entry, healthy or broken, as `ip netns delete` does, but all or
    nothing: when the entry cannot be removed its mount is put back, and Busy says what
    holds it. A symlink entry is removed, never followed (ip unmounts its target). Its
    record goes with it.
    """
    check_name(name)  # the CLI checked already; a library caller must not reach outside
    with lock_for_removal(name) as held:
        pause("delete:locked")
        _remove_entry(held.dir, name)
        pause("delete:unlinked")
        drop_record(held.dir, name)


def drop_record(run_dir, name):
    """Remove the record of entry ``name``, if there is one (see records.py)."""
    from . import records
    try:
        with records.Records(run_dir) as r:
            r.drop(name)
    except OSError:
        pass  # no records directory (or not one we trust): nothing of ours to remove


def _block_signals():
    """Block every signal for this thread; returns the mask to restore."""
    import _signal
    return _signal.pthread_sigmask(_signal.SIG_BLOCK, _signal.valid_signals())


def _restore_signals(mask):
    import _signal
    _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)


def _remove_entry(run_dir, name):
    path = path_of(name)
    try:
        # Keeps what is mounted there reachable, to put it back if the unlink fails.
        held = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=run_dir)
    except FileNotFoundError as e:
        raise from_oserror(e, f'Cannot remove namespace file "{path}"', name=name,
                           path=path) from None
    except OSError:
        held = -1  # the unlink below reports it
    spare = -1
    try:
        # A descriptor kept free for putting the mount back, even at the fd limit.
        spare = os.dup(run_dir)
        unmount_error = failure = restore_error = None
        # From the unmount until the mount is back, no signal may stop us half-way.
        mask = _block_signals()
        try:
            unmounted = False
            try:
                if held < 0:
                    raise OSError(22, os.strerror(22))
                _sys.umount2(f"/proc/self/fd/{held}", _sys.MNT_DETACH)
                unmounted = True
            except OSError as e:
                unmount_error = e  # EINVAL: not a mount point (plain file, symlink)
            pause("delete:unmounted")
            try:
                try:
                    os.unlink(name, dir_fd=run_dir)
                except IsADirectoryError:
                    # unlike ip: `list` says a stray directory is removed this way
                    os.rmdir(name, dir_fd=run_dir)
                unmounted = False
            except OSError as e:
                failure = e
        finally:
            if unmounted:
                restore_error = _put_back(run_dir, name, held, spare)
                spare = -1
            _restore_signals(mask)
        if failure is not None:
            if isinstance(failure, FileNotFoundError):
                raise from_oserror(failure, f'Cannot remove namespace file "{path}"',
                                   name=name, path=path)
            raise _not_removed(run_dir, name, failure, unmount_error, restore_error)
    except OSError as e:  # EMFILE for the spare: nothing was touched
        raise from_oserror(e, f'Cannot remove namespace file "{path}"', name=name,
                           path=path) from None
    finally:
        for fd in (held, spare):
            if fd >= 0:
                os.close(fd)


def _put_back(run_dir, name, held, spare):
    """Mount what ``held`` reaches on the entry again; returns None or the OSError."""
    os.close(spare)  # frees the slot the open below takes
    try:
        under = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=run_dir)
    except OSError as e:
        return e
    try:
        _sys.mount(f"/proc/self/fd/{held}", f"/proc/self/fd/{under}", "none", _sys.MS_BIND)
    except OSError as e:
        return e
    finally:
        os.close(under)
    return None


def _not_removed(run_dir, name, err, unmount_error, restore_error):
    """The error for an entry the unlink refused (its mount was put back already)."""
    path = path_of(name)
    message = f'Cannot remove namespace file "{path}": {err.strerror}'
    if err.errno == 16 and unmount_error is not None and \
            class_of(unmount_error.errno) is PermissionDenied:
        # Busy only because we may not unmount it: the unmount's errno is the cause.
        return PermissionDenied(f"{message} (it is mounted, and unmounting it failed: "
                                f"{unmount_error.strerror})", name=name, path=path,
                                errno=unmount_error.errno)
    lines = []
    if err.errno == 16:
        try:
            from . import holders  # EMFILE can fail even the import
            lines = holders.describe(name, RUN_DIR)
        except OSError as e:
            lines = [f"what holds it cannot be told: {e.strerror}"]
    if unmount_error is None:
        if restore_error is None:
            lines.append(f'"{name}" was left as it was.')
        else:
            lines.append(f'"{name}" is unmounted here now; putting its mount back failed: '
                         f"{restore_error.strerror}")
    return class_of(err.errno)("\n".join([message] + lines), name=name, path=path,
                               errno=err.errno)


def _reader_dir():
    """A descriptor of /run/netns for readers (never through a symlink); None when absent."""
    try:
        return rundir.open_dir(RUN_DIR)
    except NotFound:
        return None


def names() -> list[str]:
    """Entry names in readdir order; an absent /run/netns is empty."""
    run_dir = _scan_dir()
    if run_dir is None:
        return []
    try:
        return os.listdir(run_dir)
    finally:
        os.close(run_dir)


def _scan_dir():
    """/run/netns opened for a scan: None when it is absent, ip's words when it cannot be
    read (not a directory, no permission)."""
    try:
        return _reader_dir()
    except NetnsError as e:
        raise class_of(e.errno)(f"Failed to open directory {RUN_DIR}: "
                                f"{os.strerror(e.errno or 20)}", path=RUN_DIR,
                                errno=e.errno) from None


class Entry:
    """One name under /run/netns and what it holds."""

    __slots__ = ("name", "checked", "nsid")

    def __init__(self, name: str, checked: ns.Checked, nsid: int | None = None) -> None:
        self.name = name
        self.checked = checked
        self.nsid = nsid

    @property
    def ok(self) -> bool:
        return self.checked.ok

    @property
    def problem(self) -> str | None:
        return self.checked.problem

    @property
    def unknown(self) -> str | None:
        """Why the entry could not be checked (neither ok nor broken), else None."""
        return self.checked.unknown

    def __repr__(self) -> str:
        state = "ok" if self.ok else self.problem or f"unknown: {self.unknown}"
        return f"Entry({self.name!r}, {state}, nsid={self.nsid})"


def entries(with_nsid: bool = True) -> list[Entry]:
    """Every entry in readdir order, checked; nsids (in the caller's namespace) for good ones."""
    found = _entries(with_nsid)
    if all(e.ok or e.unknown for e in found):
        return found
    # Maybe an add or delete in progress: look again once it is done.
    with rundir.settled(RUN_DIR):
        return _entries(with_nsid)


# At most this many namespace descriptors are open at once while `list` asks for nsids.
NSID_BATCH = 128


def check_in(run_dir, name, keep_fd=False, check_type=True, records=None):
    """The entry ``name`` of ``run_dir``, checked, symlinks against their records (see
    records.py: a symlink to a reused PID is stale). Raises FileNotFoundError when absent;
    any other OSError makes an entry that cannot be checked."""
    try:
        c = ns.check(name, keep_fd, check_type, dir_fd=run_dir)
    except FileNotFoundError:
        raise
    except OSError as e:
        c = ns.Checked(name, unknown=e.strerror, errno=e.errno)
    c.path = path_of(name)
    if c.symlink and c.ok:
        _check_record(run_dir, name, c, records)
    return c


def _check_record(run_dir, name, c, records):
    from . import records as recorded
    own = records is None
    try:
        if own:
            records = recorded.Records(run_dir)
        record = records.get(name, c)
    except OSError:
        record = None
    finally:
        if own and records is not None:
            records.close()
    problem = record and recorded.stale(record, c)
    if problem:
        c.problem = problem
        if c.fd >= 0:
            os.close(c.fd)
            c.fd = -1


def _entries(with_nsid):
    run_dir = _scan_dir()
    if run_dir is None:
        return []
    try:
        return entries_in(run_dir, with_nsid)
    finally:
        os.close(run_dir)


def entries_in(run_dir, with_nsid=True):
    """The entries of the directory descriptor ``run_dir``, checked (see entries())."""
    result = []
    kept = []
    from . import records as recorded  # light: json only once a record is read
    records = recorded.Records(run_dir)
    try:
        try:
            listing = os.listdir(run_dir)  # dups run_dir: EMFILE is possible here too
        except OSError as err:
            raise from_oserror(err, f"Failed to open directory {RUN_DIR}",
                               path=RUN_DIR) from None
        for name in listing:
            try:
                # With nsids the kernel checks the type (RTM_GETNSID refuses an fd of
                # another namespace type): only entries it refuses need the ioctl.
                c = check_in(run_dir, name, keep_fd=with_nsid, check_type=False,
                             records=records)
            except FileNotFoundError:
                continue  # removed while we looked
            e = Entry(name, c)
            result.append(e)
            if c.fd >= 0:
                kept.append(e)
                if len(kept) >= NSID_BATCH:
                    _ask_nsids(kept)
        _ask_nsids(kept)
    finally:
        for e in kept:
            os.close(e.checked.fd)
            e.checked.fd = -1
        records.close()
    return result


def _ask_nsids(kept):
    """Fill in the nsids of the entries in ``kept``, then close and forget their fds."""
    if not kept:
        return
    from . import _nsid
    try:
        for e, (nsid, error) in zip(kept, _nsid.nsid_replies([e.checked.fd for e in kept])):
            e.nsid = nsid
            if error:
                ns.check_fd_type(e.checked, e.checked.fd)
    finally:
        for e in kept:
            os.close(e.checked.fd)
            e.checked.fd = -1
        kept.clear()


def open_entry(name: str) -> Handle:
    """The network namespace ``name``, held open (pynetns.open): raises NotFound,
    NotANamespace (a stale symlink too) or PermissionDenied as open_checked does."""
    return Handle(open_checked(name), name)


def open_checked(name: str) -> ns.Checked:
    """Open a named entry for use; raise NotFound or NotANamespace before anything happens
    (a symlink whose record says it went stale is NotANamespace too). The Checked holds the
    descriptor: callers outside store take it as a Handle (open_entry)."""
    check_name(name)
    c = _check_entry(name)
    if not c.ok:
        # Maybe an add or delete in progress: look again once it is done.
        with rundir.settled(RUN_DIR):
            c = _check_entry(name)
        if c.unknown:
            raise class_of(c.errno)(f'Cannot open network namespace "{name}": {c.unknown}',
                                    name=name, path=c.path, errno=c.errno)
        if not c.ok:
            raise ns.not_a_namespace(name, c)
    return c


def _check_entry(name):
    try:
        run_dir = _reader_dir()
    except NetnsError as e:
        raise class_of(e.errno)(f'Cannot open network namespace "{name}": '
                                f"{os.strerror(e.errno or 20)}", name=name, path=RUN_DIR,
                                errno=e.errno) from None
    if run_dir is None:
        raise NotFound(f'Cannot open network namespace "{name}": {os.strerror(2)}',
                       name=name, path=RUN_DIR, errno=2)
    try:
        return check_in(run_dir, name, keep_fd=True)
    except FileNotFoundError as e:
        raise from_oserror(e, f'Cannot open network namespace "{name}"', name=name,
                           path=path_of(name)) from None
    finally:
        os.close(run_dir)


def exists(name: str) -> bool:
    """True if ``name`` is a network namespace, False if there is no such entry; a broken
    entry raises NotANamespace."""
    try:
        open_entry(name).close()
    except NotFound:
        return False
    return True
