"""Records of the entries pynetns made: what an entry was made from and which namespace it
led to, under /run/pynetns/records/<dev>-<ino of /run/netns>/NAME.

A symlink to /proc/PID/ns/net cannot carry that itself: without its record, a symlink
whose PID was reused by a process of another namespace looks perfectly healthy. A record
names what it was written for (a symlink's target and its process's start time; a bind's
namespace inode and ctime), so a later entry of the same name never inherits it.

Nothing under /run/pynetns is followed through a symlink, every directory on the way must
be root's and not writable by others, and a record that is not what we write is ignored.
Records are JSON, through _jsonc (the json package would import re).
"""
import os
import stat as _stat

from . import _jsonc, _proc
from .rundir import pause

ROOT = "/run/pynetns"
RECORDS_DIR = f"{ROOT}/records"
# Temporary files are written beside the per-directory records, in RECORDS_DIR, with this
# prefix: every file in a records directory is a record, and prune sweeps leftovers here.
TMP_PREFIX = "tmp"
# A plain file or a record this young may belong to an add or attach in progress.
GRACE = 2.0
MAX_SIZE = 65536
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _trusted(fd):
    st = os.fstat(fd)
    # Sticky (a tmpfs's default 1777): others cannot rename or remove what is ours in it.
    if st.st_uid != os.geteuid() or (st.st_mode & 0o022 and not st.st_mode & _stat.S_ISVTX):
        raise PermissionError(1, "not owned by us, or writable by others")


def _open_subdir(parent, name, create):
    """``name`` in the directory ``parent`` (a descriptor or a path), never through a
    symlink; made (0755) first if ``create``."""
    if create:
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:
            pass
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        _trusted(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_chain(names, create):
    """The descriptor of /run/pynetns/NAMES..., each component checked."""
    fd = _open_subdir(None, ROOT, create)
    for name in names:
        try:
            nxt = _open_subdir(fd, name, create)
        finally:
            os.close(fd)
        fd = nxt
    return fd


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _valid(record):
    """Whether ``record`` has the shape save() writes (anything else is ignored)."""
    if not isinstance(record, dict) or not isinstance(record.get("symlink"), bool):
        return False
    if not (_is_int(record.get("dev")) and _is_int(record.get("ino"))):
        return False
    if record["symlink"]:
        if not isinstance(record.get("target"), str):
            return False
        if "start" in record and not _is_int(record["start"]):
            return False
    elif not _is_int(record.get("ctime")):
        return False
    owner = record.get("container")
    return owner is None or (isinstance(owner, dict) and all(
        isinstance(owner.get(k), str) for k in ("engine", "id", "name")))


def pid_of_target(target):
    """The PID of a /proc/PID/ns/net target, else None."""
    parts = target.split("/")
    if len(parts) == 5 and parts[:2] == ["", "proc"] and parts[3:] == ["ns", "net"] \
            and parts[2].isdigit():
        return int(parts[2])
    return None


def start_time(pid):
    """The start time of process ``pid`` (field 22 of /proc/PID/stat), or None."""
    return _proc.stat_field(pid, 22)


def for_entry(checked, container=None, pid=None):
    """The record of a new entry: a symlink to ``checked.target`` or a bind."""
    record = {"symlink": checked.symlink, "dev": checked.dev, "ino": checked.ino}
    if checked.symlink:
        record["target"] = checked.target
        start = start_time(pid if pid is not None else pid_of_target(checked.target))
        if start is not None:
            record["start"] = start
    else:
        record["ctime"] = checked.ctime
    if container is not None:
        record["container"] = container.as_json()
    return record


def written_for(record, checked):
    """Whether ``record`` was written for the entry ``checked`` is now."""
    if record["symlink"] != checked.symlink:
        return False
    if checked.symlink:
        return record["target"] == checked.target
    return (record["dev"], record["ino"], record["ctime"]) == (checked.dev, checked.ino,
                                                               checked.ctime)


def stale(record, checked):
    """The problem of a healthy-looking symlink whose process is no longer the one it was
    made for (its PID now holds another namespace, or was reused), else None."""
    if not checked.symlink or not checked.ok:
        return None
    moved = (record["dev"], record["ino"]) != (checked.dev, checked.ino)
    if not moved and "start" in record:
        moved = start_time(pid_of_target(checked.target)) != record["start"]
    if moved:
        return (f"a symlink to {checked.target}, whose process now holds another "
                "network namespace")
    return None


class Records:
    """The records of the entries of the run directory ``run_dir`` (a descriptor) as this
    mount namespace sees it: a private /run/netns elsewhere has its own."""

    def __init__(self, run_dir):
        st = os.fstat(run_dir)
        self.key: str | None = f"{st.st_dev:x}-{st.st_ino}"  # None in attachments.Records
        self.fd = -1
        self.missing = None  # why the directory could not be opened, once it could not

    def _dir(self, create=False):
        if self.fd < 0:
            if self.missing is not None and not create:
                raise self.missing  # asked once per listing, not once per symlink
            try:
                self.fd = _open_chain(["records", self.key], create)
            except OSError as e:
                self.missing = e
                raise
        return self.fd

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def load(self, name, directory=None):
        """The valid record called ``name`` (whoever it was written for), else None."""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         dir_fd=self._dir() if directory is None else directory)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not _stat.S_ISREG(st.st_mode) or st.st_size > MAX_SIZE:
                return None
            data = os.read(fd, MAX_SIZE + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            record = _jsonc.loads(data)
        except ValueError:
            return None
        return record if _valid(record) else None

    def get(self, name, checked):
        """The record of entry ``name`` if it was written for what is there now, else None."""
        record = self.load(name)
        return record if record is not None and written_for(record, checked) else None

    def save(self, name, record):
        """Write the record of ``name`` atomically; a crash leaves at most a temporary
        file that sweep() removes."""
        directory = self._dir(create=True)
        root = _open_chain(["records"], False)
        try:
            tmp = f"{TMP_PREFIX}.{os.getpid()}.{os.urandom(6).hex()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o644, dir_fd=root)
            try:
                try:
                    os.write(fd, _jsonc.dumps(record).encode())
                finally:
                    os.close(fd)
                pause("record:written")
                os.rename(tmp, name, src_dir_fd=root, dst_dir_fd=directory)
            except BaseException:
                os.unlink(tmp, dir_fd=root)
                raise
        finally:
            os.close(root)

    def drop(self, name):
        try:
            os.unlink(name, dir_fd=self._dir())
        except FileNotFoundError:
            pass

    def drop_stale(self, now, entries):
        """Remove records not written for what their entry is now (or whose entry is gone),
        except those of an attach in progress; and leftover temporary files."""
        by_name = {e.name: e.checked for e in entries}
        try:
            directory = self._dir()
            recorded = os.listdir(directory)
        except OSError:
            recorded, directory = [], -1
        for name in recorded:
            if _young(name, directory, now):
                continue
            record = self.load(name, directory)
            checked = by_name.get(name)
            if record is None or checked is None or not written_for(record, checked):
                try:
                    os.unlink(name, dir_fd=directory)
                except OSError:
                    pass
        sweep(now)


def _young(name, directory, now):
    try:
        return abs(now - os.stat(name, dir_fd=directory, follow_symlinks=False).st_mtime) \
            < GRACE
    except OSError:
        return True  # gone meanwhile: nothing to do


def sweep(now):
    """Remove temporary files a killed save() left in RECORDS_DIR."""
    try:
        root = _open_chain(["records"], False)
    except OSError:
        return
    try:
        for name in os.listdir(root):
            try:
                st = os.stat(name, dir_fd=root, follow_symlinks=False)
                if not _stat.S_ISDIR(st.st_mode) and name.startswith(TMP_PREFIX) \
                        and abs(now - st.st_mtime) >= GRACE:
                    os.unlink(name, dir_fd=root)
            except OSError:
                continue
    finally:
        os.close(root)
