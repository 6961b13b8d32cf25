"""What `list -d`, `prune` and `attach --all-containers` print, as text or JSON.

list -d describes each healthy entry in a table, as lsns does: inode, nsid, bind mount or
symlink, how many processes are in it and the first, the container that owns it and, when
it has gone stale, why. The owner is the container the entry was attached from (its record)
or else a running container in that namespace. prune's report names what it removed and
what it keeps (broken entries it may not remove, stale ones), and why.
"""
import os
import shlex

from . import attachments, containers, ns, output, procs, store
from .attachments import Pruned
from .errors import ContainerError, EngineUnavailable, NoSuchContainer
from .output import err, out


def _identity_of_pid(pid):
    try:
        return ns.identity(f"/proc/{pid}/ns/net")
    except OSError:
        return None  # gone


def _pids_by_identity():
    """(dev, ino) of a network namespace → PIDs in it, in one pass over /proc."""
    found = {}
    for pid in procs.proc_pids():
        if identity := _identity_of_pid(pid):
            found.setdefault(identity, []).append(int(pid))
    return found


class _Owners:
    """What the engines say about owners; running containers are listed once, when needed."""

    def __init__(self):
        self.by_identity = None
        self.by_file = {}  # cni-... → the pod sandbox, not ready, that names it
        self.warned = set()

    def warn(self, error):
        if str(error) not in self.warned:
            self.warned.add(str(error))
            err(f"warning: {error}")

    def running(self, identity):
        """The running container that holds namespace ``identity`` (not one that only
        shares it with --network container:X), or None."""
        if self.by_identity is None:
            found, errors = containers.running_everywhere()
            for e in errors:
                if e.installed:
                    self.warn(e)
            self.by_identity = {}
            for c in sorted(found, key=lambda c: c.shares_with is not None):
                self.by_identity.setdefault(_identity_of_pid(c.pid), c)
            for p in self._pods():
                if p.running:
                    self.by_identity.setdefault(_identity_of_pid(p.pid), p)
                elif os.path.dirname(p.netns_path) in ("/run/netns", "/var/run/netns"):
                    self.by_file[os.path.basename(p.netns_path)] = p
        return self.by_identity.get(identity)

    def sandbox_of(self, name):
        """The pod sandbox, not ready, whose namespace file is the entry ``name``."""
        return self.by_file.get(name) if self.by_identity is not None else None

    def _pods(self):
        """The pod sandboxes of the node's Kubernetes runtime, if it has one (cri.py)."""
        from . import cri
        try:
            return cri.sandboxes()
        except ContainerError as e:
            if not isinstance(e, EngineUnavailable) or e.installed:
                self.warn(e)
            return []

    def recorded(self, owner, identity):
        """(container as JSON, stale reason) for the container an entry was made from."""
        try:
            if owner.get("engine") == "pod":
                from . import cri
                return cri.verdict(owner, identity, _identity_of_pid)
            c = containers.inspect(owner["engine"], owner["id"])
        except NoSuchContainer:
            return owner, "container gone"
        except ContainerError as e:  # the engine is down: no verdict
            self.warn(e)
            return owner, None
        if not c.running:
            return c.as_json(), f"container {c.status or 'stopped'}"
        if _identity_of_pid(c.pid) != identity:
            return c.as_json(), "container restarted with a new namespace"
        return c.as_json(), None


def _stale(e, records, owners):
    """(owner as JSON or None, why the entry is stale or None) for healthy entry ``e``."""
    c = e.checked
    identity = (c.dev, c.ino)
    record = records.get(e.name, c)
    stale = attachments.stale_symlink(c, record)
    owner = (record or {}).get("container")
    if owner and not stale:
        return owners.recorded(owner, identity)
    if not owner:
        running = owners.running(identity)
        owner = running.as_json() if running else None
        if not owner and (pod := owners.sandbox_of(e.name)):
            return pod.as_json(), "pod not ready (its sandbox process is gone)"
    return owner, stale


def describe(entries):
    """One dict per entry: the JSON objects of `list -d -j` (the nsid under "id", and only
    when there is one, as in `-j list`)."""
    pids = _pids_by_identity()
    owners = _Owners()
    records = attachments.Records()
    rows = []
    for e in entries:
        c = e.checked
        owner, stale = _stale(e, records, owners)
        row = {"name": e.name}
        if e.nsid is not None:
            row["id"] = e.nsid
        row.update({"inode": c.ino, "kind": "symlink" if c.symlink else "bind",
                    "target": c.target, "pids": sorted(pids.get((c.dev, c.ino), [])),
                    "container": owner, "stale": stale})
        rows.append(row)
    return rows


HEADER = ["NAME", "NS", "NSID", "KIND", "NPROCS", "PID", "OWNER", "STATUS"]


def _text_columns(row):
    """A row of the `list -d` table, as lsns prints a namespace: its first PID and how many
    there are (JSON has them all); names, targets and what engines say made printable."""
    owner = row["container"]
    return [output.printable(row["name"]), str(row["inode"]), str(row.get("id", "-")),
            output.printable(f"symlink->{row['target']}") if row["target"] else "bind",
            str(len(row["pids"])), str(row["pids"][0]) if row["pids"] else "-",
            output.printable(f"{owner['engine']}:{owner['name']}") if owner else "-",
            output.printable(f"stale: {row['stale']}") if row["stale"] else "ok"]


def _table(lines):
    """Columns padded to a common width, two spaces apart, no trailing blanks."""
    widths = [max(len(cols[i]) for cols in lines) for i in range(len(lines[0]))] if lines else []
    return "".join("  ".join(col.ljust(w) for col, w in zip(cols, widths)).rstrip() + "\n"
                   for cols in lines)


def show(entries, inv):
    rows = describe(entries)
    if inv.flag("json"):
        out(output.json_array(rows, inv.flag("pretty")))
    else:
        out(_table([HEADER] + [_text_columns(r) for r in rows]))


def _kept_healthy(entries):
    """Healthy entries whose container is gone, stopped or restarted, which prune keeps:
    (name, why stale, what frees it). Only recorded owners are asked: these are the entries
    list -d calls stale because of the container they were made from."""
    records = attachments.Records()
    owners = _Owners()
    kept = []
    for e in entries:
        if (record := records.get(e.name, e.checked)) and record.get("container"):
            _, stale = _stale(e, records, owners)
            if stale:
                how = ("a symlink pins nothing: `pynetns delete {}` removes it"
                       if e.checked.symlink else
                       "its bind mount pins that namespace: `pynetns delete {}` frees it")
                kept.append((e.name, stale, how.format(shlex.quote(e.name))))
    return kept


def _kept_broken(entries):
    """Broken entries prune leaves alone (directories, sockets, other namespace types...):
    (name, problem, why)."""
    return [(e.name, e.problem, "prune removes plain files and broken symlinks only")
            for e in entries if not e.ok]


def show_pruned(results, inv, dry_run):
    """What prune removed (or would), and every entry it keeps that list calls broken or
    stale, with why and what removes it."""
    found = {r.name for r in results}
    entries = [e for e in store.entries(with_nsid=False) if e.name not in found]
    kept = [Pruned(name, problem, reason=why) for name, problem, why in
            _kept_healthy([e for e in entries if e.ok]) + _kept_broken(entries)]
    if inv.flag("json"):
        out(output.json_array([r.as_json() for r in results + kept], inv.flag("pretty")))
        return
    for r in results:
        if r.removed or (dry_run and not r.reason):
            verb = "removed" if r.removed else "would remove"
            out(f"{verb} {output.printable(r.name)}: {output.printable(r.problem)}\n")
    for r in results + kept:
        if r.reason:
            err(f"kept {output.printable(r.name)}: {output.printable(r.problem)} "
                f"({output.printable(r.reason)})")


def show_outcomes(outcomes, inv):
    if inv.flag("json"):
        out(output.json_array([o.as_json() for o in outcomes], inv.flag("pretty")))
        return
    lines = [[o.action, output.printable(o.name),
              output.printable(f"{o.container.engine} {o.container.short_id}"),
              output.printable(o.reason or "")] for o in outcomes]
    out(_table(lines))
