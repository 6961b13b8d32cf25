"""The click path (PYNETNS_CLICK=1, also what --help goes through) and the fast path read the
same grammar: for good and bad command lines alike they must give identical rc, stdout,
stderr and leave identical state. And --help documents every verb and option.
"""
import pytest

from conftest import pynetns
from netns_diff import Raw, private

from pynetns import grammar

BASE = "$IP netns add a\n$IP netns add b\n$IP netns set b 7\n"
ARGVS = [
    [], ["list"], ["l"], ["show"], ["lst"], ["list", "extra"], ["list", ".."],
    ["-j", "list"], ["-j", "-p", "list"], ["-json"], ["--json", "--pretty"], ["-p", "list"],
    ["-jp", "list"], ["-ap", "list"], ["-4j"], ["-Vx"], ["-x"], ["--x"], ["---j"], ["-"],
    ["-c=never", "list"], ["-color=auto"], ["-c=bogus"], ["-4", "-6", "-0", "-M", "-B"],
    ["-s", "-s", "-r", "-o", "-t", "-ts", "-br", "-N", "-iec", "-h", "-echo"],
    ["-f", "inet", "list"], ["-f", "bogus"], ["-family"], ["-l", "3"], ["-rc", "x"],
    ["-rc", "0x100"], ["-V"], ["-Version"], ["--", "list"], ["--", "-j"],
    ["-n", "a", "list"], ["-n", "nope", "list"], ["-netns"],
    ["list-id"], ["list-id", "nsid", "7"], ["list-id", "nsid", "x"], ["list-id", "bogus"],
    ["-j", "list-id", "target-nsid", "99"],
    ["add", "c"], ["a", "c"], ["add"], ["add", "a"], ["add", ".."], ["add", ""],
    ["add", "--exist-ok", "a"], ["add", "--exist-ok", "c"], ["add", "--exist-ok"],
    ["add", "--", "c"], ["add", "-j"], ["add", "--exist"],
    ["attach", "c", Raw("$$")], ["at", "c", "0"], ["attach", "c"], ["attach", "c", "x"],
    ["delete", "a"], ["d", "nope"], ["delete"], ["-all", "delete"], ["-a", "d"],
    ["set", "a", "auto"], ["se", "a", "x"], ["set", "a", "-1"], ["set", "b", "8"], ["set"],
    ["identify"], ["identify", "abc"], ["identify", "1", "2"], ["i", "self"],
    ["pids", "a"], ["pids"], ["pids", "nope"], ["pids", "a", "b"],
    ["exec", "a", "sh", "-c", "echo hi; exit 3"], ["e", "a", "--", "true"],
    ["exec", "a", "--help"], ["exec", "a", "-j"], ["exec", "nope", "true"], ["exec", "a"],
    ["exec"], ["-all", "exec", "echo", "x"], ["-a", "exec"],
    ["exec", "a", "nosuchcommand"],
    ["help"], ["h"], ["foo"], ["foo", "bar"], [""], ["LIST"],
    ["-batch", "-"], ["-force", "-b", "-"], ["-b", "/nonexistent"], ["-b"],
]
BATCH_INPUT = b"netns add c\nadd d\nnetns add a\nnetns list\n"


def label(argv):
    return " ".join(argv) or "(none)"


@pytest.mark.parametrize("argv", ARGVS, ids=[label(a) for a in ARGVS])
def test_click_path_matches_fast_path(argv):
    fast = private([[Raw("$PYNETNS"), *argv]], BASE, BATCH_INPUT, "$IP netns list")[0]
    slow = private([["env", "PYNETNS_CLICK=1", Raw("$PYNETNS"), *argv]], BASE, BATCH_INPUT,
                   "$IP netns list")[0]
    assert slow.triple() == fast.triple()
    assert slow.state() == fast.state() and slow.extra == fast.extra


def flat(text):
    return " ".join(text.decode().split())


@pytest.mark.parametrize("help_argv", [["--help"], ["-help"], ["-j", "--help"]])
def test_help_mentions_every_verb_and_option(help_argv):
    for click in (False, True):
        r = pynetns(*help_argv, click=click)
        assert (r.rc, r.err) == (0, b"")
        text = flat(r.out)
        assert text.startswith("Usage: pynetns")
        for verb in grammar.VERBS:
            assert f" {verb.name} " in text, verb.name
        for option in grammar.GLOBALS:
            assert option.names[0] in text, option.names


@pytest.mark.parametrize("verb", grammar.VERBS, ids=[v.name for v in grammar.VERBS])
def test_verb_help(verb):
    for click in (False, True):
        r = pynetns(verb.name, "--help", click=click)
        assert (r.rc, r.err) == (0, b"")
        text = flat(r.out)
        assert text.startswith(f"Usage: pynetns {verb.name}")
        assert " ".join(verb.usage.split()) in text
        for option in verb.options:
            for name in option.names:
                assert name in text, name


def test_verb_help_by_prefix():
    assert pynetns("at", "--help").out == pynetns("attach", "--help").out
    assert pynetns("s", "--help").out == pynetns("list", "--help").out
