"""The `ip` shim routes a command line to pynetns exactly when the real ip would run its netns
object, and passes pynetns the global options and the words after the object.

The oracle is the real ip: with `help` after the object, ip prints the netns usage only when
it picked netns, and pynetns prints the same bytes, so the shim's output must equal ip's
whichever way it routed, and it must have run pynetns exactly when ip printed that usage.
"""
import os

import pytest

from conftest import IP, in_private_run_dir, run, unique

pytestmark = [pytest.mark.root, pytest.mark.ip]

SHIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ip")
NETNS_USAGE = b"Usage:\tip netns list\n"

# Global options as scripts spell them; NAME is replaced by an existing namespace.
GLOBALS = [
    [], ["-4"], ["-6"], ["-0"], ["-M"], ["-B"], ["-h"], ["-human-readable"], ["-iec"],
    ["-s"], ["-statistics"], ["-d"], ["-r"], ["-o"], ["-t"], ["-ts"], ["-fo"], ["-br"],
    ["-j"], ["-j", "-p"], ["--json"], ["-c"], ["-color=never"], ["-c=auto"], ["-N"],
    ["-a"], ["-all"], ["-echo"], ["-l", "2"], ["-loops", "1"], ["-f", "inet"],
    ["-family", "inet6"], ["-rc", "65536"], ["-rcvbuf", "65536"], ["-n", "NAME"],
    ["-netns", "NAME"], ["--netns", "NAME"], ["-", "3"], ["--"], ["-4", "--"],
    ["-n", "NAME", "-j", "-d"], ["-b"],
    # ip stops at these before it looks at the object
    ["-V"], ["-Version"], ["-he"], ["-help"], ["-x"], ["-e"], ["-c=bad"], ["---json"],
    ["-n"], ["-f"],
]
# net, netn and netns are netns; n and ne come to neighbor first; nets is no object.
OBJECTS = ["netns", "netn", "net", "ne", "n", "neighbor", "netconf", "netc", "nets", "link",
           "NETNS", "", "-netns"]


@pytest.fixture(scope="module")
def name():
    ns = unique("shim-")
    assert run([IP, "netns", "add", ns]).rc == 0
    yield ns
    run([IP, "netns", "delete", ns])


def _cases():
    for g in GLOBALS:
        for obj in (OBJECTS if not g else ["netns", "net", "ne"]):
            yield g, obj


def _shim(argv, logged, **kw):
    env = dict(os.environ, PYNETNS=str(logged.path))
    return run([SHIM, *argv], env=env, **kw)


def _id(value):
    return (" ".join(value) if isinstance(value, list) else value) or "''"


@pytest.mark.parametrize("words,obj", list(_cases()), ids=_id)
def test_routes_as_ip_picks_the_object(words, obj, name, logged_pynetns):
    argv = [name if w == "NAME" else w for w in words] + [obj, "help"]
    expected = run([IP, *argv])
    got = _shim(argv, logged_pynetns)
    assert got.triple() == expected.triple()
    took_netns = expected.err.startswith(NETNS_USAGE)
    calls = logged_pynetns.calls()
    assert bool(calls) == took_netns, (expected, calls)
    if calls:
        assert calls == [argv[:len(words)] + ["help"]]


@pytest.mark.parametrize("words", [["-f", "bogus"], ["-rc", "x"], ["-n", "NOPE"], pytest.param(
    ["-family", "help"], marks=pytest.mark.xfail(strict=True, reason=(
        "ip's -family help prints ip's own usage (ip.c usage()); pynetns prints the netns "
        "usage (grammar.check_value raises IP_USAGE)")))])
def test_bad_global_values_go_to_pynetns_which_refuses_them_as_ip(words, logged_pynetns):
    """ip rejects these values before it reads the object; the shim reads no values, so
    pynetns gets them, and must refuse them with ip's words."""
    argv = [unique("nope-") if w == "NOPE" else w for w in words] + ["netns", "list"]
    expected = run([IP, *argv])
    assert expected.rc == 255
    assert _shim(argv, logged_pynetns).triple() == expected.triple()
    assert logged_pynetns.calls() == [argv[:len(words)] + ["list"]]


def test_no_object_is_ips(logged_pynetns):
    for argv in ([], ["-4"], ["-n", "x"]):
        assert _shim(argv, logged_pynetns).triple() == run([IP, *argv]).triple()
    assert logged_pynetns.calls() == []


# (batch text, whether pynetns runs it); NAME is an existing namespace, NOPE a missing one.
BATCHES = [
    ("# every form of the netns object\n"
     "netns exec NAME echo one   # a comment\n"
     "\n"
     "   \t net exec NAME echo two\n"
     "\"netns\" exec NAME echo 'three four'\n"
     "netn exec NAME \\\n"
     "link\n", True),  # the continuation's first word is no object
    # (not exec: ip 6.1's forked child goes on with the batch when it cannot enter NOPE)
    ("netns pids NOPE\nnetns exec NAME echo still\n", True),
    ("netns exec NAME echo a\nlink show dev lo\n", False),
    ("netns exec NAME echo a \\# cut: no continuation\nlink show dev lo\n", False),
    ("# nothing but comments\n\n", False),
    ("\"netns exec NAME true\n", False),
    ("'' list\n", False),
    ("netns exec NAME echo no newline", True),
]


@pytest.mark.parametrize("text,routed", BATCHES)
@pytest.mark.parametrize("how", ["file", "stdin"])
def test_batch_goes_whole_to_pynetns_when_every_line_is_netns(text, routed, how, name,
                                                              tmp_path, logged_pynetns):
    text = text.replace("NAME", name).replace("NOPE", unique("nope-"))
    if how == "file":
        path = tmp_path / "cmds"
        path.write_text(text)
        argv, stdin = ["-force", "-b", str(path)], None
    else:
        argv, stdin = ["-force", "-batch", "-"], text.encode()
    expected = run([IP, *argv], input=stdin)
    got = _shim(argv, logged_pynetns, input=stdin)
    assert got.triple() == expected.triple()
    assert logged_pynetns.calls() == ([argv] if routed else [])


def test_batch_that_cannot_be_read_is_ips(tmp_path, logged_pynetns):
    for path in (tmp_path / "missing", tmp_path):
        argv = ["-b", str(path)]
        assert _shim(argv, logged_pynetns).triple() == run([IP, *argv]).triple()
    assert logged_pynetns.calls() == []


def test_real_ip_is_found_past_the_shim_on_path(tmp_path):
    """With the shim first on PATH (as the clients run it), ip's own objects still reach
    the real ip, and a missing pynetns fails loudly rather than looping."""
    env = dict(os.environ, PATH=f"{os.path.dirname(SHIM)}:{os.environ['PATH']}",
               PYNETNS=str(tmp_path / "absent"))
    assert run(["ip", "-V"], env=env).triple() == run([IP, "-V"]).triple()
    assert run(["ip", "netns", "list"], env=env).rc == 127


@pytest.mark.xfail(strict=True, reason=(
    "pynetns gives ip's global -d/-details (which ip 6.1 accepts and ignores for netns) the "
    "meaning of list -d: `ip -d netns list` prints pynetns's table instead of ip's list"))
@pytest.mark.parametrize("words", [["-d"], ["-details", "-j"]])
def test_details_global_lists_as_ip(words):
    listing = " ".join(words) + " netns list"
    script = (f'"$IP" netns add a && "$IP" netns set a 1 && "$IP" netns add b\n'
              f'"$IP" {listing}; echo "rc $?"; echo ---; {SHIM} {listing}; echo "rc $?"\n')
    result = in_private_run_dir(script, net=True)
    ip_out, _, shim_out = result.out.partition(b"---\n")
    assert shim_out == ip_out, result
