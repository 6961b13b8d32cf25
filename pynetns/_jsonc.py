"""json.loads and json.dumps (default settings) through the interpreter's C accelerator,
_json, without importing the json package: that pulls in re and enum (~8 ms), more than
the engine request whose answer it decodes or the record it writes. The results are the
json package's; where _json is missing or differs, that package is used instead.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing itself costs more to import than all the rest
    from typing import Any

_BLANK = " \t\n\r"  # JSON's whitespace


class _Options:
    """What _json.make_scanner reads of a json.JSONDecoder: its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"),
                      "NaN": float("nan")}.__getitem__


def _unserializable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_scan: Any = None
_encode: Any = None
_quote: Any = None
try:
    import _json
    # The stub types make_scanner's argument as a JSONDecoder: it reads only these fields.
    _scan = _json.make_scanner(_Options())  # type: ignore[arg-type]
    # As json.JSONEncoder builds it for dumps() without arguments (check_circular: markers).
    _encode = _json.make_encoder({}, _unserializable, _json.encode_basestring_ascii, None,
                                 ": ", ", ", False, False, True)
    _quote = _json.encode_basestring_ascii
except (ImportError, AttributeError, TypeError):  # none, or one of another signature
    pass


def loads(data):
    """json.loads(data) for str or UTF-8 bytes (decoded as json.loads does, lone
    surrogates passed); ValueError if it is not JSON, or nested too deeply to decode."""
    try:
        return _loads(data)
    except RecursionError:  # a hostile answer's [[[[…: as malformed as any other
        raise ValueError("nested too deeply") from None


def _loads(data):
    if _scan is None:
        import json
        return json.loads(data)
    text = data.decode("utf-8", "surrogatepass") if isinstance(data, (bytes, bytearray)) else data
    start = len(text) - len(text.lstrip(_BLANK))
    try:
        value, end = _scan(text, start)
    except StopIteration as e:
        raise ValueError(f"Expecting value: char {e.value}") from None
    if text[end:].strip(_BLANK):
        raise ValueError(f"Extra data: char {end}")
    return value


def dumps(value):
    """json.dumps(value)."""
    if _encode is None:
        import json
        return json.dumps(value)
    if isinstance(value, str):
        return _quote(value)
    return "".join(_encode(value, 0))
