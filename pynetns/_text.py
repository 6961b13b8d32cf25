"""Text that is safe to show: what pynetns's own messages and outputs do with names,
symlink targets and engine strings, which can hold anything."""


def _escape_table():
    table = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0))}
    # Bytes that are not UTF-8 arrive as surrogateescape code points: shown as the byte.
    table.update({0xdc00 + b: f"\\x{b:02x}" for b in range(0x80, 0x100)})
    table[ord("\\")] = "\\\\"
    return table


_PRINTABLE = _escape_table()


def printable(text):
    """``text`` safe for a terminal or a line-based reader: control characters (C0, DEL,
    C1) and bytes that are not UTF-8 as \\xHH, backslash doubled, so a name can neither
    forge a line nor send escape sequences. For pynetns's own text outputs only: what ip
    prints stays byte for byte."""
    return str(text).translate(_PRINTABLE)


_CONTROL = frozenset(chr(c) for c in _PRINTABLE if c != ord("\\"))


def has_control(text):
    """Whether printable() would have to escape more than backslashes in ``text``."""
    return not _CONTROL.isdisjoint(text)
