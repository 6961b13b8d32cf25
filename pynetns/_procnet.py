"""A listening socket (Listener), and the fallback that reads them from /proc/thread-self/net
where the kernel has no sock_diag handler for a protocol (see _sockdiag, the usual way: it
needs no /proc of our own PID namespace, and the kernel filters by state).

The files under /proc/thread-self/net describe the namespace of the reading thread (unlike
/proc/self/net, which follows the main thread), so a thread that has entered a namespace
reads that namespace's sockets. TCP sockets count when they LISTEN, UDP ones when they are
bound to a port (`ss -ltun` shows the same).
"""
import _socket as socket  # the C module: `socket` itself would import enum and selectors

TCP_LISTEN = 0x0A
UDP_UNCONNECTED = 0x07  # TCP_CLOSE, the state of a UDP socket without a peer



class Listener:
    """A listening TCP or bound UDP socket: protocol, local address and port, inode."""

    __slots__ = ("proto", "address", "port", "inode")

    def __init__(self, proto, address, port, inode):
        self.proto = proto
        self.address = address
        self.port = port
        self.inode = inode

    @property
    def endpoint(self):
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    def __repr__(self):
        return f"Listener({self.proto} {self.endpoint})"


def _address(hex_text, family):
    # The kernel prints the address as 32-bit words in host byte order ("%08X" per word).
    raw = bytes.fromhex(hex_text)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    if socket.htonl(1) == 1:  # big-endian host: the words are already in network order
        words = raw
    return socket.inet_ntop(family, words)


def _parse(lines, family, proto):
    wanted = TCP_LISTEN if proto == "tcp" else UDP_UNCONNECTED
    for line in lines[1:]:  # the first line is the header
        fields = line.split()
        if len(fields) < 10 or int(fields[3], 16) != wanted:
            continue
        address, _, port = fields[1].partition(":")
        yield Listener(proto, _address(address, family), int(port, 16), int(fields[9]))


def listeners_of(proto, family):
    """The listening ``proto`` ("tcp", "udp") sockets of ``family`` in this thread's
    namespace (none when the kernel has no IPv6)."""
    name = proto + ("6" if family == socket.AF_INET6 else "")
    try:
        with open(f"/proc/thread-self/net/{name}") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    return list(_parse(lines, family, proto))
