"""A minimal gRPC client: unary calls over HTTP/2 cleartext on a unix socket, with the
protobuf wire format and HPACK decoding they need.

The CRI lookups of pod: are two unary calls. grpcio costs ~80 ms and 30 MiB to import, the
h2 package ~40 ms (measured; see README); this stdlib-only client costs a few milliseconds.
What it does (RFC 9113, RFC 7541, gRPC's PROTOCOL-HTTP2.md): the connection preface with
prior knowledge, our SETTINGS (no push, a stream window as large as the answer cap) and a
connection WINDOW_UPDATE to match, so that no answer waits for a window (the connection's
is given back after each call); one HEADERS frame of literal fields, one DATA frame with the 5-byte
gRPC prefix; then frames are read until the stream ends, answering PING and SETTINGS.
Every header block the server sends is decoded (static and dynamic tables, Huffman), as
HPACK requires of a decoder even for fields it does not want. Library code: it raises
GrpcError (the call failed: its status and message) or ProtocolError (the peer does not
speak the protocol), never prints.
"""
import struct

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20
MAX_FRAME = 1 << 14  # SETTINGS_MAX_FRAME_SIZE: we never announce a larger one
TABLE_SIZE = 4096  # SETTINGS_HEADER_TABLE_SIZE: we never announce another
STATUS_NAMES = {0: "OK", 1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT",
                4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND", 6: "ALREADY_EXISTS",
                7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION",
                10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL",
                14: "UNAVAILABLE", 15: "DATA_LOSS", 16: "UNAUTHENTICATED"}


class ProtocolError(ValueError):
    """The peer's bytes are not HTTP/2, HPACK, gRPC or protobuf as they must be."""


class GrpcError(Exception):
    """The call ended with a gRPC status other than OK."""

    def __init__(self, status, message):
        super().__init__(f"{STATUS_NAMES.get(status, status)}: {message}")
        self.status = status
        self.message = message


# --- protobuf (the wire format only: callers know their field numbers) --------------------

def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1  # negative int64/int32 are ten bytes, as protobuf writes them
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, value):
    """One field: an int or bool as a varint, str/bytes as length-delimited (an embedded
    message is its encoded bytes). Zero values are written too: callers leave them out."""
    if isinstance(value, (bool, int)):
        return varint(number << 3) + varint(int(value))
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def string_map(number, mapping):
    """A map<string, string> field: one entry message {key = 1, value = 2} a pair."""
    return b"".join(field(number, field(1, k) + field(2, v)) for k, v in mapping.items())


def _read_varint(data, pos):
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ProtocolError("a protobuf varint is truncated or too long")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def parse(data):
    """A message's fields: {number: [values]}, each an int (varint, fixed32, fixed64) or
    bytes (length-delimited: a string, bytes or an embedded message, as the schema says)."""
    fields: dict[int, list[int | bytes]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtocolError("a protobuf field has number 0")
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 2:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise ProtocolError("a protobuf field is longer than its message")
            value, pos = bytes(data[pos:pos + size]), pos + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > len(data):
                raise ProtocolError("a protobuf field is longer than its message")
            value, pos = int.from_bytes(data[pos:pos + size], "little"), pos + size
        else:  # 3 and 4 (groups) are deprecated and unused by CRI; 6 and 7 do not exist
            raise ProtocolError(f"protobuf wire type {wire} is not supported")
        fields.setdefault(number, []).append(value)
    return fields


class Message:
    """A parsed message with typed accessors: the last value of a field wins (protobuf's
    rule for a repeated non-repeated field), a value of the wrong wire type is an error."""

    __slots__ = ("fields",)

    def __init__(self, data):
        self.fields = parse(data)

    def _last(self, number, kind):
        values = self.fields.get(number)
        if not values:
            return None
        if not isinstance(values[-1], kind):
            raise ProtocolError(f"protobuf field {number} has the wrong wire type")
        return values[-1]

    def int(self, number):
        value = self._last(number, int)
        return 0 if value is None else value

    def str(self, number):
        value = self._last(number, bytes)
        try:
            return "" if value is None else value.decode()
        except UnicodeDecodeError:
            raise ProtocolError(f"protobuf field {number} is not UTF-8") from None

    def message(self, number):
        """The embedded message (an empty one when absent, as protobuf reads it)."""
        return Message(self._last(number, bytes) or b"")

    def has(self, number):
        return bool(self.fields.get(number))

    def messages(self, number):
        values = self.fields.get(number, [])
        if not all(isinstance(v, bytes) for v in values):
            raise ProtocolError(f"protobuf field {number} has the wrong wire type")
        return [Message(v) for v in values]

    def string_map(self, number):
        return {m.str(1): m.str(2) for m in self.messages(number)}


# --- HPACK (RFC 7541) --------------------------------------------------------------------

STATIC = [(":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
          (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"),
          (":status", "200"), (":status", "204"), (":status", "206"), (":status", "304"),
          (":status", "400"), (":status", "404"), (":status", "500")] + [
    (name, "gzip, deflate" if name == "accept-encoding" else "") for name in (
        "accept-charset accept-encoding accept-language accept-ranges accept "
        "access-control-allow-origin age allow authorization cache-control "
        "content-disposition content-encoding content-language content-length "
        "content-location content-range content-type cookie date etag expect expires from "
        "host if-match if-modified-since if-none-match if-range if-unmodified-since "
        "last-modified link location max-forwards proxy-authenticate proxy-authorization "
        "range referer refresh retry-after server set-cookie strict-transport-security "
        "transfer-encoding user-agent vary via www-authenticate").split()]

# The Huffman code of Appendix B is canonical: codes of one length are consecutive, in
# symbol order, and each length's first code follows the previous length's last. So the
# code length of each symbol (0-255, then EOS) defines it; here as a letter a symbol,
# 'A' for 5 bits to 'Z' for 30.
_LENGTHS = ("ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCC"
            "CCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPR"
            "RSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWW"
            "WWWXWWWWWVZ")
EOS = 256
_decode_table = None


def _huffman_table():
    """(code length, code) → symbol, built on first use."""
    global _decode_table
    if _decode_table is None:
        table, code, prev = {}, 0, None
        for length, symbol in sorted((ord(c) - ord("A") + 5, s)
                                     for s, c in enumerate(_LENGTHS)):
            if prev is not None:
                code = (code + 1) << (length - prev)
            table[length, code] = symbol
            prev = length
        _decode_table = table
    return _decode_table


def huffman_decode(data):
    table = _huffman_table()
    out = bytearray()
    code = length = 0
    for byte in data:
        for shift in range(7, -1, -1):
            code = code << 1 | (byte >> shift) & 1
            length += 1
            symbol = table.get((length, code))
            if symbol is not None:
                if symbol == EOS:
                    raise ProtocolError("HPACK: EOS inside a Huffman string")
                out.append(symbol)
                code = length = 0
            elif length > 30:
                raise ProtocolError("HPACK: not a Huffman code")
    # Padding: fewer than 8 bits, all ones (the start of EOS); RFC 7541 5.2.
    if length > 7 or code != (1 << length) - 1:
        raise ProtocolError("HPACK: bad Huffman padding")
    return bytes(out)


def hpack_int(value, prefix, first=0):
    """An integer on a ``prefix``-bit prefix (RFC 7541 5.1), ``first`` its other bits."""
    limit = (1 << prefix) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def literal(name, value):
    """A literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    name, value = name.encode(), value.encode()
    return b"\0" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


class Decoder:
    """One connection's HPACK decoding state: the dynamic table lives across blocks."""

    def __init__(self):
        self.table = []  # newest first
        self.size = 0
        self.max_size = TABLE_SIZE

    def _int(self, data, pos, prefix):
        if pos >= len(data):
            raise ProtocolError("HPACK: truncated header block")
        value = data[pos] & ((1 << prefix) - 1)
        pos += 1
        if value < (1 << prefix) - 1:
            return value, pos
        shift = 0
        while True:
            if pos >= len(data) or shift > 28:
                raise ProtocolError("HPACK: truncated or oversized integer")
            byte = data[pos]
            pos += 1
            value += (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, pos

    def _str(self, data, pos):
        if pos >= len(data):
            raise ProtocolError("HPACK: truncated header block")
        huffman = data[pos] & 0x80
        size, pos = self._int(data, pos, 7)
        if pos + size > len(data):
            raise ProtocolError("HPACK: a string is longer than its block")
        raw = bytes(data[pos:pos + size])
        text = huffman_decode(raw) if huffman else raw
        return text.decode("latin-1"), pos + size

    def _entry(self, index):
        if index == 0:
            raise ProtocolError("HPACK: index 0")
        if index <= len(STATIC):
            return STATIC[index - 1]
        if index - len(STATIC) <= len(self.table):
            return self.table[index - len(STATIC) - 1]
        raise ProtocolError(f"HPACK: index {index} is beyond the tables")

    def _evict(self):
        while self.size > self.max_size:
            name, value = self.table.pop()
            self.size -= len(name) + len(value) + 32

    def decode(self, data):
        """The (name, value) fields of one complete header block."""
        fields, pos = [], 0
        while pos < len(data):
            byte = data[pos]
            if byte & 0x80:  # indexed field
                index, pos = self._int(data, pos, 7)
                fields.append(self._entry(index))
                continue
            if byte & 0xE0 == 0x20:  # dynamic table size update
                size, pos = self._int(data, pos, 5)
                if size > TABLE_SIZE:
                    raise ProtocolError("HPACK: table size above the one we allowed")
                self.max_size = size
                self._evict()
                continue
            indexing = byte & 0xC0 == 0x40
            index, pos = self._int(data, pos, 6 if indexing else 4)
            if index:
                name = self._entry(index)[0]
            else:
                name, pos = self._str(data, pos)
            value, pos = self._str(data, pos)
            fields.append((name, value))
            if indexing:
                self.table.insert(0, (name, value))
                self.size += len(name) + len(value) + 32
                self._evict()
        return fields


# --- HTTP/2 and the gRPC call ------------------------------------------------------------

def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def _unpercent(text):
    """grpc-message is percent-encoded UTF-8 (PROTOCOL-HTTP2.md)."""
    data, raw, i = text.encode("latin-1"), bytearray(), 0
    while i < len(data):
        digits = data[i + 1:i + 3]
        if data[i] == 0x25 and len(digits) == 2 and all(c in _HEX_DIGITS for c in digits):
            raw.append(int(digits, 16))
            i += 3
        else:
            raw.append(data[i])
            i += 1
    return raw.decode(errors="replace")


_HEX_DIGITS = b"0123456789abcdefABCDEF"


class Connection:
    """One unix-socket connection for unary calls, one after the other. ``left(what)``
    gives the seconds left of the caller's deadline (raising when none are); ``cap`` bounds
    the bytes read for one answer."""

    def __init__(self, path, left, cap):
        import _socket
        self.left, self.cap = left, cap
        self.hpack = Decoder()
        self.next_stream = 1
        self.buffer = bytearray()
        self.greeted = False  # the server's preface is a SETTINGS frame
        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            self.sock.settimeout(left("connect"))
            self.sock.connect(path)
            settings = struct.pack(">HI", 2, 0) + struct.pack(">HI", 4, min(cap, 2**31 - 1))
            self._send(PREFACE + frame(SETTINGS, 0, 0, settings) +
                       frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", min(cap, 2**31 - 1))))
        except BaseException:
            self.sock.close()
            raise

    def close(self):
        self.sock.close()

    def _send(self, data):
        self.sock.settimeout(self.left("send"))
        self.sock.sendall(data)

    def _read(self, size):
        while len(self.buffer) < size:
            self.sock.settimeout(self.left("read"))
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ProtocolError("the server closed the connection mid-answer")
            self.read_total += len(chunk)
            if self.read_total > self.cap:
                raise ProtocolError(f"the answer is larger than {self.cap >> 20} MiB")
            self.buffer += chunk
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _frame(self):
        head = self._read(9)
        size = int.from_bytes(head[:3], "big")
        kind, flags = head[3], head[4]
        if not self.greeted and kind != SETTINGS:
            raise ProtocolError("not an HTTP/2 server (it did not start with SETTINGS)")
        self.greeted = True
        if size > MAX_FRAME:
            raise ProtocolError(f"HTTP/2: a frame of {size} bytes, above the "
                                f"{MAX_FRAME} allowed")
        stream = int.from_bytes(head[5:], "big") & 0x7FFFFFFF
        return kind, flags, stream, self._read(size)

    @staticmethod
    def _unpad(flags, payload, priority=False):
        if flags & PADDED:
            if not payload or payload[0] >= len(payload):
                raise ProtocolError("HTTP/2: bad padding")
            payload = payload[1:len(payload) - payload[0]]
        if priority:
            payload = payload[5:]
        return payload

    def call(self, method, request):
        """The answer of unary ``method`` ('/package.Service/Method') to the encoded
        ``request``; GrpcError for a status other than OK."""
        stream = self.next_stream
        self.next_stream += 2
        self.read_total = 0
        block = b"".join(literal(n, v) for n, v in (
            (":method", "POST"), (":scheme", "http"), (":path", method),
            (":authority", "localhost"), ("content-type", "application/grpc"),
            ("te", "trailers")))
        body = b"\0" + struct.pack(">I", len(request)) + request
        self._send(frame(HEADERS, END_HEADERS, stream, block) +
                   frame(DATA, END_STREAM, stream, body))
        blocks, data, pending, received = [], bytearray(), None, 0
        while True:
            kind, flags, sid, payload = self._frame()
            if kind == SETTINGS:
                if not flags & ACK:
                    if len(payload) % 6:
                        raise ProtocolError("HTTP/2: malformed SETTINGS")
                    self._send(frame(SETTINGS, ACK, 0))
            elif kind == PING:
                if not flags & ACK:
                    self._send(frame(PING, ACK, 0, payload[:8]))
            elif kind == GOAWAY:
                code = int.from_bytes(payload[4:8], "big") if len(payload) >= 8 else -1
                raise ProtocolError(f"HTTP/2: the server went away (error code {code}): "
                                    + payload[8:200].decode(errors="replace"))
            elif kind in (WINDOW_UPDATE, PRIORITY) or sid != stream:
                pass  # the server's window is not ours to track; other streams
            elif kind == RST_STREAM:
                code = int.from_bytes(payload[:4], "big") if len(payload) >= 4 else -1
                raise ProtocolError(f"HTTP/2: the server reset the stream (error code {code})")
            elif kind in (HEADERS, CONTINUATION):
                if (kind == CONTINUATION) != (pending is not None):
                    raise ProtocolError("HTTP/2: CONTINUATION out of place")
                if kind == HEADERS:
                    pending = [self._unpad(flags, payload, bool(flags & PRIORITY_FLAG)),
                               flags & END_STREAM]
                else:
                    assert pending is not None  # a CONTINUATION: checked above
                    pending[0] += payload
                if flags & END_HEADERS:
                    blocks.append(dict(self.hpack.decode(pending[0])))
                    if pending[1]:
                        return self._finish(blocks, bytes(data))
                    pending = None
            elif kind == DATA:
                if pending is not None:
                    raise ProtocolError("HTTP/2: DATA inside a header block")
                data += self._unpad(flags, payload)
                received += len(payload)
                if flags & END_STREAM:
                    if received:  # the connection's window back, for the next call
                        self._send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", received)))
                    return self._finish(blocks, bytes(data))
            elif kind == PUSH_PROMISE:
                raise ProtocolError("HTTP/2: PUSH_PROMISE after we disabled push")
            elif pending is not None:
                raise ProtocolError("HTTP/2: a frame inside a header block")

    @staticmethod
    def _finish(blocks, data):
        if not blocks:
            raise ProtocolError("HTTP/2: an answer without headers")
        status = blocks[0].get(":status")
        if status != "200":
            raise ProtocolError(f"HTTP status {status or 'missing'}, not 200")
        trailers = blocks[-1]
        code = trailers.get("grpc-status")
        if code is None or not code.isdigit():
            raise ProtocolError("gRPC: no grpc-status in the trailers")
        if int(code) != 0:
            raise GrpcError(int(code), _unpercent(trailers.get("grpc-message", "")))
        if len(data) < 5:
            raise ProtocolError("gRPC: no answer message")
        if data[0] != 0:
            raise ProtocolError("gRPC: a compressed answer (none was asked for)")
        size = int.from_bytes(data[1:5], "big")
        if size != len(data) - 5:
            raise ProtocolError("gRPC: the answer's length prefix does not match its data")
        return data[5:]
