"""output.JsonWriter against iproute2's json_writer: whatever ip prints with -j / -j -p, the
writer must print byte for byte from the same data (key order, commas, spaces, indentation,
empty arrays, escapes, raw non-ASCII bytes)."""
import json
import shlex
import subprocess

import pytest

from conftest import IP, in_private_run_dir
from pynetns.cli import output


def render(data, pretty):
    w = output.JsonWriter(pretty)
    w.value(data)
    return w.text().encode("utf-8", "surrogateescape")


def parse(raw):
    # ip writes names as raw bytes and only escapes \t \n \r \f \b \\ and ".
    return json.loads(raw.decode("utf-8", "surrogateescape"), strict=False)


def ip_in_new_netns(*args):
    r = subprocess.run(["unshare", "-n", "sh", "-c", f'{IP} link set lo up && "$@"', "sh",
                        IP, *args], capture_output=True, timeout=30)
    assert r.returncode == 0, r
    return r.stdout


@pytest.mark.root  # runs the real ip in a namespace of its own
@pytest.mark.parametrize("args", [
    ["addr", "show", "lo"], ["-s", "-s", "-d", "link", "show", "lo"],
    ["route", "show", "table", "local"], ["-6", "route", "show", "table", "local"],
    ["netconf", "show", "dev", "lo"],
])
@pytest.mark.parametrize("pretty", [False, True], ids=["plain", "pretty"])
def test_writer_reproduces_ip_output(args, pretty):
    raw = ip_in_new_netns("-j", *(["-p"] if pretty else []), *args)
    assert render(parse(raw), pretty) == raw


NAMES = ["plain", "tab\there", 'quo"te', "back\\slash", "nl\nx", "cr\rx", "ff\fx", "bs\bx",
         "ctl\x01x", "utf8-é", "bad-\udcff", "sp ace", "uni-\u2603"]


@pytest.mark.root  # runs the real ip in a namespace of its own
@pytest.mark.parametrize("pretty", [False, True], ids=["plain", "pretty"])
def test_netns_list_json_with_awkward_names(pretty):
    # A str argv reaches bash as bytes again (surrogateescape), \udcff as a raw 0xff.
    script = "".join(f"$IP netns add {shlex.quote(n)}\n" for n in NAMES)
    script += f"$IP netns set plain 3\n$IP -j {'-p' if pretty else ''} netns list\n"
    r = in_private_run_dir(script, net=True)
    assert r.rc == 0, r
    items = parse(r.out)
    assert sorted(i["name"] for i in items) == sorted(NAMES)
    assert render(items, pretty) == r.out
    assert output.json_array(items, pretty).encode("utf-8", "surrogateescape") == r.out


@pytest.mark.parametrize("pretty, text", [(False, "[]\n"), (True, "[ ]\n")])
def test_empty_array(pretty, text):
    assert output.json_array([], pretty) == text


def test_scalars():
    assert [output.json_value(v) for v in (True, False, None, 0, -7, "x")] == [
        "true", "false", "null", "0", "-7", '"x"']
    assert output.json_string("a\"b\\c\td\ne\rf\fg\bh\x01é") == \
        '"a\\"b\\\\c\\td\\ne\\rf\\fg\\bh\x01é"'


def test_strict_strings_are_valid_json_for_any_name():
    """pynetns's own JSON: every control character and every non-UTF-8 byte of a name comes
    back from a JSON parser as it was (ip's quoting, kept for -j list, leaves them raw)."""
    import json
    names = [chr(c) for c in range(0x20)] + ["\x7f", "\x1b[31mred", "bad-\udcff\udc80",
                                              'q"b\\s', "uni-\u2603"]
    for name in names:
        text = output.json_string(name, strict=True)
        raw = text.encode("utf-8", "surrogateescape")
        assert raw.decode("utf-8") == text  # valid UTF-8 on the wire
        assert json.loads(text) == name
    assert output.json_array([{"name": "a\x01"}], strict=True) == '[{"name":"a\\u0001"}]\n'
    assert output.json_string("a\x01") == '"a\x01"'  # ip's way, unchanged
