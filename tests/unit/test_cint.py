"""_cint against libc itself: parse_c_int must accept exactly what iproute2's get_integer()
(strtol, base 0, whole string, 32 bits) accepts, and parse_c_unsigned what get_unsigned()
(strtoul) accepts."""
import ctypes

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pynetns._cint import parse_c_int, parse_c_unsigned

libc = ctypes.CDLL(None, use_errno=True)
libc.strtol.restype = ctypes.c_long
libc.strtol.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]
libc.strtoul.restype = ctypes.c_ulong
libc.strtoul.argtypes = libc.strtol.argtypes
ERANGE = 34
LONG_MAX, LONG_MIN, ULONG_MAX = 2**63 - 1, -2**63, 2**64 - 1


def _strto(func, text):
    raw = text.encode()
    buf = ctypes.create_string_buffer(raw)
    end = ctypes.c_char_p()
    ctypes.set_errno(0)
    value = func(buf, ctypes.byref(end), 0)
    errno = ctypes.get_errno()
    consumed = ctypes.cast(end, ctypes.c_void_p).value - ctypes.addressof(buf)
    return value, consumed, errno, len(raw)


def get_integer(text):
    """iproute2's get_integer() over libc's strtol."""
    if not text:
        return None
    value, consumed, errno, size = _strto(libc.strtol, text)
    if consumed == 0 or consumed != size:
        return None
    if value in (LONG_MAX, LONG_MIN) and errno == ERANGE:
        return None
    return value if -2**31 <= value < 2**31 else None


def get_unsigned(text):
    """iproute2's get_unsigned() over libc's strtoul."""
    if not text:
        return None
    value, consumed, errno, size = _strto(libc.strtoul, text)
    if consumed == 0 or consumed != size:
        return None
    if value == ULONG_MAX and errno == ERANGE:
        return None
    return value if value < 2**32 else None


SAMPLES = ["0", "7", "-7", "+7", " 7", "\t\n7", "7 ", "07", "08", "0x", "0x10", "0X1f", "-0x10",
           "0x-1", "- 5", "+-5", "", " ", "+", "-", "abc", "1e3", "2147483647", "2147483648",
           "-2147483648", "-2147483649", "0x7fffffff", "0x80000000", "4294967295",
           "4294967296", "-1", "-0", "0000000000000000000012", "99999999999999999999999",
           "0x0", "00", "0b1", "1_000", "\u0663", "\uff11", "\v7", "\f7", "\r7", "7\n",
           "-18446744073709551615", "-18446744073709551616", "-18446744069414584320",
           "18446744073709551615", "-0x" + "f" * 16, "-4294967295", "-4294967296"]


@pytest.mark.parametrize("text", SAMPLES)
def test_parse_c_int_samples(text):
    assert parse_c_int(text) == get_integer(text)


@pytest.mark.parametrize("text", SAMPLES)
def test_parse_c_unsigned_samples(text):
    assert parse_c_unsigned(text) == get_unsigned(text)


numberish = st.text(alphabet=" \t\n+-0123456789abcdefxX8_g", max_size=14)


@settings(max_examples=400, deadline=None)
@given(numberish)
@example("0x")
def test_parse_c_int_is_strtol(text):
    assert parse_c_int(text) == get_integer(text)


@settings(max_examples=400, deadline=None)
@given(numberish)
def test_parse_c_unsigned_is_strtoul(text):
    assert parse_c_unsigned(text) == get_unsigned(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-2**40, max_value=2**40), st.sampled_from(["{}", "{:#x}", "0{:o}"]))
def test_round_trip_of_formatted_numbers(number, fmt):
    text = fmt.format(abs(number))
    text = ("-" + text) if number < 0 else text
    assert parse_c_int(text) == get_integer(text)
    assert parse_c_unsigned(text) == get_unsigned(text)
