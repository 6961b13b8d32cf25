"""Listening sockets of the calling thread's network namespace, over NETLINK_SOCK_DIAG.

What `ss -tuln` shows, asked the way ss asks it (iproute2 misc/ss.c, inet_show_netlink):
one SOCK_DIAG_BY_FAMILY dump per protocol and family with struct inet_diag_req_v2, the
kernel filtering by state: TCP sockets in LISTEN, UDP ones unconnected (TCP_CLOSE) and
bound to a port. A netlink socket belongs to the namespace of the thread that made it, so
a thread that has entered a namespace reads that namespace's sockets. Tests check the
bytes against pyroute2's and the results against `ss -N NAME -tuln`.
"""
import _socket
import errno

from . import _rtnl
from ._nsid import _ORDER
from ._procnet import Listener

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
IPPROTO_TCP = 6
IPPROTO_UDP = 17
TCP_LISTEN = 10
TCP_CLOSE = 7  # a UDP socket without a peer

SOCKID_LEN = 48  # struct inet_diag_sockid: ports, two 16-byte addresses, ifindex, cookie
MSG_LEN = 72     # struct inet_diag_msg, before its attributes
_PORT = slice(4, 6)    # idiag_sport, big-endian
_ADDRESS = 8           # idiag_src
_INODE = slice(68, 72)

# (name, protocol, state): what `ss -tul` lists.
QUERIES = (("tcp", IPPROTO_TCP, TCP_LISTEN), ("udp", IPPROTO_UDP, TCP_CLOSE))
FAMILIES = ((_socket.AF_INET, 4), (_socket.AF_INET6, 16))  # and their address lengths


def request_body(family, protocol, state):
    """struct inet_diag_req_v2 asking for every socket of ``family``/``protocol`` in
    ``state`` (no extensions, any address)."""
    return (bytes((family, protocol, 0, 0)) + (1 << state).to_bytes(4, _ORDER)
            + bytes(SOCKID_LEN))


def parse(payload, proto):
    """The Listener of one inet_diag_msg."""
    family = payload[0]
    size = 4 if family == _socket.AF_INET else 16
    address = _socket.inet_ntop(family, payload[_ADDRESS:_ADDRESS + size])
    return Listener(proto, address, int.from_bytes(payload[_PORT], "big"),
                    int.from_bytes(payload[_INODE], _ORDER))


def listeners():
    """Every listening socket of this thread's namespace: TCP, then UDP; IPv4, then
    IPv6; then by port."""
    found = []
    with _rtnl.Netlink(NETLINK_SOCK_DIAG) as diag:
        for proto, protocol, state in QUERIES:
            for family, _ in FAMILIES:
                try:
                    some = [parse(payload, proto) for kind, payload in _rtnl.dump(
                        diag, SOCK_DIAG_BY_FAMILY, request_body(family, protocol, state))
                        if kind == SOCK_DIAG_BY_FAMILY and len(payload) >= MSG_LEN]
                except OSError as e:
                    if e.errno not in (errno.ENOENT, errno.EOPNOTSUPP):
                        raise
                    # No diag handler for it: udp_diag and inet6 diag are modules of
                    # their own (CONFIG_INET_UDP_DIAG), which a minimal kernel may lack
                    # and a container cannot load; /proc/net still lists them.
                    from . import _procnet
                    some = _procnet.listeners_of(proto, family)
                # By port: the kernel's order is its hash tables'.
                found.extend(sorted(some, key=lambda s: (s.port, s.address)))
    return found
