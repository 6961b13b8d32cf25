"""Hostile names and PIDs, compared with ip's accept/reject decision and message in a
private /run/netns; names fuzzed with hypothesis. NUL cannot travel in argv, so the library
is checked for it."""
import json
import os
import sys

import pytest
from conftest import IP, PYNETNS
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from .support import World, assert_clean, count, no_traceback, state

# After `add`, these are pynetns options, not names (`pynetns add -- NAME` names them).
OWN_WORDS = {b"--exist-ok", b"--help", b"--"}

SPECIAL = [b"", b".", b"..", b"/", b"a/b", b"../x", b"-", b"-x", b"-all", b"-n", b" ",
           b"\n", b"a\tb", b"\x1b[31mred", b"\x7f", b"\xff\xfe", b"\xc3", b"x" * 255,
           b"x" * 256, "é".encode() * 127 + b"x", "é".encode() * 128, b"\xe2\x80\xae",
           b"$(touch /tmp/pwned)", b"*", b"name with spaces", b"\\"]

names = st.one_of(
    st.sampled_from(SPECIAL),
    st.binary(max_size=300).filter(lambda b: b"\0" not in b),
    st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)),
            max_size=90).map(str.encode),
    st.integers(250, 260).map(lambda n: b"n" * n),
)


@pytest.fixture(scope="module")
def shared_world():
    with World() as w:
        yield w
        assert_clean(state(w))


def entries(world):
    r = world.run(["find", "/run/netns", "-mindepth", "1", "-maxdepth", "1", "-printf", r"%f\0"])
    return sorted(r.out.split(b"\0")[:-1])


def run_both(world, args, cleanup):
    """The same verb through ip and pynetns: each result with what /run/netns held after
    it, before ``cleanup`` (an ip netns command) ran."""
    results = []
    for tool in ([IP, "netns"], [PYNETNS]):
        r = world.run(tool + args, timeout=10)
        no_traceback(r)
        results.append((r.triple(), entries(world)))
        world.run([IP, "netns"] + cleanup)
    return results


def compare_name(world, name):
    count("bad inputs tried")
    ip_add = world.run([IP, "netns", "add", name])
    ip_state = entries(world)
    ip_exec = world.run([IP, "netns", "exec", name, "true"])
    ip_delete = world.run([IP, "netns", "delete", name])
    ip_exec_gone = world.run([IP, "netns", "exec", name, "true"])
    mine = [world.run([PYNETNS, "add", name])]
    state_after_add = entries(world)
    mine += [world.run([PYNETNS, "exec", name, "true"]), world.run([PYNETNS, "delete", name]),
             world.run([PYNETNS, "exec", name, "true"])]
    for r in mine:
        no_traceback(r)
    assert [r.triple() for r in mine] == [r.triple() for r in
                                          (ip_add, ip_exec, ip_delete, ip_exec_gone)], name
    assert state_after_add == ip_state
    assert entries(world) == []


@pytest.mark.parametrize("name", SPECIAL, ids=[repr(n)[2:-1][:20] for n in SPECIAL])
def test_special_names_as_ip(shared_world, name):
    compare_name(shared_world, name)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=names)
def test_fuzzed_names_as_ip(shared_world, name):
    assume(name not in OWN_WORDS)
    compare_name(shared_world, name)


PIDS = ["0", "-1", "-0", "-2147483648", "2147483647", "2147483648", "99999999999", "abc", "",
        " 1", "1 ", "0x1", "010", "08", "+1", "1e3", "4194305", "0x", " ", "1\n", "٣",
        "999999"]


@pytest.mark.parametrize("pid", PIDS, ids=[repr(p) for p in PIDS])
def test_pids_as_ip(shared_world, pid):
    """attach and identify: ip's decision and message for each; nothing left behind.
    (PID 1 is the world's own server, so '0x1', '+1' and ' 1' succeed for both.)"""
    count("bad inputs tried")
    for verb in (["attach", "p"], ["identify"]):
        ip, mine = run_both(shared_world, verb + [pid], ["delete", "p"])
        assert mine == ip, (verb, pid)
    assert entries(shared_world) == []


LIBRARY_CHECK = r"""
import json, os, sys
import pynetns
from pynetns import store
bad = ["a\0b", "\0", "x\0", "", ".", "..", "a/b", "/", "x" * 256]
calls = {
    "add": lambda n: pynetns.add(n), "add_exist_ok": lambda n: pynetns.add(n, exist_ok=True),
    "attach": lambda n: pynetns.attach(n, os.getpid()),
    "bind": lambda n: pynetns.bind(n, "/proc/self/ns/net"),
    "delete": lambda n: pynetns.delete(n), "exists": lambda n: store.exists(n),
    "pids": lambda n: pynetns.pids(n), "open": lambda n: store.open_checked(n),
}
out = {}
for n in bad:
    for what, call in calls.items():
        try:
            call(n)
            out[f"{n!r} {what}"] = "accepted"
        except pynetns.InvalidName:
            out[f"{n!r} {what}"] = "InvalidName"
        except Exception as e:
            out[f"{n!r} {what}"] = f"{type(e).__name__}: {e}"
# bind() takes network namespaces only, and never opens (so never blocks on) a FIFO.
os.mkfifo("/run/fifo")
refused = {}
for source in ("/proc/self/ns/uts", "/run/fifo", "/etc/hostname"):
    try:
        pynetns.bind("b", source)
        refused[source] = "accepted"
    except pynetns.NotANamespace as e:
        refused[source] = e.problem
# A name that is not UTF-8 arrives as os.fsdecode gives it: it is kept byte for byte.
odd = os.fsdecode(b"\xff\xfe-odd")
pynetns.add(odd)
out["odd listed"] = [os.fsencode(e.name).hex() for e in pynetns.entries()]
out["odd exists"] = store.exists(odd)
pynetns.delete(odd)
print(json.dumps([out, refused]))
"""


def test_library_rejects_nul_and_other_invalid_names(shared_world):
    r = shared_world.py(LIBRARY_CHECK, timeout=20)
    no_traceback(r)
    out, refused = json.loads(r.out)
    assert refused == {"/proc/self/ns/uts": "a UTS namespace", "/run/fifo": "a FIFO",
                       "/etc/hostname": "a plain file"}
    odd = out.pop("odd listed"), out.pop("odd exists")
    count("bad inputs tried", len(out))
    assert {k: v for k, v in out.items() if v != "InvalidName"} == {}
    assert odd == ([b"\xff\xfe-odd".hex()], True)
    assert entries(shared_world) == []
