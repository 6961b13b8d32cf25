"""Naming the namespaces of containers, processes and namespace files; finding and pruning
broken entries.

An entry made here gets a small record: what it was made from (the container) and which
namespace it led to. A symlink to /proc/PID/ns/net cannot carry that itself, and without it
a symlink whose PID was reused by a process in another namespace looks perfectly healthy.
"""
from __future__ import annotations

import os

from . import containers, ns, records, rootless, rundir, store
from ._cint import parse_c_int
from .errors import (ContainerError, EngineUnavailable, InvalidPid, NetnsError,
                     NoSuchContainer, NotANamespace, NotFound, from_oserror)
from .records import GRACE
from .rundir import pause

TYPE_CHECKING = False  # typing costs milliseconds at run time; the checker reads this block
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


class Records(records.Records):
    """The records of /run/netns as this mount namespace sees it (see records.py); none
    when there is no /run/netns (or it cannot be opened)."""

    def __init__(self):
        self.fd, self.missing = -1, None
        try:
            run_dir = rundir.open_dir(store.RUN_DIR)
        except NetnsError:
            self.key = None
            return
        try:
            super().__init__(run_dir)
        finally:
            os.close(run_dir)

    def _dir(self, create=False):
        if self.key is None:
            raise FileNotFoundError(2, os.strerror(2))
        return super()._dir(create)

    def get(self, name, checked):
        try:
            return super().get(name, checked)
        except OSError:
            return None


class Attached:
    """What attach made: the entry name, how, from which container, and notes for the user."""

    __slots__ = ("name", "symlink", "container", "notes")

    def __init__(self, name: str, symlink: bool, container: containers.Container | None = None,
                 notes: Iterable[str] = ()) -> None:
        self.name = name
        self.symlink = symlink
        self.container = container
        self.notes = list(notes)

    @property
    def path(self) -> str:
        return store.path_of(self.name)

    def __repr__(self) -> str:
        how = "symlink" if self.symlink else "bind"
        return f"Attached({self.name!r}, {how}, container={self.container})"


def _make_symlink(name, target, identity, container=None, pid=None):
    """The symlink entry ``name`` -> ``target``, its record written first: a crash leaves
    at most a record without an entry, which prune removes, never an unrecorded symlink."""
    store.check_name(name)
    dev, ino = identity
    checked = ns.Checked(store.path_of(name), dev, ino, symlink=True, target=target)
    record = records.for_entry(checked, container, pid)
    with store.prepare_run_dir() as held:  # held while the entry is made, as by add
        try:
            os.stat(name, dir_fd=held.dir, follow_symlinks=False)
            raise store.create_failed(name, OSError(17, os.strerror(17)))
        except FileNotFoundError:
            pass
        except OSError as e:
            raise store.create_failed(name, e) from None
        with records.Records(held.dir) as kept:
            try:
                kept.save(name, record)
            except OSError as e:
                raise _record_failed(name, e) from None
            pause("attach:recorded")
            try:
                os.symlink(target, name, dir_fd=held.dir)
            except OSError as e:
                kept.drop(name)
                raise store.create_failed(name, e) from None
    return checked.path


def _record_failed(name, err):
    return from_oserror(err, f"Cannot write the record of {name}", name=name)


def _finish(name, container):
    """Write the record of the bind entry ``name``; without one the entry is removed again
    (nothing half-made)."""
    try:
        with store.lock_for_removal(name) as held:
            checked = ns.check(name, dir_fd=held.dir)
            with records.Records(held.dir) as kept:
                kept.save(name, records.for_entry(checked, container))
    except OSError as e:
        store.delete(name)
        raise _record_failed(name, e) from None


def _attach_pinned(name, pinned, symlink, container=None):
    """Name the namespace of a pinned process: a bind of the namespace we hold open, or a
    symlink to /proc/PID/ns/net checked once more after it exists."""
    if symlink:
        target = f"/proc/{pinned.pid}/ns/net"
        path = _make_symlink(name, target, pinned.identity, container, pinned.pid)
        try:
            now = ns.identity(path)
        except OSError:
            now = None
        if now != pinned.identity or not pinned.alive():
            store.delete(name)
            raise ContainerError(f"process {pinned.pid} exited while {name} was being made",
                                 name=name)
    else:
        store.bind(name, f"/proc/self/fd/{pinned.net_fd}")
        if container is not None:  # otherwise there is nothing to remember
            _finish(name, container)


def _attach_path(name, path, symlink):
    try:
        source = os.open(path, os.O_PATH | os.O_CLOEXEC)  # followed, as ip follows it
        try:
            c = ns.held(source, path, keep_fd=True)
        finally:
            os.close(source)
    except OSError as e:
        raise from_oserror(e, f'Cannot open network namespace file "{path}"', name=name,
                           path=path, default=NotFound) from None
    if not c.ok:
        raise NotANamespace(f'"{path}" is {c.problem}, not a network namespace',
                            name=name, problem=c.problem)
    try:
        if symlink:
            _make_symlink(name, os.path.abspath(path), (c.dev, c.ino))
        else:
            store.bind(name, f"/proc/self/fd/{c.fd}")
    finally:
        os.close(c.fd)
    return Attached(name, symlink)


def attach(name: str, source: str | int | os.PathLike[str], *, symlink: bool = False,
           force: bool = False) -> Attached:
    """Name a network namespace (pynetns.attach). ``source`` is a PID, a namespace file path
    (with a '/'), 'docker:C', 'podman:C', 'pod:NS/NAME' (a Kubernetes pod, see cri.py), or a bare
    container name or ID that one engine knows. ``symlink`` makes a symlink instead of a
    bind mount; ``force`` allows the host's namespace and a container that shares it.

    A PID alone takes `ip netns attach NAME PID`'s own path (store.attach), with ip's
    messages; a bare word no engine knows fails as ip does for a non-PID.
    """
    source = os.fspath(source) if isinstance(source, os.PathLike) else str(source)
    store.check_name(name)
    number = parse_c_int(source)
    if number is not None:
        try:
            return _attach_pid(name, source, number, symlink, force)
        except NetnsError as e:
            raise with_container_hint(e, source) from None
    if source.startswith("pod:"):
        from . import cri
        pod = cri.find(source, force)
        with cri.pin(pod, force=force) as pinned:
            _attach_pinned(name, pinned, symlink, pod)
        return Attached(name, symlink, pod)
    if "/" in source and containers.split_spec(source)[0] is None:  # docker:/web is docker's
        return _attach_path(name, source, symlink)
    try:
        found = rootless.find(source)  # containers.find, and podman:USER@NAME
    except NoSuchContainer:
        if containers.split_spec(source)[0] is None:
            raise InvalidPid(f"Invalid PID: {source}") from None
        raise
    holder, notes = containers.network_holder(found, force)
    with containers.pin(holder, force=force) as pinned:
        _attach_pinned(name, pinned, symlink, holder)
    return Attached(name, symlink, holder, notes)


def _attach_pid(name, source, number, symlink, force):
    if not (symlink or force):
        store.attach(name, source)
        return Attached(name, False)
    if number <= 0:
        raise InvalidPid(f"Invalid PID: {source}")
    try:
        pinned = containers.Pinned(number)
    except OSError as e:
        raise from_oserror(e, f"Cannot open network namespace of PID {number}", name=name,
                           default=NotFound) from None
    with pinned:
        _attach_pinned(name, pinned, symlink)
    return Attached(name, symlink)


def with_container_hint(error: NetnsError, source: str) -> NetnsError:
    """``error`` of attach NAME SOURCE, where SOURCE was taken as ip's PID: when it is all
    digits and an engine knows a container by that ID prefix or name, its message ends with
    ``(did you mean docker:SOURCE?)``. Asked only once there was no such PID, each engine within
    containers.QUICK: the PID path itself never waits for an engine."""
    # Not for PID 0, which ip refuses before anything: no engine is run for that.
    if isinstance(error, (InvalidPid, NotFound)) and source.isascii() and source.isdigit() \
            and int(source):
        known = containers.known_as(source)
        if known:
            error.message += f" (did you mean {' or '.join(known)}?)"
    return error


class Outcome:
    """One container (or pod) of attach --all-containers (--all-pods): action is attached,
    replaced, unchanged, skipped (by design) or failed. ``clash`` names the engines that
    each have a container of this name (then the entry is ENGINE:NAME), else it is empty."""

    __slots__ = ("container", "action", "reason", "clash")

    def __init__(self, container: containers.Container, action: str,
                 reason: str | None = None, clash: tuple[str, ...] = ()) -> None:
        self.container = container
        self.action = action
        self.reason = reason
        self.clash = clash

    @property
    def name(self) -> str:
        """The entry's name: the container's or its Podman pod's (ENGINE:NAME when several
        engines have one of that name), or the Kubernetes pod's NAMESPACE_NAME."""
        name = self.container.entry_name
        return f"{self.container.engine}:{name}" if self.clash else name

    def as_json(self) -> dict[str, Any]:
        item = {**self.container.as_json(), "action": self.action}
        if self.name != item["name"]:
            item["entry"] = self.name
        if self.reason:
            item["reason"] = self.reason
        if self.clash:
            item["clash"] = list(self.clash)
        return item


def _ours(record, container):
    """Was the entry made from this container (by id, or by name for a re-created one)?"""
    owner = (record or {}).get("container") or {}
    return owner.get("engine") == container.engine and (
        owner.get("id") == container.id or owner.get("name") == container.as_json()["name"])


def _attach_one(c, by_id, symlink, force, clash):
    if c.shares_with:
        owner = by_id.get(c.shares_with)
        return Outcome(c, "skipped", "shares the network namespace of "
                       + (str(owner) if owner else f"container {c.shares_with[:12]}"), clash)
    if c.network_mode == "host" and not force:
        return Outcome(c, "skipped", "runs with --network host (--force names it)", clash)
    return _attach_named(c, containers.pin, symlink, force, clash)


def _attach_named(c, pin, symlink, force, clash=()):
    """Name the namespace of container or pod ``c`` (pinned by ``pin``) after it: a new
    entry, the same one unchanged, or the one made from it before renewed."""
    name = Outcome(c, "", clash=clash).name
    from ._text import has_control
    # An engine chooses these names: one with control characters never becomes an entry.
    # (The reason is data: its renderings escape it.)
    if not store.is_valid_name(name) or has_control(name):
        return Outcome(c, "failed", f'"{name}" is not a valid netns name', clash)
    with pin(c, force=force) as pinned:
        try:
            existing = ns.check(store.path_of(name))
        except FileNotFoundError:
            existing = None
        action = "attached"
        if existing is not None:
            if existing.ok and (existing.dev, existing.ino) == pinned.identity:
                return Outcome(c, "unchanged", clash=clash)
            if not _ours(Records().get(name, existing), c):
                return Outcome(c, "failed", f"{name} is taken by another namespace", clash)
            store.delete(name)
            action = "replaced"
        _attach_pinned(name, pinned, symlink, c)
    return Outcome(c, action, clash=clash)


def attach_all(symlink: bool = False, force: bool = False
               ) -> tuple[list[Outcome], list[EngineUnavailable]]:
    """Name every running container's namespace by container name; running it again changes
    nothing, except that entries it made for a container that restarted are renewed. A name
    that containers of several engines have is no entry: each gets ENGINE:NAME (the form
    that names that container everywhere), and its Outcome.clash says which engines.

    Returns (outcomes, errors of installed engines that did not answer).
    """
    found, errors = containers.running_everywhere()
    if len(errors) == len(containers.ENGINES):
        raise ContainerError("no container engine answers: " + "; ".join(map(str, errors)))
    by_id = {c.id: c for c in found}
    engines_of: dict[str, list[str]] = {}
    for c in found:
        engines_of.setdefault(c.entry_name, []).append(c.engine)
    outcomes = []
    for c in sorted(found, key=lambda c: (c.engine, c.entry_name)):
        holders = sorted(set(engines_of[c.entry_name]))
        clash = tuple(holders) if len(holders) > 1 else ()
        try:
            outcomes.append(_attach_one(c, by_id, symlink, force, clash))
        except NetnsError as e:
            outcomes.append(Outcome(c, "failed", str(e), clash))
    return outcomes, [e for e in errors if e.installed]


def attach_all_pods(symlink=False, force=False):
    """attach_all for the ready pods of the node's Kubernetes runtime, named
    NAMESPACE_NAME (cri.Pod.entry_name); hostNetwork pods are skipped unless ``force``."""
    from . import cri
    runtime = cri.Runtime()
    try:
        found = runtime.running()
    finally:
        runtime.close()
    outcomes = []
    for p in sorted(found, key=lambda p: p.name):
        if p.network_mode == cri.NODE and not force:
            outcomes.append(Outcome(p, "skipped", "uses the node's network namespace "
                                    "(hostNetwork; --force names it)"))
            continue
        try:
            outcomes.append(_attach_named(p, cri.pin, symlink, force))
        except NetnsError as e:
            outcomes.append(Outcome(p, "failed", str(e)))
    return outcomes, []


class Pruned:
    """A broken entry prune found: ``removed`` says whether it is gone, ``reason`` why not."""

    __slots__ = ("name", "problem", "removed", "reason")

    def __init__(self, name: str, problem: str | None, removed: bool = False,
                 reason: str | None = None) -> None:
        self.name = name
        self.problem = problem
        self.removed = removed
        self.reason = reason

    def as_json(self) -> dict[str, Any]:
        item = {"name": self.name, "problem": self.problem, "removed": self.removed}
        if self.reason:
            item["reason"] = self.reason
        return item


def stale_symlink(checked, record):
    """The problem of a healthy-looking symlink whose process is not the one it was made
    for (see records.stale), else None."""
    return records.stale(record, checked) if record else None


def _prunable(c):
    """The problem of an entry prune may remove, else None: anything that is not broken
    for sure (healthy, or cannot be checked) stays."""
    if c.ok or c.unknown:
        return None
    if c.symlink:
        return c.problem if c.problem.startswith(("a dangling", "a symlink to")) else \
            f"a symlink to {c.target}, {c.problem}"
    return c.problem if c.problem == "a plain file" else None


def prune(dry_run: bool = False) -> list[Pruned]:
    """Remove broken entries (plain files, dangling symlinks, symlinks to no namespace or to
    a reused PID's); healthy ones, those that cannot be checked and anything else are left
    alone. Records without their entry and leftover temporary files go too."""
    import time
    now = time.time()
    if dry_run:
        try:
            run_dir = rundir.open_dir(store.RUN_DIR)
        except NotFound:
            return []
        try:
            return [_prune_one(run_dir, e, None, now) for e in store.entries_in(run_dir, False)
                    if _prunable(e.checked)]
        finally:
            os.close(run_dir)
    # Removing takes the writers' lock: no pynetns add is half-way meanwhile, and every
    # step acts on the directory locked, so a /run/netns swapped meanwhile is not followed.
    try:
        held = rundir.Locked(store.RUN_DIR)
    except NotFound:
        return []
    with held, records.Records(held.dir) as kept:
        found = store.entries_in(held.dir, with_nsid=False)
        results = [_prune_one(held.dir, e, kept, now) for e in found if _prunable(e.checked)]
        removed = {r.name for r in results if r.removed}
        kept.drop_stale(now, [e for e in found if e.name not in removed])
    return results


def _prune_one(run_dir, entry, kept, now):
    result = Pruned(entry.name, _prunable(entry.checked))
    try:
        st = os.stat(entry.name, dir_fd=run_dir, follow_symlinks=False)
        # A plain file this young may be the placeholder of an add in progress (ip's,
        # which takes no lock); one from the future is not.
        if not entry.checked.symlink and 0 <= now - st.st_mtime < GRACE:
            result.reason = "made just now: an add may be in progress"
            return result
        if kept is None:
            return result  # a dry run
        os.unlink(entry.name, dir_fd=run_dir)  # EBUSY if an add mounted on it meanwhile
    except OSError as e:
        result.reason = e.strerror
        return result
    result.removed = True
    try:
        kept.drop(entry.name)
    except OSError:
        pass  # no records directory
    return result
