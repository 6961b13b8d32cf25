"""The click path (PYNETNS_CLICK=1, also what --help goes through) and the fast path read the
same grammar: for good and bad command lines alike they must give identical rc, stdout,
stderr and leave identical state. And --help documents every verb and option.
"""
import pytest

from conftest import pynetns
from netns_diff import Raw, private

from pynetns.cli import grammar

BASE = "$IP netns add a\n$IP netns add b\n$IP netns set b 7\n"
# Commands that change nothing run on one private /run/netns, one path after the other.
READ_ONLY = [
    [], ["list"], ["s"], ["list", ".."], ["-j", "list"], ["-j", "-p", "list"], ["-json"],
    ["--json", "--pretty"], ["-jp", "list"], ["-4j"], ["-Vx"], ["--x"], ["---j"], ["-"],
    ["-c=never", "list"], ["-c=bogus"], ["-4", "-6", "-0", "-M", "-B", "-s", "-r", "-echo"],
    ["-f", "inet", "list"], ["-f", "bogus"], ["-family"], ["-rc", "x"], ["-V"],
    ["--", "-j"], ["-n", "a", "list"], ["-n", "nope", "list"], ["-netns"],
    ["-n", "a", "add", "--exist-ok", "a"], ["-n", "nope", "add", ".."],
    ["list-id"], ["list-id", "nsid", "7"], ["list-id", "bogus"],
    ["-j", "list-id", "target-nsid", "99"],
    ["add"], ["add", "a"], ["add", ".."], ["add", "--exist-ok", "a"], ["add", "--exist-ok"],
    ["at", "c", "0"], ["attach", "c"], ["d", "nope"], ["se", "a", "x"], ["set", "b", "8"],
    ["identify"], ["identify", "abc"], ["i", "self"], ["pids", "a"], ["pids", "a", "b"],
    ["exec", "a", "sh", "-c", "echo hi; exit 3"], ["e", "a", "--", "true"],
    ["exec", "a", "--help"], ["exec", "nope", "true"], ["exec", "a"],
    ["-all", "exec", "echo", "x"], ["exec", "a", "nosuchcommand"],
    ["help"], ["foo", "bar"], [""], ["-b", "/nonexistent"], ["-b"],
    ["list", "-j"], ["list", "--json", "--pretty"], ["l", "-d", "-j"], ["list", "-p"],
    ["prune", "--dry-run", "-j"], ["--version"], ["--version", "-zzz"], ["-V", "-zzz"],
    ["-he", "add", "x"], ["-n", "", "list"], ["-n", "../netns/a", "identify"],
]
CHANGING = [
    ["add", "c"], ["a", "c"], ["add", "--exist-ok", "c"], ["add", "--", "c"], ["add", "-j"],
    ["add", "--exist"], ["attach", "c", Raw("$$")], ["delete", "a"], ["-all", "delete"],
    ["-a", "d"], ["set", "a", "auto"], ["-batch", "-"], ["-force", "-b", "-"],
]
BATCH_INPUT = b"netns add c\nadd d\nnetns add a\nnetns list\n"
FAST = [Raw("$PYNETNS")]
# A deprecated click API (gone in click 9) turns into an error, so the paths differ.
CLICK = ["env", "PYNETNS_CLICK=1", "PYTHONWARNINGS=error::DeprecationWarning", Raw("$PYNETNS")]


def label(argv):
    return " ".join(argv) or "(none)"


def assert_equal(fast, slow):
    assert slow.triple() == fast.triple()
    assert slow.state() == fast.state() and slow.extra == fast.extra


@pytest.mark.parametrize("argv", READ_ONLY, ids=[label(a) for a in READ_ONLY])
def test_click_path_matches_fast_path(argv):
    fast, slow = private([FAST + argv, CLICK + argv], BASE, BATCH_INPUT, "$IP netns list")
    assert_equal(fast, slow)


@pytest.mark.parametrize("argv", CHANGING, ids=[label(a) for a in CHANGING])
def test_click_path_matches_fast_path_on_changes(argv):
    fast = private([FAST + argv], BASE, BATCH_INPUT, "$IP netns list")[0]
    slow = private([CLICK + argv], BASE, BATCH_INPUT, "$IP netns list")[0]
    assert_equal(fast, slow)


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


def test_json_and_pretty_after_the_verb():
    """`list -j`, `list --json -p` as `-j list`, `-j -p list` (issue 16): people type them
    after the verb, where ip ignores them."""
    for before, after in ((["-j"], ["-j"]), (["-j"], ["--json"]), (["-j", "-p"], ["-j", "-p"]),
                          (["-j", "-p"], ["--pretty", "--json"]), (["-j", "-d"], ["-d", "-j"])):
        fast, moved = private([[*FAST, *before, "list"], [*FAST, "list", *after]], BASE)
        assert moved.triple() == fast.triple() and fast.out.startswith(b"["), (before, after)
    dry, moved = private([[*FAST, "-j", "prune", "--dry-run"],
                          [*FAST, "prune", "--dry-run", "--json"]], BASE + "touch /run/netns/x\n")
    assert moved.triple() == dry.triple() and dry.out.startswith(b"[")


def test_version_options():
    from pynetns import __version__
    assert pynetns("--version").triple() == (0, f"pynetns {__version__}\n".encode(), b"")
    v = pynetns("-V")
    assert v.rc == 0 and v.out.startswith(b"ip utility, iproute2-6.1.0")
