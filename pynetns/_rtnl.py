"""RTM_GETLINK and RTM_GETADDR dumps of the calling thread's network namespace, and the
nsids of many namespaces asked as they are opened.

A sibling of _nsid (whose message splitting, attribute parsing and socket it reuses): what
`inventory` and `which` read of each namespace, i.e. what `ip -br link` and `ip -br addr`
show, plus the veth peer fields (IFLA_LINK, IFLA_LINK_NETNSID). Tests check it against
pyroute2.
"""
import _socket as socket  # the C module: `socket` itself would import enum and selectors
import errno

from . import _nsid
from ._nsid import _ORDER, HDR_LEN, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR

RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_GETADDR = 22

IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_LINK = 5
IFLA_MASTER = 10
IFLA_OPERSTATE = 16
IFLA_LINKINFO = 18
IFLA_INFO_KIND = 1
IFLA_EXT_MASK = 29
IFLA_LINK_NETNSID = 37
RTEXT_FILTER_SKIP_STATS = 1 << 3  # the counters are a third of a link's message: unused

IFA_ADDRESS = 1
IFA_LOCAL = 2

IFF_UP = 0x1
# IF_OPER_* as `ip -br link` names them (iproute2's oper_states[]).
OPER_STATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")

IFINFOMSG_LEN = 16  # family u8, pad u8, type u16, index s32, flags u32, change u32
IFADDRMSG_LEN = 8   # family u8, prefixlen u8, flags u8, scope u8, index u32


class Link:
    """One interface of a dump. ``link`` is IFLA_LINK (the peer's or parent's index) and
    ``link_netnsid`` the nsid, in this namespace, of the namespace that index is in."""

    __slots__ = ("index", "name", "kind", "state", "flags", "mac", "link", "link_netnsid",
                 "master", "addresses")

    def __init__(self, index, name, kind, state, flags, mac, link, link_netnsid, master):
        self.index = index
        self.name = name
        self.kind = kind
        self.state = state
        self.flags = flags
        self.mac = mac
        self.link = link
        self.link_netnsid = link_netnsid
        self.master = master
        self.addresses = []  # "ADDR/PREFIXLEN", in dump order (IPv4 first)

    def __repr__(self):
        return f"Link({self.index}, {self.name!r}, {self.kind!r}, link={self.link})"


def _s32(raw):
    return int.from_bytes(raw[:4], _ORDER, signed=True)


def _text(raw):
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _request(msg_type, seq, body):
    """A dump request: the header, then ``body`` (the family header and attributes)."""
    return ((HDR_LEN + len(body)).to_bytes(4, _ORDER) + msg_type.to_bytes(2, _ORDER)
            + (NLM_F_REQUEST | NLM_F_DUMP).to_bytes(2, _ORDER) + seq.to_bytes(4, _ORDER)
            + b"\0\0\0\0" + body)


# Zeroed family headers (AF_UNSPEC: every family); links without their counters.
_GETLINK = (bytes(IFINFOMSG_LEN) + _nsid._ATTR32_LEN + IFLA_EXT_MASK.to_bytes(2, _ORDER)
            + RTEXT_FILTER_SKIP_STATS.to_bytes(4, _ORDER))
_GETADDR = bytes(IFADDRMSG_LEN)


class Netlink:
    """A bare netlink socket (NETLINK_ROUTE unless ``protocol``), in the shape dump()
    drives. Unlike _nsid.Socket it sets no option: neither extended acks nor strict
    checking changes a dump's answer (IFLA_EXT_MASK is honoured without strict checking),
    and they are two system calls a namespace."""

    def __init__(self, protocol=_nsid.NETLINK_ROUTE):
        self.sock = socket.socket(_nsid.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                                  protocol)
        self.seq = 0

    def next_seq(self):
        self.seq += 1
        return self.seq

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()


def dump(sock, msg_type, body):
    """Payloads of one dump's messages, on ``sock`` (a Netlink or an _nsid.Socket);
    OSError with the kernel's errno if it refuses."""
    seq = sock.next_seq()
    sock.sock.send(_request(msg_type, seq, body))
    while True:
        data = sock.sock.recv(1 << 16)
        for kind, flags, got, payload in _nsid.decode(data):
            if got != seq:
                continue
            if kind in (NLMSG_DONE, NLMSG_ERROR):
                reply = _nsid.decode_reply(kind, flags, got, payload)
                if reply.error:
                    raise OSError(reply.error, reply.extack or "netlink dump failed")
                return
            yield kind, payload


_LINK_ATTRS = frozenset((IFLA_ADDRESS, IFLA_IFNAME, IFLA_LINK, IFLA_MASTER, IFLA_OPERSTATE,
                         IFLA_LINKINFO, IFLA_LINK_NETNSID))


def _some_attrs(payload, offset, wanted):
    """_nsid.parse_attrs(payload, offset), only the types in ``wanted``: a link carries
    some 40 attributes, and walking them through a 16-bit view of the message costs a
    fraction of two function calls per attribute (a third of inventory's time, before)."""
    if len(payload) & 1:
        payload += b"\0"
    view = memoryview(payload).cast("H")
    attrs = {}
    end = len(payload) - 4
    while offset <= end:
        length = view[offset >> 1]
        if length < 4:
            break
        kind = view[(offset >> 1) + 1] & 0x3FFF
        if kind in wanted:
            attrs[kind] = payload[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return attrs


def _link(payload):
    flags = int.from_bytes(payload[8:12], _ORDER)
    attrs = _some_attrs(payload, IFINFOMSG_LEN, _LINK_ATTRS)
    kind = None
    if IFLA_LINKINFO in attrs:
        info = _nsid.parse_attrs(attrs[IFLA_LINKINFO])
        kind = _text(info[IFLA_INFO_KIND]) if IFLA_INFO_KIND in info else None
    oper = attrs.get(IFLA_OPERSTATE, b"\0")[0]
    return Link(
        index=_s32(payload[4:8]), name=_text(attrs.get(IFLA_IFNAME, b"")), kind=kind,
        state=OPER_STATES[oper] if oper < len(OPER_STATES) else str(oper), flags=flags,
        mac=attrs[IFLA_ADDRESS].hex(":") if IFLA_ADDRESS in attrs else None,
        link=_s32(attrs[IFLA_LINK]) if IFLA_LINK in attrs else None,
        link_netnsid=_s32(attrs[IFLA_LINK_NETNSID]) if IFLA_LINK_NETNSID in attrs else None,
        master=_s32(attrs[IFLA_MASTER]) if IFLA_MASTER in attrs else None)


def _address(payload):
    """(interface index, "ADDR/PREFIXLEN") of an RTM_NEWADDR, None for other families."""
    family, prefixlen = payload[0], payload[1]
    attrs = _nsid.parse_attrs(payload, IFADDRMSG_LEN)
    # IFA_LOCAL is the interface's own IPv4 address; IFA_ADDRESS the peer's on a
    # point-to-point link (iproute2's print_addrinfo makes the same choice).
    raw = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
    if raw is None or family not in (socket.AF_INET, socket.AF_INET6):
        return None
    return (int.from_bytes(payload[4:8], _ORDER),
            f"{socket.inet_ntop(family, raw)}/{prefixlen}")


def link(name=None, index=0):
    """The interface ``name`` (or of ``index``) of the calling thread's namespace, with
    its addresses, asked for alone (a dump of every link is what costs with hundreds of
    veths); None when there is none."""
    attrs = b""
    if name is not None:
        raw = name.encode("utf-8", "surrogateescape") + b"\0"
        attrs = ((4 + len(raw)).to_bytes(2, _ORDER) + IFLA_IFNAME.to_bytes(2, _ORDER) + raw
                 + bytes(-len(raw) % 4))
    body = (bytes(4) + index.to_bytes(4, _ORDER, signed=True) + bytes(8) + _GETLINK[16:]
            + attrs)
    with _nsid.Socket(strict=True) as s:
        seq = s.next_seq()
        request = _request(RTM_GETLINK, seq, body)
        s.sock.send(request[:6] + NLM_F_REQUEST.to_bytes(2, _ORDER) + request[8:])
        found = None
        while found is None:
            for kind, flags, got, payload in _nsid.decode(s.sock.recv(1 << 16)):
                if got != seq:
                    continue
                if kind == RTM_NEWLINK:
                    found = _link(payload)
                    break
                reply = _nsid.decode_reply(kind, flags, got, payload)
                if reply.error == errno.ENODEV:
                    return None
                raise OSError(reply.error or errno.EIO, reply.extack or "no link in the answer")
        # With strict checking the kernel dumps only this interface's addresses.
        only = bytes(4) + found.index.to_bytes(4, _ORDER)
        found.addresses = [address[1] for kind, payload in dump(s, RTM_GETADDR, only)
                           if kind == RTM_NEWADDR and (address := _address(payload))
                           and address[0] == found.index]
    return found


def links():
    """Every interface of the calling thread's network namespace, with its addresses."""
    with Netlink() as s:
        found = [_link(p) for kind, p in dump(s, RTM_GETLINK, _GETLINK)
                 if kind == RTM_NEWLINK]
        by_index = {link.index: link for link in found}
        for kind, payload in dump(s, RTM_GETADDR, _GETADDR):
            if (kind == RTM_NEWADDR and (address := _address(payload))
                    and address[0] in by_index):
                by_index[address[0]].addresses.append(address[1])
    return found


_ASK = _nsid.encode(_nsid.RTM_GETNSID, NLM_F_REQUEST, 0, ((_nsid.NETNSA_FD, 0),))
_ASK_HEAD, _ASK_MIDDLE = _ASK[:8], _ASK[12:24]


class NsidAsker:
    """The nsids, in the namespace this was made in, of namespace descriptors given one at
    a time (each may be closed, and the thread move elsewhere, right after): the requests
    go out as they come and the answers are read a chunk at a time (_nsid.CHUNK)."""

    def __init__(self):
        self.sock = _nsid.Socket()
        self.pending = {}
        self.nsids = {}

    def ask(self, fd, key):
        """Ask for the nsid of ``fd``; nsids[key] is its answer (None: it has none)."""
        seq = self.sock.next_seq()
        # Only the seq and the fd change from one request to the next (as in nsid_replies).
        self.sock.sock.send(_ASK_HEAD + seq.to_bytes(4, _ORDER) + _ASK_MIDDLE
                            + fd.to_bytes(4, _ORDER))
        self.pending[seq] = key
        if len(self.pending) >= _nsid.CHUNK:
            self.wait()

    def wait(self):
        """Read every answer still due."""
        while self.pending:
            data = self.sock.sock.recv(1 << 16)
            answers = _nsid._plain_answer(data)
            if answers is None:
                answers = [(r.seq, r.nsid, r.error) for r in
                           (_nsid.decode_reply(*msg) for msg in _nsid.decode(data))]
            for seq, nsid, _ in answers:
                key = self.pending.pop(seq, None)
                if key is not None:
                    self.nsids[key] = nsid if nsid is not None and nsid >= 0 else None

    def close(self):
        self.sock.close()
