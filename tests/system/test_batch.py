"""`-batch FILE` and `-batch -`: ip's line reader (comments, blank lines, quoting, continuation
lines), `Command failed FILE:LINE`, -force, and what each line does, compared with `ip -batch`.
"""
import pytest

from conftest import IP, PYNETNS
from netns_diff import private

BASE = "$IP netns add a\n$IP netns add b\n"


def batch_both(text, globals=("-batch", "-"), setup=BASE):
    """(ip, pynetns) runs of the same batch input, each on its own private /run/netns."""
    data = text.encode() if isinstance(text, str) else text
    after = "$IP netns list"
    ip = private([[IP, *globals]], setup, data, after)[0]
    py = private([[PYNETNS, *globals]], setup, data, after)[0]
    return ip, py


def assert_same_batch(text, globals=("-batch", "-"), setup=BASE):
    ip, py = batch_both(text, globals, setup)
    assert py.triple() == ip.triple(), f"{text!r}: ip {ip!r} vs pynetns {py!r}"
    assert py.state() == ip.state() and py.extra == ip.extra
    return py


CASES = {
    "ok": "netns add c\nnetns add d\n",
    "stops at first failure": "netns add c\nnetns add a\nnetns add d\n",
    "comments and blanks": "# a comment\n\n   \n\t\nnetns add c # trailing\n  netns   add\td  \n",
    "hash inside a word": "netns add c#d\n",
    "quoting": "netns add 'c d'\nnetns add \"e f\"\nnetns add 'g\"h'\n",
    "quotes inside words": "netns add a'b'c\nnetns add \"x\"y\n",
    "empty quoted word": "netns add ''\n",
    "unterminated quote": "netns add c\nnetns add 'c d\nnetns add e\n",
    "continuation": "netns add \\\nc\nnetns add a\n",
    "continuation counts lines": "netns \\\nadd \\\nc\nnetns add a\n",
    "continuation then comment": "netns add c \\\n# nothing\nnetns add d\n",
    "backslash in a comment": "netns add c #\\\nnetns add d\n",
    "lone backslash line": "netns add c\n\\\nnetns add d\n",
    "missing continuation": "netns add c\\\n",
    "missing continuation after failure": "netns add a\nnetns add c \\\n",
    "no final newline": "netns add c",
    "no final newline, backslash": "netns add c \\",
    "crlf": "netns add c\r\nnetns add d\r\n",
    "nul ends the line": "netns add c\0d\nnetns add e\n",
    "nul before backslash": "netns add c\0d\\\nnetns add e\n",
    "non-utf8 name": b"netns add \xff\xfe\n",
    "too many arguments": "netns add c" + " x" * 600 + "\n",
    "object prefixes": "net add c\nnetn add d\nnetns add e\n",
    "list": "netns list\nnetns add c\nnetns list\nnetns\n",
    "exec output order": ("netns exec a echo one\nnetns list\n"
                          "netns exec b sh -c 'echo two; echo err >&2'\n"),
    "exec status": "netns exec a sh -c 'exit 3'\nnetns add c\n",
    "exec killed": "netns exec a sh -c 'kill -9 $$'\nnetns add c\n",
    "exec of missing command": "netns exec a nosuchcommand\nnetns add c\n",
    "help exits": "netns help\nnetns add c\n",
    "unknown verb exits": "netns foo\nnetns add c\n",
    "invalid name exits": "netns add ..\nnetns add c\n",
    "bad nsid exits": "netns set a abc\nnetns add c\n",
    "set and list-id": "netns set a 5\nnetns list-id\nnetns set a 6\nnetns add c\n",
    "delete missing": "netns delete nope\nnetns add c\n",
    "identify and pids": "netns identify\nnetns pids a\nnetns pids nope\n",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_batch_stdin(text):
    assert_same_batch(text)


FORCE = ["stops at first failure", "delete missing", "unterminated quote", "invalid name exits",
         "missing continuation after failure", "exec status", "exec killed", "bad nsid exits"]


@pytest.mark.parametrize("key", FORCE)
def test_batch_force(key):
    assert_same_batch(CASES[key], ("-force", "-batch", "-"))


@pytest.mark.parametrize("globals", [("-batch", "-", "-force"), ("-fo", "-b", "-"),
                                     ("--force", "--batch", "-")])
def test_batch_force_spellings(globals):
    py = assert_same_batch(CASES["stops at first failure"], globals)
    assert py.rc == 1 and py.entries == ["d", "c", "b", "a"]


def test_batch_file(tmp_path):
    path = tmp_path / "commands"
    path.write_text("netns add c\n\nnetns add a\nnetns add d\n")
    py = assert_same_batch("", ("-batch", str(path)))
    assert py.err == (b'Cannot create namespace file "/run/netns/a": File exists\n'
                      b"Command failed " + str(path).encode() + b":3\n")


@pytest.mark.parametrize("globals", [("-b",), ("-ba",), ("-bat",), ("-batch",), ("--batch",)])
def test_batch_option_prefixes(tmp_path, globals):
    path = tmp_path / "commands"
    path.write_text("netns add c\n")
    assert assert_same_batch("", (*globals, str(path))).entries == ["c", "b", "a"]


def test_batch_missing_file():
    py = assert_same_batch("", ("-batch", "/nonexistent/pynetns-batch"))
    assert py.triple() == (1, b"", b'Cannot open file "/nonexistent/pynetns-batch" for reading: '
                                   b"No such file or directory\n")


def test_batch_with_all():
    assert_same_batch("netns exec echo hi\nnetns delete\n", ("-all", "-batch", "-"))


@pytest.mark.parametrize("globals", [("-batch", "-"), ("-j", "-force", "-batch", "-")])
def test_batch_list_id_ignores_the_target(globals):
    # ip's batch socket has no strict checking, so the kernel drops the target-nsid filter
    # of a dump (and its errors): the plain list-id rows come out.
    setup = BASE + "$IP netns set a 3\n$IP netns set b 4\n$IP -n b netns set a 5\n"
    text = "netns list-id target-nsid 4\nnetns list-id target-nsid 99\nnetns list-id\n"
    py = assert_same_batch(text, globals, setup)
    third = len(py.out) // 3
    assert py.rc == 0 and py.out == py.out[:third] * 3 and b"b" in py.out[:third]


def test_exec_setup_failure_stops_the_child():
    # ip 6.1's child went on with the rest of the batch (two "Command failed" lines, c added
    # twice); fixed in iproute2 6.9, which pynetns follows.
    ip, py = batch_both("netns exec nope true\nnetns add c\n")
    assert py.triple() == (1, b"", b'Cannot open network namespace "nope": No such file or '
                                   b"directory\nCommand failed -:1\n")
    assert py.entries == ip.entries == ["b", "a"]


def test_plain_verb_lines_are_pynetns_only():
    text = "add c\nlist\nnetns add d\n"
    ip, py = batch_both(text)
    assert ip.rc == 1 and b"Command failed -:1" in ip.err and ip.entries == ["b", "a"]
    assert py.triple() == (0, b"c\nb\na\n", b"")
    assert py.entries == ["d", "c", "b", "a"]
