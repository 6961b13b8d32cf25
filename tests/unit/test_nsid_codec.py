"""_nsid, the small RTM_*NSID codec, against pyroute2: requests encode to the same bytes, and
replies the kernel actually sends decode to the same values (nsid, current nsid, errno and
extended ack text)."""
import os

import pytest

pytest.importorskip("pyroute2", reason="the reference codec is pyroute2's (pip install pyroute2)")
from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST
from pyroute2.netlink.rtnl import RTM_GETNSID, RTM_NEWNSID
from pyroute2.netlink.rtnl.marshal import MarshalRtnl
from pyroute2.netlink.rtnl.nsidmsg import nsidmsg

from pynetns import _nsid

ATTR_NAMES = {_nsid.NETNSA_NSID: "NETNSA_NSID", _nsid.NETNSA_PID: "NETNSA_PID",
              _nsid.NETNSA_FD: "NETNSA_FD", _nsid.NETNSA_TARGET_NSID: "NETNSA_TARGET_NSID",
              _nsid.NETNSA_CURRENT_NSID: "NETNSA_CURRENT_NSID"}


def pyroute2_encode(msg_type, flags, seq, attrs):
    msg = nsidmsg()
    msg["header"]["type"] = msg_type
    msg["header"]["flags"] = flags
    msg["header"]["sequence_number"] = seq
    msg["header"]["pid"] = 0
    msg["attrs"] = [(ATTR_NAMES[t], v & 0xFFFFFFFF) for t, v in attrs]
    msg.encode()
    return bytes(msg.data)


@pytest.mark.parametrize("msg_type, flags, seq, attrs", [
    (RTM_GETNSID, NLM_F_REQUEST, 1, [(_nsid.NETNSA_FD, 3)]),
    (RTM_GETNSID, NLM_F_REQUEST, 2**32 - 1, [(_nsid.NETNSA_NSID, 7)]),
    (RTM_GETNSID, NLM_F_REQUEST, 9, [(_nsid.NETNSA_NSID, 7), (_nsid.NETNSA_TARGET_NSID, 2)]),
    (RTM_GETNSID, NLM_F_REQUEST | NLM_F_DUMP, 4, []),
    (RTM_GETNSID, NLM_F_REQUEST | NLM_F_DUMP, 5, [(_nsid.NETNSA_TARGET_NSID, 0)]),
    (RTM_NEWNSID, NLM_F_REQUEST | NLM_F_ACK, 6, [(_nsid.NETNSA_FD, 5), (_nsid.NETNSA_NSID, -1)]),
    (RTM_NEWNSID, NLM_F_REQUEST | NLM_F_ACK, 7,
     [(_nsid.NETNSA_PID, 1), (_nsid.NETNSA_NSID, 2**31 - 1)]),
])
def test_requests_encode_like_pyroute2(msg_type, flags, seq, attrs):
    assert _nsid.encode(msg_type, flags, seq, attrs) == pyroute2_encode(msg_type, flags, seq,
                                                                         attrs)


def test_pyroute2_messages_decode():
    data = (pyroute2_encode(RTM_NEWNSID, 0, 3, [(_nsid.NETNSA_NSID, 5),
                                                 (_nsid.NETNSA_CURRENT_NSID, -1)])
            + pyroute2_encode(RTM_NEWNSID, 2, 4, [(_nsid.NETNSA_NSID, -1)]))
    got = [(r.type, r.seq, r.nsid, r.current_nsid, r.error)
           for r in (_nsid.decode_reply(*m) for m in _nsid.decode(data))]
    assert got == [(RTM_NEWNSID, 3, 5, -1, 0), (RTM_NEWNSID, 4, -1, None, 0)]


@pytest.fixture
def holder_fd(netns_holder):
    """An fd of a fresh network namespace (held by a sleeping process)."""
    fd = os.open(f"/proc/{netns_holder.pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    yield fd
    os.close(fd)


def exchange(request, dump=False):
    """Send one request; the raw datagrams up to its answer (or the end of the dump)."""
    seq = int.from_bytes(request[8:12], "little")
    datagrams = []
    with _nsid.Socket() as s:
        s.sock.send(request)
        while True:
            data = s.sock.recv(65536)
            datagrams.append(data)
            mine = [m for m in _nsid.decode(data) if m[2] == seq]
            if mine and (not dump or mine[-1][0] in (_nsid.NLMSG_DONE, _nsid.NLMSG_ERROR)):
                return datagrams


def signed(value):
    return value - 2**32 if value is not None and value >= 2**31 else value


def both_decodings(datagrams):
    ours, theirs = [], []
    for data in datagrams:
        for r in (_nsid.decode_reply(*m) for m in _nsid.decode(data)):
            ours.append((r.type, r.seq, r.nsid, r.current_nsid, r.error, r.extack))
        for m in MarshalRtnl().parse(data):
            error = m["header"].get("error")
            if m["header"]["type"] in (_nsid.NLMSG_ERROR, _nsid.NLMSG_DONE):
                theirs.append((m["header"]["type"], m["header"]["sequence_number"], None, None,
                               error.code if error else 0, m.get_attr("NLMSGERR_ATTR_MSG")))
            else:
                theirs.append((m["header"]["type"], m["header"]["sequence_number"],
                               signed(m.get_attr("NETNSA_NSID")),
                               signed(m.get_attr("NETNSA_CURRENT_NSID")), 0, None))
    return ours, theirs


def test_kernel_replies_decode_like_pyroute2(holder_fd):
    fd = holder_fd
    requests = [
        (_nsid.encode(RTM_GETNSID, NLM_F_REQUEST, 101, [(_nsid.NETNSA_FD, fd)]), False),
        (_nsid.encode(RTM_NEWNSID, NLM_F_REQUEST | NLM_F_ACK, 102,
                      [(_nsid.NETNSA_FD, fd), (_nsid.NETNSA_NSID, -1)]), False),
        (_nsid.encode(RTM_GETNSID, NLM_F_REQUEST, 103, [(_nsid.NETNSA_FD, fd)]), False),
        (_nsid.encode(RTM_NEWNSID, NLM_F_REQUEST | NLM_F_ACK, 104,
                      [(_nsid.NETNSA_FD, fd), (_nsid.NETNSA_NSID, 5)]), False),
        (_nsid.encode(RTM_GETNSID, NLM_F_REQUEST, 105,
                      [(_nsid.NETNSA_NSID, 2**31 - 1)]), False),
        (_nsid.encode(RTM_GETNSID, NLM_F_REQUEST | NLM_F_DUMP, 106,
                      [(_nsid.NETNSA_TARGET_NSID, 2**31 - 1)]), True),
        (_nsid.encode(RTM_GETNSID, NLM_F_REQUEST | NLM_F_DUMP, 107), True),
    ]
    decoded = []
    for request, dump in requests:
        ours, theirs = both_decodings(exchange(request, dump))
        assert ours == theirs
        decoded.extend(ours)
    by_seq = {}
    for row in decoded:
        by_seq.setdefault(row[1], []).append(row)
    assert by_seq[101] == [(RTM_NEWNSID, 101, -1, None, 0, None)]
    assert by_seq[102] == [(_nsid.NLMSG_ERROR, 102, None, None, 0, None)]  # the ack
    nsid = by_seq[103][0][2]
    assert nsid >= 0
    assert by_seq[104] == [(_nsid.NLMSG_ERROR, 104, None, None, 17,
                            "Peer netns already has a nsid assigned")]
    assert by_seq[105] == [(_nsid.NLMSG_ERROR, 105, None, None, 2,
                            "Peer netns reference is invalid")]
    assert by_seq[106] == [(_nsid.NLMSG_DONE, 106, None, None, 22,
                            "Invalid target network namespace id")]
    assert (RTM_NEWNSID, 107, nsid, None, 0, None) in by_seq[107]


def test_current_nsid_with_a_target(holder_fd):
    fd = holder_fd
    assert _nsid.set_nsid(fd, -1) is None
    nsid = _nsid.nsid_of_fd(fd)
    request = _nsid.encode(RTM_GETNSID, NLM_F_REQUEST, 201,
                           [(_nsid.NETNSA_FD, fd), (_nsid.NETNSA_TARGET_NSID, nsid)])
    ours, theirs = both_decodings(exchange(request))
    assert ours == theirs
    # Seen from itself the namespace has no id for itself; the target's id here is nsid.
    assert ours == [(RTM_NEWNSID, 201, -1, nsid, 0, None)]


def test_nsid_replies_in_bulk(holder_fd):
    fds = [holder_fd] * (_nsid.CHUNK * 2 + 3)
    assert _nsid.nsid_replies(fds) == [(None, 0)] * len(fds)
    _nsid.set_nsid(holder_fd, -1)
    nsid = _nsid.nsid_of_fd(holder_fd)
    assert _nsid.nsid_replies(fds) == [(nsid, 0)] * len(fds)
    # A namespace of another type is refused in place (entries() then checks its type).
    uts = os.open("/proc/self/ns/uts", os.O_RDONLY | os.O_CLOEXEC)
    try:
        assert _nsid.nsid_replies([holder_fd, uts, holder_fd]) == [(nsid, 0), (None, 22),
                                                                    (nsid, 0)]
    finally:
        os.close(uts)


def test_describe_error():
    assert _nsid.describe_error(_nsid.Reply(2, 1, error=17, extack="No")) == "Error: No."
    assert _nsid.describe_error(_nsid.Reply(2, 1, error=17, extack="Ends.")) == "Error: Ends."
    assert _nsid.describe_error(_nsid.Reply(2, 1, error=1)) == \
        "RTNETLINK answers: Operation not permitted"
