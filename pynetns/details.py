"""What `list -d`, `prune` and `attach --all-containers` print, as text or JSON.

list -d describes each healthy entry: inode, nsid, bind mount or symlink, the PIDs in it,
the container that owns it and, when it has gone stale, why. The owner is the container
the entry was attached from (its record) or else a running container in that namespace.
"""
from . import attachments, containers, ns, output, procs
from .errors import ContainerError, NoSuchContainer
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
        return self.by_identity.get(identity)

    def recorded(self, owner, identity):
        """(container as JSON, stale reason) for the container an entry was made from."""
        try:
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


def describe(entries):
    """One dict per entry: the JSON objects of `list -d -j`."""
    pids = _pids_by_identity()
    owners = _Owners()
    records = attachments.Records()
    rows = []
    for e in entries:
        c = e.checked
        identity = (c.dev, c.ino)
        record = records.get(e.name, c)
        stale = attachments.stale_symlink(c, record)
        owner = (record or {}).get("container")
        if owner and not stale:
            owner, stale = owners.recorded(owner, identity)
        elif not owner:
            running = owners.running(identity)
            owner = running.as_json() if running else None
        rows.append({"name": e.name, "inode": c.ino, "nsid": e.nsid,
                     "kind": "symlink" if c.symlink else "bind", "target": c.target,
                     "pids": pids.get(identity, []), "container": owner, "stale": stale})
    return rows


def _text_columns(row):
    kind = f"symlink -> {row['target']}" if row["target"] else "bind"
    owner = row["container"]
    return [row["name"], f"inode {row['inode']}",
            f"nsid {'none' if row['nsid'] is None else row['nsid']}", kind,
            "pids " + (",".join(map(str, row["pids"])) or "none"),
            f"{owner['engine']} {owner['name']} {owner['id'][:12]}" if owner else "-",
            f"STALE: {row['stale']}" if row["stale"] else ""]


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
        out(_table([_text_columns(r) for r in rows]))


def show_pruned(results, inv, dry_run):
    if inv.flag("json"):
        out(output.json_array([r.as_json() for r in results], inv.flag("pretty")))
        return
    for r in results:
        if r.removed:
            out(f"removed {r.name}: {r.problem}\n")
        elif r.reason:
            err(f"kept {r.name}: {r.problem} ({r.reason})")
        elif dry_run:
            out(f"would remove {r.name}: {r.problem}\n")


def show_outcomes(outcomes, inv):
    if inv.flag("json"):
        out(output.json_array([o.as_json() for o in outcomes], inv.flag("pretty")))
        return
    lines = [[o.action, o.name, f"{o.container.engine} {o.container.short_id}",
              o.reason or ""] for o in outcomes]
    out(_table(lines))
