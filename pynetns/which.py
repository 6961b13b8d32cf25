"""`which TARGET`: the namespaces that have an interface, an address or a listening port.

TARGET is an interface name or index, an IPv4/IPv6 address, or [tcp|udp]:PORT. A name or
an index means the caller's namespace first (what `ip link` shows here) and, only when it
has none, every namespace. Each match of a veth brings the far end along.

Addresses are compared packed (inet_pton): ipaddress would cost more to import (~15 ms)
than `which` spends on everything else in a small host.
"""
import _socket
import os

from .errors import UsageError

IFNAMSIZ = 16


class Target:
    """``kind`` is interface, index, address or port; ``proto`` tcp, udp or None (both)."""

    __slots__ = ("text", "kind", "value", "proto")

    def __init__(self, text, kind, value, proto=None):
        self.text, self.kind, self.value, self.proto = text, kind, value, proto


def _is_ifname(text):
    # The kernel's dev_valid_name(): 1 to 15 bytes, not . or .., no '/', ':' or blank.
    raw = os.fsencode(text)
    return (0 < len(raw) < IFNAMSIZ and text not in (".", "..")
            and not any(c in "/: \t\n\v\f\r" for c in text))


def parse(text):
    """The Target ``text`` names; UsageError when it names nothing."""
    proto, sep, port = text.rpartition(":")
    if sep and proto in ("", "tcp", "udp"):
        if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            raise UsageError(f'Invalid port "{port}" in "{text}": '
                             "a number from 1 to 65535 is expected")
        return Target(text, "port", int(port), proto or None)
    if text.isascii() and text.isdigit():
        index = int(text)
        if not 0 < index < 2**31:
            raise UsageError(f'Invalid interface index "{text}"')
        return Target(text, "index", index)
    packed = _packed(text)
    if packed is not None:
        return Target(text, "address", packed)
    if _is_ifname(text):
        return Target(text, "interface", text)
    raise UsageError(f'"{text}" is not an interface name or index, an IP address '
                     "or [tcp|udp]:PORT")


def _packed(address):
    """(family, packed bytes) of an IPv4 or IPv6 address in text, else None."""
    for family in (_socket.AF_INET, _socket.AF_INET6):
        try:
            return family, _socket.inet_pton(family, address)
        except OSError:
            continue
    return None


def focus(target):
    """What inventory.collect(focus=...) narrows its reading to: the link ``target``
    names (an interface name or index), else None."""
    if target.kind == "interface":
        return {"name": target.value}
    if target.kind == "index":
        return {"index": target.value}
    return None


def _wanted(target):
    """The test of a link that is ``target``, else None."""
    if target.kind == "interface":
        return lambda x: x.name == target.value
    if target.kind == "index":
        return lambda x: x.index == target.value
    return None


class Match:
    """One thing found: in namespace ``ns``, a ``link`` (with its address for an address
    match) or a ``listener``; ``peer_of`` is set on the far end of a matched veth, to the
    matched link."""

    __slots__ = ("ns", "link", "address", "listener", "peer_of", "pids")

    def __init__(self, ns, link=None, address=None, listener=None, peer_of=None, pids=()):
        self.ns, self.link, self.address, self.listener = ns, link, address, listener
        self.peer_of = peer_of
        self.pids = list(pids)


def _with_peers(matches):
    found = []
    for m in matches:
        found.append(m)
        peer = m.ns.peers.get(m.link.index)
        if peer is not None:
            found.append(Match(peer[0], peer[1], peer_of=m.link))
    return found


def _links(inventory, wanted):
    """Links ``wanted`` accepts: those of the caller's namespace, else of every one."""
    namespaces = inventory.namespaces
    for scope in ([n for n in namespaces if n.is_caller], namespaces):
        found = [Match(n, x) for n in scope for x in n.links or () if wanted(x)]
        if found:
            return _with_peers(found)
    return []


def _socket_owners(n, inodes):
    """PIDs of the processes in ``n`` holding one of these socket inodes."""
    wanted = {f"socket:[{i}]" for i in inodes}
    found = []
    for pid in n.pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    found.append(pid)
                    break
            except OSError:
                continue
    return found


def find(inventory, target):
    """Every Match of ``target`` (a Target) in the Inventory."""
    wanted = _wanted(target)
    if wanted is not None:
        return _links(inventory, wanted)
    found: list[Match] = []
    for n in inventory.namespaces:
        if target.kind == "address":
            found.extend(Match(n, x, address=a) for x in n.links or () for a in x.addresses
                         if _packed(a.split("/")[0]) == target.value)
        else:
            hits = [s for s in n.listeners or () if s.port == target.value
                    and target.proto in (None, s.proto)]
            found.extend(Match(n, listener=s, pids=_socket_owners(n, [s.inode]))
                         for s in hits)
    return found
