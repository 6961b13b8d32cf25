"""The details of `list -d` as data: for each healthy entry its inode, nsid, bind mount or
symlink, the processes in it, the container that owns it and, when it has gone stale, why.

The owner is the container the entry was attached from (its record) or else a running
container in that namespace, as lsns names a namespace by the processes in it. Engines that
do not answer are reported back, not printed: the CLI (details.py) prints them as warnings.
"""
from __future__ import annotations

import os

from . import attachments, containers, ns, procs, rootless, store
from .errors import ContainerError, EngineUnavailable, NoSuchContainer

TYPE_CHECKING = False  # typing costs milliseconds at run time; the checker reads this block
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

Identity = tuple[int, int]


def _identity_of_pid(pid: str | int) -> Identity | None:
    try:
        return ns.identity(f"/proc/{pid}/ns/net")
    except OSError:
        return None  # gone


def _pids_by_identity() -> dict[Identity, list[int]]:
    """(dev, ino) of a network namespace → PIDs in it, in one pass over /proc."""
    found: dict[Identity, list[int]] = {}
    for pid in procs.proc_pids():
        if identity := _identity_of_pid(pid):
            found.setdefault(identity, []).append(int(pid))
    return found


class Owners:
    """What the engines say about owners; running containers are listed once, when needed.
    ``errors`` are the engines' failures met on the way, each once."""

    def __init__(self) -> None:
        self.by_identity: dict[Identity | None, Any] | None = None
        self.by_file: dict[str, Any] = {}  # cni-... → the pod sandbox, not ready, naming it
        self.errors: list[ContainerError] = []

    def _failed(self, error: ContainerError) -> None:
        if all(str(e) != str(error) for e in self.errors):
            self.errors.append(error)

    def running(self, identity: Identity) -> Any:
        """The running container that holds namespace ``identity`` (not one that only
        shares it with --network container:X), or None."""
        if self.by_identity is None:
            found, errors = containers.running_everywhere()
            for e in errors:
                if e.installed:
                    self._failed(e)
            self.by_identity = {}
            for c in sorted(found, key=lambda c: c.shares_with is not None):
                self.by_identity.setdefault(_identity_of_pid(c.pid), c)
            for p in self._pods():
                if p.running:
                    self.by_identity.setdefault(_identity_of_pid(p.pid), p)
                elif os.path.dirname(p.netns_path) in ("/run/netns", "/var/run/netns"):
                    self.by_file[os.path.basename(p.netns_path)] = p
        return self.by_identity.get(identity)

    def sandbox_of(self, name: str) -> Any:
        """The pod sandbox, not ready, whose namespace file is the entry ``name``."""
        return self.by_file.get(name) if self.by_identity is not None else None

    def _pods(self) -> list[Any]:
        """The pod sandboxes of the node's Kubernetes runtime, if it has one (cri.py)."""
        from . import cri
        try:
            return cri.sandboxes()
        except ContainerError as e:
            if not isinstance(e, EngineUnavailable) or e.installed:
                self._failed(e)
            return []

    def recorded(self, owner: dict[str, Any], identity: Identity
                 ) -> tuple[dict[str, Any], str | None]:
        """(container as JSON, stale reason) for the container an entry was made from."""
        try:
            if owner.get("engine") == "pod":
                from . import cri
                return cri.verdict(owner, identity, _identity_of_pid)
            c = rootless.find(f"{owner['engine']}:{owner['id']}")  # podman:USER@ID too
        except NoSuchContainer:
            return owner, "container gone"
        except ContainerError as e:  # the engine is down: no verdict
            self._failed(e)
            return owner, None
        if not c.running:
            return c.as_json(), f"container {c.status or 'stopped'}"
        if _identity_of_pid(c.pid) != identity:
            return c.as_json(), "container restarted with a new namespace"
        return c.as_json(), None


def stale(e: store.Entry, records: attachments.Records, owners: Owners
          ) -> tuple[dict[str, Any] | None, str | None]:
    """(owner as JSON or None, why the entry is stale or None) for healthy entry ``e``."""
    c = e.checked
    identity = (c.dev, c.ino)
    record = records.get(e.name, c)
    reason = attachments.stale_symlink(c, record)
    owner = (record or {}).get("container")
    if owner and not reason:
        return owners.recorded(owner, identity)
    if not owner:
        running = owners.running(identity)
        owner = running.as_json() if running else None
        if not owner and (pod := owners.sandbox_of(e.name)):
            return pod.as_json(), "pod not ready (its sandbox process is gone)"
    return owner, reason


def describe(entries: Iterable[store.Entry] | None = None
             ) -> tuple[list[dict[str, Any]], list[ContainerError]]:
    """The details of ``entries`` (default: every healthy entry) as `list -d -j` shows
    them, and the errors of engines that did not answer (their owners are unknown).

    Each row is a dict: name, id (the nsid, only when there is one), inode, kind ("bind"
    or "symlink"), target (a symlink's), pids, container (engine, id, name, ... or None)
    and stale (why the entry no longer names what it was made for, or None).
    """
    if entries is None:
        entries = [e for e in store.entries() if e.ok]
    pids = _pids_by_identity()
    owners = Owners()
    records = attachments.Records()
    rows = []
    for e in entries:
        c = e.checked
        owner, reason = stale(e, records, owners)
        row: dict[str, Any] = {"name": e.name}
        if e.nsid is not None:
            row["id"] = e.nsid
        row.update({"inode": c.ino, "kind": "symlink" if c.symlink else "bind",
                    "target": c.target, "pids": sorted(pids.get((c.dev, c.ino), [])),
                    "container": owner, "stale": reason})
        rows.append(row)
    return rows, owners.errors
