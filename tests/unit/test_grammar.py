"""grammar.py: verbs and global options are matched by prefix in ip's order, exactly as
ip/ipnetns.c and ip/ip.c do it."""
import pytest

from pynetns.cli import grammar
from pynetns.errors import UsageError

# do_netns() in iproute2 6.1 tries these in this order; show and lst mean list.
IP_VERB_ORDER = [("list", "list"), ("show", "list"), ("lst", "list"), ("list-id", "list-id"),
                 ("help", "help"), ("add", "add"), ("set", "set"), ("delete", "delete"),
                 ("identify", "identify"), ("pids", "pids"), ("exec", "exec"),
                 ("monitor", "monitor"), ("attach", "attach")]


def ip_verb(word):
    """What ip's chain of matches() picks for a word, or None."""
    for full, verb in IP_VERB_ORDER:
        if word and full.startswith(word):
            return verb
    return None


def every_prefix():
    words = {full[:n] for full, _ in IP_VERB_ORDER for n in range(1, len(full) + 1)}
    return sorted(words | {"", "x", "adds", "LIST", "lists", "list-ids", "-j", "a ", "at "})


@pytest.mark.parametrize("word", every_prefix())
def test_verb_prefixes_follow_ip_order(word):
    verb = grammar.match_verb(word)
    assert (verb.name if verb else None) == ip_verb(word)


@pytest.mark.parametrize("word, verb", [
    ("a", "add"), ("at", "attach"), ("d", "delete"), ("del", "delete"), ("e", "exec"),
    ("i", "identify"), ("p", "pids"), ("s", "list"), ("se", "set"), ("l", "list"),
    ("ls", "list"), ("list-", "list-id"), ("m", "monitor"), ("h", "help"), ("sh", "list"),
])
def test_named_abbreviations(word, verb):
    assert grammar.match_verb(word).name == verb


def test_pynetns_verbs_need_their_full_name():
    for verb in grammar.VERBS:
        if not verb.ip:
            assert grammar.match_verb(verb.name) is verb
            assert grammar.match_verb(verb.name[:-1]) is not verb


@pytest.mark.parametrize("word, key", [
    ("-b", "batch"), ("-ba", "batch"), ("-batch", "batch"), ("--batch", "batch"),
    ("-f", "family"), ("-fa", "family"), ("-fo", "force"), ("-force", "force"),
    ("-a", "all"), ("-all", "all"), ("--a", "all"), ("-j", "json"), ("-json", "json"),
    ("--json", "json"), ("-p", "pretty"), ("-pretty", "pretty"), ("-n", "netns"),
    ("-N", "numeric"), ("-V", "version"), ("-h", "human"), ("-human-readable", "human"),
    ("-he", "help"), ("-help", "help"), ("-s", "stats"), ("-statistics", "stats"),
    ("-d", "details"), ("-r", "resolve"), ("-rc", "rcvbuf"), ("-o", "oneline"),
    ("-t", "timestamp"), ("-ts", "tshort"), ("-br", "brief"), ("-l", "loops"),
    ("-i", "iec"), ("-c", "color"), ("-color", "color"), ("-c=never", "color"),
    ("-col=auto", "color"), ("-color=always", "color"), ("-color=", "color"),
    ("-4", "inet4"), ("-6", "inet6"), ("-0", "packet"), ("-M", "mpls"), ("-B", "bridge"),
    ("-echo", "echo"), ("-", "loops"),
])
def test_global_options(word, key):
    assert grammar.match_global(word).key == key


@pytest.mark.parametrize("word", ["-x", "-jp", "-ap", "-4j", "-c=bogus", "-cx", "-e", "-ec",
                                  "---j", "-jsonx", "-44", "-m", "-v"])
def test_unknown_global_options(word):
    assert grammar.match_global(word) is None


def test_parse_globals_stops_at_the_first_word():
    assert grammar.parse_globals(["-j", "-p", "list", "-j"]) == (
        {"json": True, "pretty": True}, ["list", "-j"])
    assert grammar.parse_globals(["-b", "file", "-fo"]) == ({"batch": "file", "force": True}, [])
    assert grammar.parse_globals(["--", "-j"]) == ({}, ["-j"])
    assert grammar.parse_globals(["-f", "inet6", "-n", "blue", "x"]) == (
        {"family": "inet6", "netns": "blue"}, ["x"])
    assert grammar.parse_globals(["-b", "-j"]) == ({"batch": "-j"}, [])


@pytest.mark.parametrize("argv, message", [
    (["-x"], 'Option "-x" is unknown, try "pynetns --help".'),
    (["--x"], 'Option "-x" is unknown, try "pynetns --help".'),
    (["-jp", "list"], 'Option "-jp" is unknown, try "pynetns --help".'),
    (["-batch"], 'Option "-batch" needs an argument FILE'),
    (["-f", "bogus"], 'Error: argument "bogus" is wrong: invalid protocol family'),
    (["-f", "help"], grammar.IP_USAGE),  # ip's usage()
    (["-rc", "x"], "Invalid rcvbuf size 'x'"),
    (["-rc", "-1"], "Invalid rcvbuf size '-1'"),
    (["-rc", "4294967296"], "Invalid rcvbuf size '4294967296'"),
])
def test_parse_globals_errors(argv, message):
    with pytest.raises(UsageError) as e:
        grammar.parse_globals(argv)
    assert str(e.value) == message


@pytest.mark.parametrize("argv", [["-f", "inet"], ["-f", "link"], ["-family", "mpls"],
                                  ["-f", "bridge"], ["-rc", "0"], ["-rc", "0x10"],
                                  ["-rc", "4294967295"], ["-rc", "-0"]])
def test_parse_globals_accepts_what_ip_accepts(argv):
    settings, rest = grammar.parse_globals(argv)
    assert rest == [] and len(settings) == 1


@pytest.mark.parametrize("argv", [["--help"], ["-help"], ["-j", "--help", "-x"]])
def test_help_goes_to_click(argv):
    with pytest.raises(grammar.WantsHelp):
        grammar.parse_globals(argv)


def test_verb_options_are_leading_and_spelled_in_full():
    add = grammar.VERB_BY_NAME["add"]
    assert grammar.parse_verb_options(add, ["--exist-ok", "x"]) == ({"exist_ok": True}, ["x"])
    assert grammar.parse_verb_options(add, ["x", "--exist-ok"]) == ({}, ["x", "--exist-ok"])
    assert grammar.parse_verb_options(add, ["--", "--exist-ok"]) == ({}, ["--exist-ok"])
    assert grammar.parse_verb_options(add, ["--exist"]) == ({}, ["--exist"])
    with pytest.raises(grammar.WantsHelp):
        grammar.parse_verb_options(add, ["--exist-ok", "--help"])


def test_verbs_without_options_keep_double_dash():
    list_id = grammar.VERB_BY_NAME["list-id"]
    assert list_id.options == []
    assert grammar.parse_verb_options(list_id, ["--", "x"]) == ({}, ["--", "x"])


def test_every_ip_verb_is_in_the_table():
    assert {v for _, v in IP_VERB_ORDER} <= set(grammar.VERB_BY_NAME)
