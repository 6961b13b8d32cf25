"""Integers as iproute2 reads them (strtol with base 0 into a 32-bit int)."""

_DIGITS = {16: frozenset("0123456789abcdefABCDEF"), 8: frozenset("01234567"),
           10: frozenset("0123456789")}


def _strtol(text):
    """strtol/strtoul(text, 0) over the whole string as a Python int, or None."""
    s = text.lstrip(" \t\n\r\f\v")
    sign = -1 if s[:1] == "-" else 1
    if s[:1] in ("+", "-"):
        s = s[1:]
    if s[:2] in ("0x", "0X") and len(s) > 2:
        base, digits = 16, s[2:]
    elif s[:1] == "0":
        base, digits = 8, s
    else:
        base, digits = 10, s
    if not digits or not _DIGITS[base].issuperset(digits):
        return None
    return sign * int(digits, base)


def parse_c_int(text):
    """Return the int strtol(text, 0) gives, or None where get_s32/get_integer would fail.

    Leading whitespace and a sign are allowed, '0x' means hex and a leading '0' octal;
    trailing characters, an empty string and values outside 32 bits are rejected.
    """
    value = _strtol(text)
    return value if value is not None and -2**31 <= value < 2**31 else None


def parse_c_unsigned(text):
    """get_unsigned(): as parse_c_int, but 0..2**32-1; strtoul wraps '-N' past that range."""
    value = _strtol(text)
    if value is None or abs(value) >= 2**64:  # ERANGE
        return None
    value %= 2**64  # strtoul negates '-N' in unsigned long
    return value if value < 2**32 else None
