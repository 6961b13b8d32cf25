"""A small rtnetlink codec for network namespace ids (RTM_GETNSID / RTM_NEWNSID).

It exists so that `list` can ask for many nsids in one round trip without importing
pyroute2 (~170 ms); tests check its encoding and decoding against pyroute2's.
"""
import os
import sys

AF_NETLINK = 16
NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NETLINK_GET_STRICT_CHK = 12

NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWNSID = 88
RTM_GETNSID = 90

NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_ACK_TLVS = 0x200  # in an NLMSG_ERROR: extended ack attributes follow
NLM_F_CAPPED = 0x100    # in an NLMSG_ERROR: the request was not echoed in full

NETNSA_NSID = 1
NETNSA_PID = 2
NETNSA_FD = 3
NETNSA_TARGET_NSID = 4
NETNSA_CURRENT_NSID = 5

NLMSGERR_ATTR_MSG = 1

# Fields are in host byte order, read with int.from_bytes: the struct module would cost an
# extension-module load (~0.3 ms) on every `pynetns list`.
_ORDER = sys.byteorder
HDR_LEN = 16  # struct nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32
_ATTR32_LEN = (8).to_bytes(2, _ORDER)  # nla_len of a 32-bit attribute
# A reply to one GETNSID is ~28 bytes but each costs a socket buffer of ~1 KiB: ask in chunks
# small enough that the replies never overflow the receive buffer.
CHUNK = 128


def _u16(data, offset):
    return int.from_bytes(data[offset:offset + 2], _ORDER)


def _u32(data, offset):
    return int.from_bytes(data[offset:offset + 4], _ORDER)


def encode(msg_type, flags, seq, attrs=()):
    """One netlink message: header, struct rtgenmsg (AF_UNSPEC, padded), 32-bit attributes."""
    body = b"\0\0\0\0" + b"".join(
        _ATTR32_LEN + t.to_bytes(2, _ORDER) + v.to_bytes(4, _ORDER, signed=True)
        for t, v in attrs)
    return ((HDR_LEN + len(body)).to_bytes(4, _ORDER) + msg_type.to_bytes(2, _ORDER)
            + flags.to_bytes(2, _ORDER) + seq.to_bytes(4, _ORDER) + b"\0\0\0\0" + body)


def parse_attrs(data, offset=0):
    attrs = {}
    while offset + 4 <= len(data):
        length, kind = _u16(data, offset), _u16(data, offset + 2)
        if length < 4:
            break
        attrs[kind & 0x3FFF] = data[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return attrs


def decode(data):
    """Split a datagram into (type, flags, seq, payload) tuples."""
    offset = 0
    while offset + HDR_LEN <= len(data):
        length = _u32(data, offset)
        if length < HDR_LEN:
            break
        yield (_u16(data, offset + 4), _u16(data, offset + 6), _u32(data, offset + 8),
               data[offset + HDR_LEN:offset + length])
        offset += (length + 3) & ~3


class Reply:
    """A decoded RTM_NEWNSID/RTM_DELNSID, or an error (``error`` = errno, ``extack`` = text)."""

    __slots__ = ("type", "seq", "nsid", "current_nsid", "error", "extack")

    def __init__(self, msg_type, seq, nsid=None, current_nsid=None, error=0, extack=None):
        self.type = msg_type
        self.seq = seq
        self.nsid = nsid
        self.current_nsid = current_nsid
        self.error = error
        self.extack = extack


def _s32(raw):
    return int.from_bytes(raw[:4], _ORDER, signed=True)


def decode_reply(msg_type, flags, seq, payload):
    if msg_type in (NLMSG_ERROR, NLMSG_DONE):
        error = -_s32(payload) if len(payload) >= 4 else 0
        extack = None
        if msg_type == NLMSG_ERROR and flags & NLM_F_ACK_TLVS and len(payload) >= 20:
            # struct nlmsgerr: error + the request's header, plus its payload unless capped.
            echoed = _u32(payload, 4)
            start = 4 + (HDR_LEN if flags & NLM_F_CAPPED else echoed)
            extack = parse_attrs(payload, (start + 3) & ~3).get(NLMSGERR_ATTR_MSG)
        elif msg_type == NLMSG_DONE and flags & NLM_F_ACK_TLVS:
            extack = parse_attrs(payload, 4).get(NLMSGERR_ATTR_MSG)
        if extack is not None:
            extack = extack.rstrip(b"\0").decode("utf-8", "replace")
        return Reply(msg_type, seq, error=error, extack=extack)
    attrs = parse_attrs(payload, 4)
    nsid = _s32(attrs[NETNSA_NSID]) if NETNSA_NSID in attrs else None
    cur = _s32(attrs[NETNSA_CURRENT_NSID]) if NETNSA_CURRENT_NSID in attrs else None
    return Reply(msg_type, seq, nsid, cur)


class Socket:
    """A NETLINK_ROUTE socket with extended acks on, and strict checking unless not ``strict``."""

    def __init__(self, strict=True):
        import _socket  # the C module: `socket` itself would import enum and selectors
        self.sock = _socket.socket(AF_NETLINK, _socket.SOCK_RAW | _socket.SOCK_CLOEXEC,
                                   NETLINK_ROUTE)
        # Extended acks carry the kernel's error text; strict checking makes dumps honour
        # NETNSA_TARGET_NSID (without it the kernel ignores the filter).
        for option in (NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK)[:2 if strict else 1]:
            try:
                self.sock.setsockopt(SOL_NETLINK, option, 1)
            except OSError:
                pass  # older kernel
        self.seq = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def next_seq(self):
        self.seq += 1
        return self.seq

    def replies(self):
        """Decoded replies, one datagram at a time, forever (callers stop reading)."""
        while True:
            data = self.sock.recv(65536)
            for msg in decode(data):
                yield decode_reply(*msg)

    def request(self, msg_type, flags, attrs):
        """Send one request and return its single reply (for ACK requests, the ack)."""
        seq = self.next_seq()
        self.sock.send(encode(msg_type, NLM_F_REQUEST | flags, seq, attrs))
        for reply in self.replies():
            if reply.seq == seq:
                return reply

    def dump(self, attrs=()):
        """All RTM_NEWNSID entries of a dump; a final error reply is yielded as is."""
        seq = self.next_seq()
        self.sock.send(encode(RTM_GETNSID, NLM_F_REQUEST | NLM_F_DUMP, seq, attrs))
        for reply in self.replies():
            if reply.seq != seq:
                continue
            if reply.type == NLMSG_DONE and not reply.error:
                return
            yield reply
            if reply.type in (NLMSG_ERROR, NLMSG_DONE):
                return


def nsid_replies(fds):
    """(nsid or None, errno or 0) for each namespace fd, in the caller's namespace. The
    kernel refuses (EINVAL) an fd of another namespace type.

    Requests go out in chunks of one datagram each, so 5,000 names cost a few dozen
    round trips instead of 5,000.
    """
    result = [(None, 0)] * len(fds)
    # Only the seq and the fd change from one request to the next; and an answer is nearly
    # always the one short form _plain_answer() reads without the general decoder.
    template = encode(RTM_GETNSID, NLM_F_REQUEST, 0, ((NETNSA_FD, 0),))
    head, middle = template[:8], template[12:24]
    with Socket() as s:
        for start in range(0, len(fds), CHUNK):
            base = s.seq + 1
            count = min(CHUNK, len(fds) - start)
            s.seq += count
            s.sock.send(b"".join(
                head + (base + i).to_bytes(4, _ORDER) + middle + fd.to_bytes(4, _ORDER)
                for i, fd in enumerate(fds[start:start + count])))
            pending = count
            while pending:
                data = s.sock.recv(65536)
                answers = _plain_answer(data)
                if answers is None:
                    answers = [(r.seq, r.nsid, r.error)
                               for r in (decode_reply(*msg) for msg in decode(data))]
                for seq, nsid, error in answers:
                    index = seq - base
                    if 0 <= index < count:
                        result[start + index] = (
                            nsid if nsid is not None and nsid >= 0 else None, error)
                        pending -= 1
    return result


_PLAIN_LEN = HDR_LEN + 4 + 8  # header, rtgenmsg, one 32-bit attribute
_PLAIN_TYPE = RTM_NEWNSID.to_bytes(2, _ORDER)
_PLAIN_ATTR = _ATTR32_LEN + NETNSA_NSID.to_bytes(2, _ORDER)


def _plain_answer(data):
    """[(seq, nsid, 0)] for a datagram that is exactly one RTM_NEWNSID carrying only
    NETNSA_NSID (the kernel's answer to a GETNSID by fd); None for anything else."""
    if (len(data) == _PLAIN_LEN and _u32(data, 0) == _PLAIN_LEN
            and data[4:6] == _PLAIN_TYPE and data[20:24] == _PLAIN_ATTR):
        return [(_u32(data, 8), int.from_bytes(data[24:28], _ORDER, signed=True), 0)]
    return None


def nsid_of_fd(fd):
    """The nsid of a network namespace fd in the caller's namespace (None when unassigned)."""
    return nsid_replies([fd])[0][0]


def set_nsid(fd, nsid):
    """Assign ``nsid`` (-1: the kernel picks) to the namespace fd; returns the error reply
    or None."""
    with Socket() as s:
        reply = s.request(RTM_NEWNSID, NLM_F_ACK, ((NETNSA_FD, fd), (NETNSA_NSID, nsid)))
    return reply if reply.error else None


def describe_error(reply):
    """The line iproute2 prints for a failed request: the kernel's text, or strerror."""
    if reply.extack:
        text = reply.extack if reply.extack.endswith(".") else reply.extack + "."
        return f"Error: {text}"
    return f"RTNETLINK answers: {os.strerror(reply.error)}"
