"""Naming the namespaces of containers, processes and namespace files; finding and pruning
broken entries.

An entry made here gets a small record: what it was made from (the container) and which
namespace it led to. A symlink to /proc/PID/ns/net cannot carry that itself, and without it
a symlink whose PID was reused by a process in another namespace looks perfectly healthy.
"""
import json
import os

from . import containers, ns, rundir, store
from ._cint import parse_c_int
from .errors import (ContainerError, InvalidPid, NetnsError, NoSuchContainer,
                     NotANamespace, NotFound, SystemCallFailed)

RECORDS_DIR = "/run/pynetns/records"
# A plain file or a record this young may belong to an add or attach in progress.
GRACE = 2.0


class Records:
    """The records of the entries in /run/netns as this mount namespace sees it.

    They are kept per /run/netns (by its device and inode), so that a private /run/netns
    in another mount namespace has its own. Each names the directory entry it was written
    for by that entry's inode (the file under the bind mount, or the symlink itself),
    which a later entry of the same name never has.
    """

    def __init__(self):
        try:
            st = os.stat(store.RUN_DIR)
            self.dir = f"{RECORDS_DIR}/{st.st_dev:x}-{st.st_ino}"
            self.inodes = {d.name: d.inode() for d in os.scandir(store.RUN_DIR)}
        except FileNotFoundError:
            self.dir, self.inodes = None, {}

    def _path(self, name):
        return f"{self.dir}/{name}"

    def get(self, name, checked):
        """The record of entry ``name`` if it was written for what is there now, else None."""
        if self.dir is None:
            return None
        try:
            with open(self._path(name)) as f:
                record = json.load(f)
        except (OSError, ValueError):
            return None
        if (record.get("entry") != self.inodes.get(name)
                or record.get("symlink") != checked.symlink
                or (not checked.symlink
                    and (record.get("dev"), record.get("ino")) != (checked.dev, checked.ino))):
            return None
        return record

    def save(self, name, record):
        import tempfile
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        record["entry"] = self.inodes.get(name)
        # Written beside the directory, not in it: every file in it is a record.
        fd, tmp = tempfile.mkstemp(dir=RECORDS_DIR)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(record, f)
            os.chmod(tmp, 0o644)
            os.replace(tmp, self._path(name))
        except BaseException:
            os.unlink(tmp)
            raise

    def drop(self, name):
        try:
            os.unlink(self._path(name))
        except FileNotFoundError:
            pass

    def drop_stale(self, now):
        """Remove records whose entry is gone (not those of an attach in progress)."""
        try:
            recorded = list(os.scandir(self.dir)) if self.dir else []
        except FileNotFoundError:
            return
        for r in recorded:
            try:
                with open(r.path) as f:
                    entry = json.load(f).get("entry")
                young = now - r.stat().st_mtime < GRACE
            except (OSError, ValueError):
                entry, young = None, False
            if not young and entry != self.inodes.get(r.name):
                self.drop(r.name)


class Attached:
    """What attach made: the entry name, how, from which container, and notes for the user."""

    __slots__ = ("name", "symlink", "container", "notes")

    def __init__(self, name, symlink, container=None, notes=()):
        self.name = name
        self.symlink = symlink
        self.container = container
        self.notes = list(notes)


def _make_symlink(name, target):
    store.check_name(name)
    lock = store.prepare_run_dir()  # held while the entry is made, as by add and attach
    path = store.path_of(name)
    try:
        os.symlink(target, path)
    except OSError as e:
        raise store.create_failed(name, e) from None
    finally:
        os.close(lock)
    return path


def _finish(name, symlink, identity, container=None):
    """Write the entry's record; without one the entry is removed again (nothing half-made)."""
    record = {"symlink": symlink, "dev": identity[0], "ino": identity[1]}
    if container is not None:
        record["container"] = container.as_json()
    try:
        Records().save(name, record)
    except OSError as e:
        store.delete(name)
        raise SystemCallFailed(f"Cannot write the record of {name}: {e.strerror}",
                               name=name, errno=e.errno) from None


def _attach_pinned(name, pinned, symlink, container=None):
    """Name the namespace of a pinned process: a bind of the namespace we hold open, or a
    symlink to /proc/PID/ns/net checked once more after it exists."""
    if symlink:
        target = f"/proc/{pinned.pid}/ns/net"
        path = _make_symlink(name, target)
        try:
            now = ns.identity(path)
        except OSError:
            now = None
        if now != pinned.identity or not pinned.alive():
            os.unlink(path)
            raise ContainerError(f"process {pinned.pid} exited while {name} was being made",
                                 name=name)
        _finish(name, True, pinned.identity, container)
    else:
        store.bind(name, f"/proc/self/fd/{pinned.net_fd}")
        if container is not None:  # otherwise there is nothing to remember
            _finish(name, False, pinned.identity, container=container)


def _attach_path(name, path, symlink):
    try:
        c = ns.check(path, keep_fd=True)
    except OSError as e:
        raise NotFound(f'Cannot open network namespace file "{path}": {e.strerror}',
                       name=name, errno=e.errno) from None
    if not c.ok:
        raise NotANamespace(f'"{path}" is {c.problem}, not a network namespace',
                            name=name, problem=c.problem)
    try:
        if symlink:
            _make_symlink(name, os.path.abspath(path))
            _finish(name, True, (c.dev, c.ino))
        else:
            store.bind(name, f"/proc/self/fd/{c.fd}")
    finally:
        os.close(c.fd)
    return Attached(name, symlink)


def attach(name, source, symlink=False, force=False):
    """Name a network namespace. ``source`` is a PID, a namespace file path (with a '/'),
    'docker:C', 'podman:C', or a bare container name or ID that one engine knows.

    A bare word no engine knows fails as `ip netns attach` does for a non-PID.
    """
    store.check_name(name)
    number = parse_c_int(source)
    if number is not None:
        if number <= 0:
            raise InvalidPid(f"Invalid PID: {source}")
        try:
            pinned = containers.Pinned(number)
        except OSError as e:
            raise NotFound(f"Cannot open network namespace of PID {number}: {e.strerror}",
                           name=name, errno=e.errno) from None
        with pinned:
            _attach_pinned(name, pinned, symlink)
        return Attached(name, symlink)
    if "/" in source:
        return _attach_path(name, source, symlink)
    try:
        found = containers.find(source)
    except NoSuchContainer:
        if containers.split_spec(source)[0] is None:
            raise InvalidPid(f"Invalid PID: {source}") from None
        raise
    holder, notes = containers.network_holder(found, force)
    with containers.pin(holder, force=force) as pinned:
        _attach_pinned(name, pinned, symlink, holder)
    return Attached(name, symlink, holder, notes)


class Outcome:
    """One container of attach --all-containers: action is attached, replaced, unchanged,
    skipped (by design) or failed."""

    __slots__ = ("container", "action", "reason")

    def __init__(self, container, action, reason=None):
        self.container = container
        self.action = action
        self.reason = reason

    @property
    def name(self):
        return self.container.name

    def as_json(self):
        item = {**self.container.as_json(), "action": self.action}
        if self.reason:
            item["reason"] = self.reason
        return item


def _ours(record, container):
    """Was the entry made from this container (by id, or by name for a re-created one)?"""
    owner = (record or {}).get("container") or {}
    return owner.get("engine") == container.engine and (
        owner.get("id") == container.id or owner.get("name") == container.name)


def _attach_one(c, by_id, symlink, force):
    if c.shares_with:
        owner = by_id.get(c.shares_with)
        return Outcome(c, "skipped", "shares the network namespace of "
                       + (str(owner) if owner else f"container {c.shares_with[:12]}"))
    if c.network_mode == "host" and not force:
        return Outcome(c, "skipped", "runs with --network host (--force names it)")
    name = c.name
    if not store.is_valid_name(name):
        return Outcome(c, "failed", f'"{name}" is not a valid netns name')
    with containers.pin(c, force=force) as pinned:
        try:
            existing = ns.check(store.path_of(name))
        except FileNotFoundError:
            existing = None
        action = "attached"
        if existing is not None:
            if existing.ok and (existing.dev, existing.ino) == pinned.identity:
                return Outcome(c, "unchanged")
            if not _ours(Records().get(name, existing), c):
                return Outcome(c, "failed", f"{name} is taken by another namespace")
            store.delete(name)
            action = "replaced"
        _attach_pinned(name, pinned, symlink, c)
    return Outcome(c, action)


def attach_all(symlink=False, force=False):
    """Name every running container's namespace by container name; running it again changes
    nothing, except that entries it made for a container that restarted are renewed.

    Returns (outcomes, errors of installed engines that did not answer).
    """
    found, errors = containers.running_everywhere()
    if len(errors) == len(containers.ENGINES):
        raise ContainerError("no container engine answers: " + "; ".join(map(str, errors)))
    by_id = {c.id: c for c in found}
    outcomes = []
    for c in sorted(found, key=lambda c: (c.engine, c.name)):
        try:
            outcomes.append(_attach_one(c, by_id, symlink, force))
        except NetnsError as e:
            outcomes.append(Outcome(c, "failed", str(e)))
    return outcomes, [e for e in errors if e.installed]


class Pruned:
    """A broken entry prune found: ``removed`` says whether it is gone, ``reason`` why not."""

    __slots__ = ("name", "problem", "removed", "reason")

    def __init__(self, name, problem, removed=False, reason=None):
        self.name = name
        self.problem = problem
        self.removed = removed
        self.reason = reason

    def as_json(self):
        item = {"name": self.name, "problem": self.problem, "removed": self.removed}
        if self.reason:
            item["reason"] = self.reason
        return item


def stale_symlink(checked, record):
    """The problem of a healthy-looking symlink whose PID now holds another namespace."""
    if checked.symlink and record and (record["dev"], record["ino"]) != (checked.dev,
                                                                          checked.ino):
        return (f"a symlink to {checked.target}, whose process now holds another "
                "network namespace")
    return None


def _prunable(entry, records):
    """(problem, lstat of the entry) when prune may remove it, else None."""
    c = entry.checked
    try:
        st = os.lstat(c.path)
    except FileNotFoundError:
        return None
    if c.ok:
        problem = stale_symlink(c, records.get(entry.name, c))
    elif c.symlink:
        problem = c.problem if c.problem.startswith("a dangling") else \
            f"a symlink to {c.target}, {c.problem}"
    else:
        problem = c.problem if c.problem == "a plain file" else None
    return (problem, st) if problem else None


def prune(dry_run=False):
    """Remove broken entries (plain files, dangling symlinks, symlinks to no namespace or to
    a reused PID's); healthy ones and anything else are left alone."""
    import time
    now = time.time()
    records = Records()
    results = []
    found_entries = store.entries(with_nsid=False)
    # Removing takes the writers' lock: no pynetns add is half-way meanwhile, and a
    # /run/netns replaced by a symlink is refused rather than followed.
    lock = rundir.lock(store.RUN_DIR) if found_entries and not dry_run else -1
    try:
        for entry in found_entries:
            found = _prunable(entry, records)
            if not found:
                continue
            problem, st = found
            result = Pruned(entry.name, problem)
            results.append(result)
            if not entry.checked.symlink and now - st.st_mtime < GRACE:
                result.reason = "made just now: an add may be in progress"
            elif not dry_run:
                try:
                    if os.lstat(entry.checked.path).st_ino != st.st_ino:
                        raise FileNotFoundError(2, "replaced meanwhile")
                    os.unlink(entry.checked.path)  # EBUSY if an add mounted on it meanwhile
                    records.drop(entry.name)
                    result.removed = True
                except OSError as e:
                    result.reason = e.strerror
    finally:
        if lock >= 0:
            os.close(lock)
    if not dry_run:
        records.drop_stale(now)
    return results
