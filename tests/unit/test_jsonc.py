"""_jsonc (json through the C accelerator, without the json package) against json itself."""
import json
import math

from hypothesis import given
from hypothesis import strategies as st

from pynetns import _jsonc

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner)
                      | st.dictionaries(st.text(), inner), max_leaves=20)


def _same(a, b):
    """Equal, NaN included (NaN != NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(values)
def test_dumps_is_json_dumps(value):
    assert _jsonc.dumps(value) == json.dumps(value)


@given(values, st.sampled_from(["", " ", "\n\t ", "\r\n"]))
def test_loads_is_json_loads(value, blank):
    text = blank + json.dumps(value) + blank
    assert _same(_jsonc.loads(text), json.loads(text))
    assert _same(_jsonc.loads(text.encode()), json.loads(text.encode()))


def test_what_is_not_json_is_a_value_error():
    for bad in (b"", b"  ", b"{", b"[1] x", b"\xff", b"{'a': 1}", b"nul", b"[1,]"):
        for loads in (json.loads, _jsonc.loads):
            try:
                loads(bad)
            except ValueError:
                continue
            raise AssertionError(f"{loads.__module__}.loads({bad!r}) raised nothing")


def test_the_json_package_is_not_imported():
    import subprocess
    import sys
    code = ("import sys\nfrom pynetns import _jsonc\n_jsonc.loads(_jsonc.dumps({'a': [1]}))\n"
            "print(sorted(m for m in ('json', 're', 'enum') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
