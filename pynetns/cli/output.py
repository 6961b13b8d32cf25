"""Writing what `ip` writes: raw bytes (names need not be UTF-8) and ip's JSON layout.

Like ip's unchecked printf()s, a stdout or stderr that is closed, full or failing loses its
output and nothing else changes: the exit code stays the verb's. Only a closed pipe is
fatal (BrokenPipeError: the caller dies of SIGPIPE, as ip does).
"""
import os
import sys

from .._text import printable  # noqa: F401  (the CLI shows names through output too)


def _bytes(text):
    return text.encode("utf-8", "surrogateescape")


def _write(stream, data, fd, flush=False):
    if stream is None:  # the fd was closed when Python started
        return
    try:
        if data:
            stream.buffer.write(data)
        if flush:
            stream.buffer.flush()
    except BrokenPipeError:
        raise
    except OSError:
        # Later writes, and the flush at exit, go to /dev/null instead of failing again.
        null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        os.dup2(null, fd)
        os.close(null)


def out(text):
    _write(sys.stdout, _bytes(text), 1)


def err(line):
    """One line on stderr, flushed in order with stdout."""
    flush()
    _write(sys.stderr, _bytes(line) + b"\n", 2, flush=True)


def flush():
    _write(sys.stdout, b"", 1, flush=True)


def die_of(name):
    """End as a process killed by signal ``name`` (SIGPIPE for a closed pipe, SIGINT for ^C),
    as ip does: the shell sees 128+N."""
    import _signal  # not `signal`: its enums cost start-up time
    sig = getattr(_signal, name)
    _signal.signal(sig, _signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    os._exit(128 + sig)  # not reached: the signal is delivered at once to this thread


_ESCAPES = {ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r", ord("\f"): "\\f",
            ord("\b"): "\\b", ord("\\"): "\\\\", ord('"'): '\\"'}


def _strict_escapes():
    table = {c: f"\\u{c:04x}" for c in (*range(0x20), *range(0xdc80, 0xdd00))}
    table.update(_ESCAPES)
    return table


# pynetns's own JSON (list -d, prune, attach --all-containers, inventory, which) is valid
# whatever a name holds: every control character escaped, and a byte that is not UTF-8
# (a surrogateescape code point) as the \udcXX escape it decodes back to.
_STRICT = _strict_escapes()


def json_string(value, strict=False):
    """A JSON string the way iproute2's json_writer quotes it: C escapes, bytes as they are;
    ``strict``: valid JSON for any text (see _STRICT)."""
    return '"' + str(value).translate(_STRICT if strict else _ESCAPES) + '"'


def json_value(value, strict=False):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return json_string(value, strict)


class JsonWriter:
    """iproute2's streaming json_writer: same commas, spaces and indentation, byte for byte."""

    def __init__(self, pretty=False, strict=False):
        self.pretty = pretty
        self.strict = strict
        self.depth = 0
        self.sep = ""
        self.parts = []

    def _eol(self):
        if self.pretty:
            self.parts.append("\n" + "    " * self.depth)

    def _eor(self):
        if self.sep:
            self.parts.append(self.sep)
        self.sep = ","

    def _begin(self, c):
        self._eor()
        self.parts.append(c)
        self.depth += 1
        self.sep = ""

    def _end(self, c):
        self.depth -= 1
        if self.sep:
            self._eol()
        self.parts.append(c)
        self.sep = ","

    def start_array(self):
        self._begin("[")
        if self.pretty:
            self.parts.append(" ")

    def end_array(self):
        if self.pretty and self.sep:
            self.parts.append(" ")
        self.sep = ""
        self._end("]")

    def start_object(self):
        self._begin("{")

    def end_object(self):
        self._end("}")

    def name(self, key):
        self._eor()
        self._eol()
        self.sep = ""
        self.parts.append(json_string(key, self.strict) + (": " if self.pretty else ":"))

    def value(self, v):
        self._eor()
        if isinstance(v, dict):
            self.sep = ""
            self.object(v)
        elif isinstance(v, list):
            self.sep = ""
            self.array(v)
        else:
            self.parts.append(json_value(v, self.strict))

    def object(self, mapping):
        self.start_object()
        for k, v in mapping.items():
            self.name(k)
            self.value(v)
        self.end_object()

    def array(self, items):
        self.start_array()
        for item in items:
            self.value(item)
        self.end_array()

    def text(self):
        return "".join(self.parts) + "\n"


def json_array(items, pretty=False, strict=False):
    """A top-level array of objects, as `ip -j [-p]` prints it (with the final newline);
    ``strict`` for pynetns's own outputs, which have no ip output to match."""
    w = JsonWriter(pretty, strict)
    w.array(items)
    return w.text()


def table(lines):
    """Columns padded to a common width, two spaces apart, no trailing blanks. The last
    column is not padded: it may be one row's thousands of characters (a host's veths)."""
    widths = [max(len(cols[i]) for cols in lines) for i in range(len(lines[0]) - 1)] \
        if lines else []
    return "".join("  ".join([col.ljust(w) for col, w in zip(cols, widths)] + cols[-1:])
                   .rstrip() + "\n" for cols in lines)
