"""What `list -d`, `prune` and `attach --all-containers` print, as text or JSON.

list -d describes each healthy entry (describe.py has the data) in a table, as lsns does:
inode, nsid, bind mount or symlink, how many processes are in it and the first, the owner
and, when it has gone stale, why. prune's report names what it removed and what it keeps
(broken entries it may not remove, stale ones), and why.
"""

from .. import attachments, store
from . import output
from ..attachments import Pruned
from ..described import Owners, describe, stale
from .output import err, out
from .output import table as _table


def _warn(errors):
    for e in errors:
        err(f"warning: {e}")


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


def show(entries, inv):
    rows, errors = describe(entries)
    _warn(errors)
    if inv.flag("json"):
        out(output.json_array(rows, inv.flag("pretty"), strict=True))
    else:
        out(_table([HEADER] + [_text_columns(r) for r in rows]))


def _kept_healthy(entries):
    """Healthy entries whose container is gone, stopped or restarted, which prune keeps:
    (name, why stale, what frees it). Only recorded owners are asked: these are the entries
    list -d calls stale because of the container they were made from."""
    records = attachments.Records()
    owners = Owners()
    kept = []
    for e in entries:
        if (record := records.get(e.name, e.checked)) and record.get("container"):
            _, reason = stale(e, records, owners)
            if reason:
                how = ("a symlink pins nothing: `pynetns delete {}` removes it"
                       if e.checked.symlink else
                       "its bind mount pins that namespace: `pynetns delete {}` frees it")
                import shlex  # re: only for this hint
                kept.append((e.name, reason, how.format(shlex.quote(e.name))))
    _warn(owners.errors)
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
        out(output.json_array([r.as_json() for r in results + kept], inv.flag("pretty"),
                              strict=True))
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
        out(output.json_array([o.as_json() for o in outcomes], inv.flag("pretty"),
                              strict=True))
        return
    lines = [[o.action, output.printable(o.name),
              output.printable(f"{o.container.engine} {o.container.short_id}"),
              output.printable(o.reason or "")] for o in outcomes]
    out(_table(lines))
