"""`ip netns ARGS` and `pynetns ARGS` side by side: same rc, stdout, stderr, and the same
/run/netns entries and mounts afterwards.

Every case runs in its own private mount and network namespace (netns_diff), so the real
/run/netns is never touched and nsids are deterministic.
"""
import pytest

from netns_diff import Raw, assert_same, both

# Two namespaces; b has nsid 7 in the caller's (private) namespace.
BASE = "$IP netns add a\n$IP netns add b\n$IP netns set b 7\n"
# /run/netns absent altogether (the tmpfs over /run hides the real one).
NO_RUN_DIR = "umount /run/netns\nmount -t tmpfs tmpfs /run\n"
# /run/netns a plain file.
RUN_FILE = NO_RUN_DIR + "touch /run/netns\n"
LONG = "n" * 256
# Names with bytes ip writes raw: not UTF-8, control characters, a newline.
AWKWARD = BASE + "".join(f'$IP netns add "$(printf \'{n}\')"\n'
                         for n in ("bad-\\377", "ctl-\\001", "nl-\\nx", "bs-\\bx"))


def case(*args, globals=(), setup=BASE, **kw):
    label = " ".join(globals + args) or "(no verb)"
    return pytest.param(list(args), list(globals), setup, kw, id=label[:60])


def run_cases(cases):
    return pytest.mark.parametrize("args, globals, setup, kw", cases)


LIST = [
    case(),
    case("list"), case("show"), case("lst"), case("l"), case("li"), case("s"), case("sh"),
    case("ls"),  # a prefix of "lst"
    case("list", "z", "extra"),
    case("list", ".."), case("show", "a/b"), case("l", ""),
    case("list", setup=""),
    case("list", setup=NO_RUN_DIR),
    case("list", setup=BASE + "$IP netns add 'sp ace'\n$IP netns add 'tab\tq\"uo\\\\te'\n"),
    case("list", globals=("-j",)),
    case(globals=("-j",)),
    case("list", globals=("-j", "-p")),
    case("list", globals=("-p", "-j")),
    case("list", globals=("-json",)),
    case("list", globals=("--json",)),
    case("list", globals=("-json", "-pretty")),
    case("list", globals=("-p",)),
    case("list", globals=("-j",), setup=""),
    case("list", globals=("-j", "-p"), setup=""),
    case("list", globals=("-j",), setup=NO_RUN_DIR),
    case("list", globals=("-j", "-p"),
         setup=BASE + "$IP netns add 'q\"uo\\\\te\tnl'\n$IP netns set 'q\"uo\\\\te\tnl' 3\n"),
    case("list", globals=("-j",), setup=AWKWARD), case("list", setup=AWKWARD),
]

LIST_ID = [
    case("list-id"), case("list-"), case("list-i"),
    case("list-id", globals=("-j",)), case("list-id", globals=("-j", "-p")),
    case("list-id", setup=""), case("list-id", globals=("-j",), setup=""),
    case("list-id", globals=("-j", "-p"), setup=""),
    case("list-id", "nsid", "7"), case("list-id", "nsid", "0x7"), case("list-id", "nsid", "07"),
    case("list-id", "nsid", "7", globals=("-j",)),
    case("list-id", "nsid", "7", globals=("-j", "-p")),
    case("list-id", "nsid", "99"), case("list-id", "nsid", "99", globals=("-j",)),
    case("list-id", "nsid"), case("list-id", "target-nsid"),
    case("list-id", "nsid", "-1"), case("list-id", "nsid", "-1", "x"),
    case("list-id", "nsid", "abc"), case("list-id", "nsid", ""),
    case("list-id", "nsid", "2147483648"),
    case("list-id", "target-nsid", "-1"), case("list-id", "target-nsid", "abc"),
    case("list-id", "target-nsid", "99"),
    case("list-id", "target-nsid", "99", globals=("-j",)),
    case("list-id", "target-nsid", "99", globals=("-j", "-p")),
    case("list-id", "nsid", "7", "nsid", "7"),
    case("list-id", "target-nsid", "7", "target-nsid", "7"),
    case("list-id", "bogus"), case("list-id", "nsid", "7", "bogus"),
    # b (nsid 7) knows a as 3: seen from here, with the current-nsid column.
    case("list-id", "target-nsid", "7", setup=BASE + "$IP -n b netns set a 3\n"),
    case("list-id", "target-nsid", "7", globals=("-j",), setup=BASE + "$IP -n b netns set a 3\n"),
    case("list-id", "target-nsid", "7", "nsid", "3", setup=BASE + "$IP -n b netns set a 3\n"),
    case("list-id", "target-nsid", "7", "nsid", "4", setup=BASE + "$IP -n b netns set a 3\n"),
]

ADD_ATTACH = [
    case("add", "c"), case("a", "c"), case("ad", "c"), case("add", "c", "extra"),
    case("add", "a"), case("add"), case("a"),
    case("add", "c", setup=""), case("add", "c", setup=NO_RUN_DIR),
    case("add", "n" * 255),
    case("attach", "c", Raw("$$")), case("at", "c", Raw("$$")), case("att", "c", Raw("$$")),
    case("attach", "a", Raw("$$")), case("attach", "c"), case("attach"),
    case("attach", "c", "0"), case("attach", "c", "abc"), case("attach", "c", ""),
    case("attach", "c", "-1"), case("attach", "c", "0x7fffffff"),
    case("attach", "c", "2147483648"), case("attach", "c", "999999999"),
    case("attach", "c", "12x"),
    case("attach", "c", "999999999", setup=NO_RUN_DIR),
]

DELETE = [
    case("delete", "a"), case("d", "a"), case("de", "a"), case("del", "a"),
    case("delete", "nope"), case("delete"), case("d"), case("delete", "a", "b"),
    case("delete", "x", setup=NO_RUN_DIR),
    case("delete", "plain", setup=BASE + "touch /run/netns/plain\n"),
    case("delete", "link", setup=BASE + "ln -s /nonexistent /run/netns/link\n"),
    case("delete", globals=("-all",)), case("delete", globals=("-a",)),
    case("delete", "x", globals=("-all",)),
    case("delete", globals=("-all",), setup=""),
    case("delete", globals=("-all",), setup=NO_RUN_DIR),
    case("delete", globals=("-all",),
         setup=BASE + "touch /run/netns/plain\nln -s /nonexistent /run/netns/dangling\n"),
]

SET = [
    case("set", "a", "5"), case("se", "a", "5"), case("set", "a", "auto"),
    case("set", "a", "0x10"), case("set", "a", "010"), case("set", "a", " 5"),
    case("set", "a", "0"), case("set", "a", "2147483647"),
    case("set", "a", "5", "extra"),
    case("set", "a", "7"), case("set", "b", "5"), case("set", "b", "auto"),
    case("set", "a", "-1"), case("set", "a", "-0x10"), case("set", "a", "abc"),
    case("set", "a", ""), case("set", "a", "5 "), case("set", "a", "08"),
    case("set", "a", "2147483648"), case("set", "a", "Auto"),
    case("set", "a"), case("set"), case("set", "nope", "3"), case("set", "nope", "abc"),
    case("set", "x", "3", setup=NO_RUN_DIR),
]

# `me` names the private namespace the setup shell (and so the tool) runs in.
ME = BASE + "$IP netns attach me $$\n"

IDENTIFY_PIDS = [
    case("identify"), case("i"), case("id"),
    case("identify", setup=ME), case("identify", Raw("$$"), setup=ME),
    case("identify", "self", setup=ME),
    case("identify", Raw("$$"), setup=ME + "$IP netns attach also $$\n"),
    case("identify", "0"), case("identify", "abc"), case("identify", "12x"),
    case("identify", "-1"), case("identify", "999999999"), case("identify", "1", "2"),
    case("identify", "", globals=("-all",)), case("identify", globals=("-j", "-p")),
    case("identify", globals=("-n", "a")), case("pids", "a", globals=("-j",)),
    case("identify", setup=NO_RUN_DIR),
    case("pids", "a"), case("p", "a"), case("pi", "a"),
    case("pids", "nope"), case("pids"), case("pids", "a", "b"),
    case("pids", "x", setup=NO_RUN_DIR),
]

HELP_UNKNOWN = [
    case("help"), case("h"), case("he"), case("help", "me"),
    case("foo"), case("foo", "a"), case(""), case("LIST"), case("lists"), case("adds", "c"),
    case("foo", ".."),  # the name check comes before the verb lookup
    case("foo", "..", globals=("-all",)),
]

EXEC = [
    case("exec", "a", "true"), case("e", "a", "true"), case("ex", "a", "true"),
    case("exec", "a", "false"),
    case("exec", "a", "sh", "-c", "exit 7"),
    case("exec", "a", "sh", "-c", "echo out; echo err >&2; exit 3"),
    case("exec", "a", "sh", "-c", "kill -TERM $$"),
    case("exec", "a", "sh", "-c", "kill -KILL $$"),
    case("exec", "a", "nosuchcommand"), case("exec", "a", "/nonexistent/cmd"),
    case("exec", "a", "/etc"), case("exec", "a", ""), case("exec", "a", "/dev/null"),
    case("exec", "nope", "true"), case("exec", "a"), case("exec"), case("e"),
    case("exec", "x", "true", setup=NO_RUN_DIR),
    case("exec", "a", "ip", "-o", "link"), case("exec", "a", "echo", "x", globals=("-j", "-p")),
    case("exec", "b", "ip", "netns", "identify", globals=("-n", "a")),
    case("exec", "a", "ls", "/sys/class/net"),
    # The command's mounts stay in its own mount namespace.
    case("exec", "a", "sh", "-c", "mount -t tmpfs none /mnt; grep -c ' /mnt ' /proc/self/mountinfo",
         after="grep -c ' /mnt ' /proc/self/mountinfo"),
    case("exec", "a", "sh", "-c", "grep -c ' /sys ' /proc/self/mountinfo"),
    case("exec", "b", "ip", "netns", "list-id"),
    case("exec", "true", globals=("-all",)), case("exec", "true", globals=("-a",)),
    case("exec", "sh", "-c", "echo hi; exit 4", globals=("-all",)),
    case("exec", "sh", "-c", "kill -TERM $$", globals=("-all",)),
    case("exec", "nosuchcommand", globals=("-all",)),
    case("exec", globals=("-all",)),
    case("exec", "true", globals=("-all",), setup=""),
    case("exec", "true", globals=("-all",), setup=NO_RUN_DIR),
]


RUN_DIR_IS_A_FILE = [
    case(*words, globals=globals, setup=RUN_FILE)
    for globals, words in [
        ((), ["list"]), (("-j",), ["list"]), ((), ["identify"]), ((), ["identify", "1"]),
        ((), ["list-id"]), ((), ["delete", "x"]), ((), ["pids", "x"]),
        ((), ["exec", "x", "true"]), ((), ["add", "x"]), ((), ["attach", "x", "1"]),
        ((), ["set", "x", "1"]), (("-all",), ["delete"]), (("-all",), ["exec", "true"])]
]


def invalid_name_cases():
    cases = []
    for verb in ("add", "attach", "delete", "set", "exec", "pids", "identify", "list",
                 "list-id", "help", "foo"):
        for bad in ("", ".", "..", "a/b", "/", LONG):
            cases.append(case(verb, bad, "1"))
    return cases


# Read-only verbs run one after the other on the same private /run/netns: the state
# compared afterwards then also shows that neither tool changed anything.
@run_cases(LIST + LIST_ID)
def test_list(args, globals, setup, kw):
    assert_same(args, setup, globals, shared=True, **kw)


@run_cases(ADD_ATTACH + DELETE + SET)
def test_changes(args, globals, setup, kw):
    assert_same(args, setup, globals, after="$IP netns list", **kw)


@run_cases(IDENTIFY_PIDS + HELP_UNKNOWN)
def test_lookups(args, globals, setup, kw):
    assert_same(args, setup, globals, shared=True, **kw)


@run_cases(EXEC)
def test_exec(args, globals, setup, kw):
    assert_same(args, setup, globals, shared=True, **kw)


@run_cases(RUN_DIR_IS_A_FILE)
def test_run_dir_is_a_file(args, globals, setup, kw):
    assert_same(args, setup, globals, **kw)


@run_cases(invalid_name_cases())
def test_invalid_names(args, globals, setup, kw):
    py = assert_same(args, setup, globals, shared=True, **kw)
    assert py.rc == 255 and py.err.startswith(b"Invalid netns name")


def test_pids_lists_the_processes_in_the_namespace():
    setup = BASE + '$IP netns exec a sleep 30 & echo $! >"$T/sleeper"\nsleep 0.2\n'
    ip, py = both(["pids", "a"], setup, shared=True, teardown='kill $(cat "$T/sleeper")')
    assert py.triple() == ip.triple()
    assert py.rc == 0 and len(py.out.split()) == 1


def test_add_leaves_a_shared_nsfs_mount_like_ip():
    ip, py = both(["add", "c"], BASE)
    assert py.mounts == ip.mounts
    c = [m for m in py.mounts if m[2] == "/run/netns/c"]
    assert len(c) == 1 and c[0][0] == "/run/netns" and c[0][1] == "net:[]"
    assert c[0][5] == "nsfs" and c[0][4][0].startswith("shared:")


def test_set_shows_in_list():
    ip, py = both(["set", "a", "auto"], BASE, after="$IP netns list")
    assert py.extra == ip.extra == b"b (id: 7)\na (id: 0)\n"


# Differences a randomized differential run found (issue 12), now as in ip.
FUZZ_FOUND = [
    case("delete", "a", globals=("-n", "")),  # was: deleted a in the caller's namespace
    case("identify", globals=("-n", "../netns/a")),
    case("exec", "a", "echo", "in-a", globals=("-n", "nope", "-n", "a")),
    case("exec", "a", "echo", "in-a", globals=("-n", "a", "-n", "nope")),
    case("list", globals=("-n", "a", "-n", "b")),
    case(globals=("-V",)), case(globals=("-Version",)), case("list", globals=("-V",)),
    case(globals=("-n", "nope", "-V")), case(globals=("-V", "-zzz")),
    case(globals=("-V", "-b")), case(globals=("-V", "-f", "bogus")),
    case(globals=("-V", "-rc", "junk")), case(globals=("-V", "-n", "nope")),
    case(globals=("-f", "bogus", "-V")),
    case("list", globals=("-rcvbuf", "-18446744073709551615")),
    case("list", globals=("-rcvbuf", "-18446744073709551616")),
    case("list", globals=("-rcvbuf", "-1")),
    case(globals=("-batch", Raw('"$T"'))),  # a directory: an empty batch
    case("add", "a/b", globals=("-all",)), case("add", "nope/b", globals=("-all",)),
    case("add", "", globals=("-all",)), case("add", "..", globals=("-all",)),
    case("add", "../netns/x", globals=("-all",)),
    case("attach", "../netns/y", Raw("$$"), globals=("-all",)),
    case("attach", "x/y", "0", globals=("-all",), setup=""),
    case("pids", "../netns/a", globals=("-all",)), case("pids", "", globals=("-all",)),
    case("pids", "../nope", globals=("-all",)),
    case(globals=("-all", "-batch", "-"),
         stdin=b"netns add a/b\nnetns add c\nnetns add ../netns/d\n"),
    case(globals=("-force", "-batch", "-"), stdin=b"from-stdin\nnetns list\nzz x\n"),
    case(globals=("-batch", "-"), stdin=b"from-stdin\nnetns add c\n"),
]


@run_cases(FUZZ_FOUND)
def test_fuzz_found(args, globals, setup, kw):
    assert_same(args, setup, globals, after="$IP netns list", **kw)


@pytest.mark.parametrize("option", ["-he", "-hel", "--he", "--hel"])
def test_a_help_prefix_prints_the_usage_and_does_nothing(option):
    """ip's usage() for any -help spelling but -help/--help (pynetns prints the netns part
    of it: the rest names objects pynetns does not have)."""
    ip, py = both(["add", "x"], BASE, globals=[option])
    assert py.rc == ip.rc == 255 and py.out == ip.out == b""
    assert py.err.startswith(b"Usage:\tip netns list\n") and ip.err.startswith(b"Usage: ip")
    assert py.state() == ip.state() and "x" not in py.entries


def test_a_batch_file_is_the_stdin_of_what_its_lines_run():
    """ip freopen()s the batch FILE as stdin: a command reads (the unbuffered rest of) the
    file, not the caller's stdin."""
    setup = BASE + 'printf "netns exec a cat\\nnetns list\\n" >"$T/b"\n'
    ip, py = both([], setup, globals=["-batch", Raw('"$T/b"')], stdin=b"from-stdin\n")
    assert py.triple() == ip.triple()
    assert b"from-stdin" not in py.out


def test_all_set_of_an_invalid_name_fails_and_the_batch_goes_on():
    """ip -all set ../netns/a reaches a path relative to the cwd (exit 1, silently); pynetns
    refuses the name, and both carry on with the batch."""
    ip, py = both([], BASE, globals=["-all", "-force", "-batch", "-"],
                  stdin=b"netns set ../netns/a 7\nnetns add c\n", after="$IP netns list")
    assert py.rc == ip.rc == 1 and py.state() == ip.state() and py.extra == ip.extra
    assert py.err == b'Invalid netns name "../netns/a"\nCommand failed -:1\n'
