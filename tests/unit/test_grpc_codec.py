"""_grpc's codecs: HPACK (RFC 7541's examples, hostile blocks), Huffman, protobuf; and what
cri.Pod accepts of a runtime's answer."""
import json

import pytest

from pynetns import _grpc, cri
from pynetns._grpc import Decoder, Message, ProtocolError, field, string_map, varint


def test_hpack_rfc7541_c3_requests_without_huffman():
    d = Decoder()
    assert d.decode(bytes.fromhex("828684410f7777772e6578616d706c652e636f6d")) == [
        (":method", "GET"), (":scheme", "http"), (":path", "/"),
        (":authority", "www.example.com")]
    assert d.decode(bytes.fromhex("828684be58086e6f2d6361636865"))[-1] == \
        ("cache-control", "no-cache")
    third = d.decode(bytes.fromhex("828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"))
    assert third[1:] == [(":scheme", "https"), (":path", "/index.html"),
                         (":authority", "www.example.com"), ("custom-key", "custom-value")]
    assert d.size == 164 and [n for n, _ in d.table] == ["custom-key", "cache-control",
                                                         ":authority"]


def test_hpack_rfc7541_c4_requests_with_huffman():
    d = Decoder()
    assert d.decode(bytes.fromhex("828684418cf1e3c2e5f23a6ba0ab90f4ff"))[-1] == \
        (":authority", "www.example.com")
    assert d.decode(bytes.fromhex("828684be5886a8eb10649cbf"))[-1] == \
        ("cache-control", "no-cache")
    assert d.decode(bytes.fromhex(
        "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"))[-1] == \
        ("custom-key", "custom-value")
    assert d.size == 164


def test_hpack_rfc7541_c6_responses_with_eviction():
    """C.6 with a 256-byte table: entries are evicted as the RFC shows."""
    d = Decoder()
    d.decode(b"\x3f\xe1\x01")  # a size update to 256 (5-bit prefix: 31 + 225)
    assert d.max_size == 256
    first = d.decode(bytes.fromhex(
        "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad17"
        "1863c78f0b97c8e9ae82ae43d3"))
    assert first == [(":status", "302"), ("cache-control", "private"),
                     ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                     ("location", "https://www.example.com")]
    assert d.size == 222
    second = d.decode(bytes.fromhex("4883640effc1c0bf"))
    assert second[0] == (":status", "307") and d.size == 222
    assert [n for n, _ in d.table] == [":status", "location", "date", "cache-control"]


def test_huffman_padding_and_eos():
    assert _grpc.huffman_decode(b"\x1f") == b"a"  # 00011 + 111
    for bad in (b"\x18",  # 00011 + 000: padding that is not the start of EOS
                b"\x1f\xff",  # 8 + 3 bits of padding
                b"\xff\xff\xff\xfc"):  # EOS itself
        with pytest.raises(ProtocolError):
            _grpc.huffman_decode(bad)


@pytest.mark.parametrize("block", [
    b"\x80",  # index 0
    b"\xc0",  # index 64: beyond an empty dynamic table
    b"\x3f\xe2\x1f",  # a table size above the 4096 we allowed
    b"\x0f",  # an integer cut short
    b"\x00\x85ab",  # a string longer than the block
    b"\x00\x7f\xff\xff\xff\xff\xff",  # an integer of more than 28 bits
])
def test_hpack_hostile_blocks(block):
    with pytest.raises(ProtocolError):
        Decoder().decode(block)


def test_protobuf_round_trip():
    data = (field(1, "id") + field(2, True) + field(3, -1) + field(4, 300) +
            string_map(5, {"k": "v", "a": ""}) + field(6, field(1, "inner")))
    m = Message(data)
    assert (m.str(1), m.int(2), m.int(3), m.int(4)) == ("id", 1, (1 << 64) - 1, 300)
    assert m.string_map(5) == {"k": "v", "a": ""}
    assert m.message(6).str(1) == "inner" and m.message(7).str(1) == ""
    assert varint(300) == b"\xac\x02" and len(varint(-1)) == 10


@pytest.mark.parametrize("data", [
    b"\x08",  # a varint cut short
    b"\x08" + b"\x80" * 10 + b"\x01",  # a varint of more than 64 bits
    b"\x0a\x05abc",  # a length past the end
    b"\x00\x01",  # field number 0
    b"\x0b",  # wire type 3 (a group)
    b"\x09\x01\x02",  # a fixed64 cut short
])
def test_protobuf_malformed(data):
    with pytest.raises(ProtocolError):
        Message(data)


def test_protobuf_wrong_types():
    with pytest.raises(ProtocolError):
        Message(field(1, 5)).str(1)  # a varint where a string belongs
    with pytest.raises(ProtocolError):
        Message(field(1, "x")).int(1)
    with pytest.raises(ProtocolError):
        Message(field(1, b"\xff\xfe")).str(1)  # not UTF-8


ID = "ab" * 32


def _status(info, sid=ID, network=0):
    meta = field(1, "web") + field(2, "uid-1") + field(3, "default")
    options = field(1, network) if network else b""
    linux = field(1, field(2, options))
    status = field(1, sid) + field(2, meta) + field(6, linux)
    return Message(field(1, status) + string_map(2, {"info": info}))


def test_pod_from_a_good_answer():
    info = json.dumps({"pid": 42, "runtimeSpec": {"linux": {"namespaces": [
        {"type": "pid"}, {"type": "network", "path": "/var/run/netns/cni-x"}]}}})
    p = cri.Pod(_status(info))
    assert (p.name, p.uid, p.pid, p.netns_path, p.ready) == ("default/web", "uid-1", 42,
                                                             "/var/run/netns/cni-x", True)
    assert p.entry_name == "default_web"
    node = cri.Pod(_status(json.dumps({"pid": 7}), network=2))
    assert node.network_mode == cri.NODE and node.netns_path == ""


@pytest.mark.parametrize("info", [
    "not json", "[]", json.dumps({"pid": "42"}), json.dumps({"pid": -1}),
    json.dumps({"pid": 1 << 22}), json.dumps({"pid": True}),
    json.dumps({"pid": 1, "runtimeSpec": {"linux": {"namespaces": "network"}}}),
    json.dumps({"pid": 1, "runtimeSpec": {"linux": {"namespaces": [
        {"type": "network", "path": 5}]}}}),
    json.dumps({"pid": 1, "runtimeSpec": {"linux": {"namespaces": [
        {"type": "network", "path": "/a"}, {"type": "network", "path": "/b"}]}}}),
])
def test_pod_from_hostile_info(info):
    with pytest.raises(ProtocolError):
        cri.Pod(_status(info))


def test_pod_with_a_bad_id():
    with pytest.raises(ProtocolError):
        cri.Pod(_status("{}", sid="../../etc"))
