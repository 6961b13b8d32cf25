"""What `inventory` and `which` print: a table with a header (lsns's layout) or JSON."""
import os

from .. import inventory
from . import output
from ..errors import UsageError
from .output import err, out, printable
from .output import table as _table

DEFAULT_COLUMNS = ("NS", "NSID", "NAMES", "NPROCS", "PID", "COMMAND", "OWNER", "INTERFACES")


def columns(spec):
    """lsns's -o: a comma-separated list, any case; '+LIST' adds to the default columns."""
    if spec is None:
        return list(DEFAULT_COLUMNS)
    extra = spec.startswith("+")
    chosen = list(DEFAULT_COLUMNS) if extra else []
    for word in (spec[1:] if extra else spec).split(","):
        if word.upper() not in COLUMNS:
            raise UsageError(f"unknown column: {word}")
        chosen.append(word.upper())
    return chosen


def link_name(n, x):
    """The name as `ip link` shows it: NAME@ifPEER for a peer in another namespace,
    NAME@PARENT for a link in this one (iproute2's print_linktype/IFLA_LINK branch)."""
    if x.link is None:
        return x.name
    if x.link == 0:
        return f"{x.name}@NONE"
    parent = n.link(x.link) if x.link_netnsid is None else None
    return f"{x.name}@{parent.name if parent else f'if{x.link}'}"


def _interfaces_text(n):
    if n.links is None:
        return f"? ({n.error})"
    return ", ".join(" ".join([link_name(n, x)] + x.addresses) for x in n.links)


def _dash(values):
    return ",".join(values) or "-"


_TEXT = {
    "NS": lambda n: str(n.ino),
    "NSID": lambda n: "-" if n.nsid is None else str(n.nsid),
    "NAMES": lambda n: _dash(n.names),
    "NPROCS": lambda n: str(len(n.pids)),
    "PID": lambda n: str(n.pid or "-"),
    "COMMAND": lambda n: n.command or "-",
    "OWNER": lambda n: n.owner or "-",
    "INTERFACES": _interfaces_text,
    "NSFS": lambda n: _dash(n.mounts),
    "LISTEN": lambda n: ("?" if n.listeners is None else
                         _dash(f"{s.proto}:{s.endpoint}" for s in n.listeners)),
}
# Every column -o knows: the default ones, NSFS (mount points besides /run/netns) and LISTEN.
COLUMNS = tuple(_TEXT)


def _peer_json(n, x):
    peer = n.peers.get(x.index)
    if peer is None:
        return None
    m, y = peer
    return {"ns": m.ino, "interface": y.name, "index": y.index}


def _link_json(n, x):
    return {"name": x.name, "index": x.index, "kind": x.kind, "state": x.state,
            "link": x.link, "link_netnsid": x.link_netnsid, "peer": _peer_json(n, x),
            "addresses": list(x.addresses)}


_JSON = {
    "NS": lambda n: n.ino,
    "NSID": lambda n: n.nsid,
    "NAMES": lambda n: list(n.names),
    "NPROCS": lambda n: len(n.pids),
    "PID": lambda n: n.pid,
    "COMMAND": lambda n: n.command,
    "OWNER": lambda n: n.owner,
    "INTERFACES": lambda n: (None if n.links is None else
                             [_link_json(n, x) for x in n.links]),
    "NSFS": lambda n: list(n.mounts),
    "LISTEN": lambda n: (None if n.listeners is None else
                         [{"proto": s.proto, "address": s.address, "port": s.port}
                          for s in n.listeners]),
}


def _row_json(n, chosen):
    row = {c.lower(): _JSON[c](n) for c in chosen}
    if n.error:
        row["error"] = n.error
    return row


def _warn(inv):
    for w in inv.warnings:
        err(f"warning: {w}")
    if inv.hidden_pids:
        many = inv.hidden_pids > 1
        err(f"warning: the network namespace of {inv.hidden_pids} process{'es' * many} "
            "cannot be read (Permission denied)"
            + ("" if os.geteuid() == 0 else ": run as root to see them"))


def _collect(chosen):
    return inventory.collect(
        interfaces=bool({"INTERFACES", "LISTEN"} & set(chosen)),
        sockets="LISTEN" in chosen, owners="OWNER" in chosen)


def show_inventory(inv):
    """The `inventory` verb; returns the exit code."""
    if inv.args:
        raise UsageError(f'inventory takes no argument, not "{inv.args[0]}"')
    chosen = columns(inv.options.get("columns"))
    found = _collect(chosen)
    if inv.flag("json"):
        out(output.json_array([_row_json(n, chosen) for n in found.namespaces],
                              inv.flag("pretty"), strict=True))
    else:
        out(_table([chosen] + [[printable(_TEXT[c](n)) for c in chosen]
                               for n in found.namespaces]))
    _warn(found)
    return 0


def _match_text(m):
    if m.listener is not None:
        s = m.listener
        pids = f" (pid {','.join(map(str, m.pids))})" if m.pids else ""
        return f"{s.proto} {s.endpoint}{pids}"
    name = link_name(m.ns, m.link)
    if m.address is not None:
        return f"{m.address} on {name}"
    kind = f" ({m.link.kind})" if m.link.kind else ""
    if m.peer_of is not None:
        return f"{name}{kind}, peer of {m.peer_of.name}"
    return f"{name}{kind}"


def _match_json(m):
    item = {"ns": m.ns.ino, "nsid": m.ns.nsid, "names": list(m.ns.names),
            "owner": m.ns.owner, "containers": [c.as_json() for c in m.ns.containers]}
    if m.listener is not None:
        item.update(proto=m.listener.proto, address=m.listener.address,
                    port=m.listener.port, pids=m.pids)
        return item
    item.update(interface=m.link.name, index=m.link.index, kind=m.link.kind)
    if m.address is not None:
        item["address"] = m.address
    item["peer"] = _peer_json(m.ns, m.link)
    item["peer_of"] = m.peer_of.name if m.peer_of is not None else None
    return item


def show_which(inv):
    """The `which` verb: 0 with matches, 1 when nothing has TARGET, 255 for a bad one."""
    from .. import which
    if len(inv.args) != 1:
        err("Usage: pynetns which [-j] NAME|INDEX|ADDRESS|[tcp|udp]:PORT")
        return 255
    try:
        target = which.parse(inv.args[0])
    except UsageError as e:
        err(str(e))
        return 255
    found = inventory.collect(sockets=target.kind == "port", focus=which.focus(target))
    matches = which.find(found, target)
    _warn(found)
    if not matches:
        err(f'nothing has "{printable(target.text)}" in any network namespace')
        return 1
    if inv.flag("json"):
        out(output.json_array([_match_json(m) for m in matches], inv.flag("pretty"),
                              strict=True))
        return 0
    lines = [["NS", "OWNER", "NAMES", "MATCH"]] + [
        [str(m.ns.ino), printable(m.ns.owner or "-"), printable(_dash(m.ns.names)),
         printable(_match_text(m))] for m in matches]
    out(_table(lines))
    return 0
