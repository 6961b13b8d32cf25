"""What `list -d` and `prune` print, exactly, for real namespaces in a private /run/netns:
the table's header and columns (one row per healthy entry, the first PID and a count, not
every PID), the JSON (every PID, the nsid under "id" as in `-j list`), and prune's account of
what it removes and what it keeps. Names and targets are printed through output.printable:
no name can forge a line or send an escape sequence.
"""
import base64
import json
import os
import shlex
import sys

import pytest

from conftest import in_private_run_dir

HEADER = ["NAME", "NS", "NSID", "KIND", "NPROCS", "PID", "OWNER", "STATUS"]
CTL = "ctl\x1b[31m"  # a name with an escape sequence
FORGED = "evil\nremoved blue"  # a plain file whose name forges a second line
FORGED_SHOWN = "evil\\x0aremoved blue"
FORGED_BASH = "$'evil\\nremoved blue'"
MOVED_PROBLEM = "a symlink to /proc/{}/ns/net, whose process now holds another network namespace"

# blue: a bind with nsid 7 and no process; red: two processes; lnk: a symlink to a lone
# process in a namespace of its own. Broken: a plain file, a dangling symlink, a directory.
# MOVED adds moved: a symlink recorded for a process that has since moved to another
# namespace (stale: prune removes it).
MOVER = r"""
import ctypes, os, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
if ctypes.CDLL(None, use_errno=True).unshare(0x40000000) != 0:  # CLONE_NEWNET
    sys.exit("unshare failed")
open(sys.argv[1] + ".done", "w").close()
time.sleep(1000)
"""
SETUP = """
trap 'kill $(jobs -p) 2>/dev/null' EXIT
T=$(mktemp -d)
$PYNETNS add blue
$IP netns set blue 7
$PYNETNS add red
$PYNETNS exec red sleep 1000 &
$PYNETNS exec red sleep 1000 &
unshare -n sleep 1000 & lone=$!
for _ in $(seq 500); do
    [ "$($PYNETNS pids red | wc -l)" = 2 ] &&
        [ "$(readlink /proc/$lone/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.01
done
$PYNETNS attach --symlink lnk $lone
touch -d '1 hour ago' /run/netns/plain
ln -s /proc/999999999/ns/net /run/netns/dangling
mkdir /run/netns/adir
"""
MOVED = f"""
{shlex.quote(sys.executable)} -c {shlex.quote(MOVER)} "$T/go" & mover=$!
$PYNETNS attach --symlink moved $mover
touch "$T/go"
for _ in $(seq 500); do [ -e "$T/go.done" ] && break; sleep 0.01; done
[ -e "$T/go.done" ]
"""
FACTS = """
echo "MOVER ${mover:-0}"
i=0
for n in "$@"; do
    echo "INO $i $(stat -L -c %i "/run/netns/$n")"
    echo "PIDS $i $($PYNETNS pids "$n" | sort -n | tr '\\n' ' ')"
    i=$((i + 1))
done
"""


def world(commands, names, extra=""):
    """SETUP (plus ``extra``), then each of ``commands`` (bash) with its stdout, stderr and
    exit code; then FACTS about ``names``: {"out": [...], "err": [...], "rc": [...],
    "ino": {name: inode}, "pids": {name: [pid...]}, "mover": pid}."""
    script = SETUP + extra
    for i, cmd in enumerate(commands):
        script += (f'rc=0; {cmd} >"$T/out{i}" 2>"$T/err{i}" || rc=$?\n'
                   f'echo "RC $rc"; echo "OUT $(base64 -w0 "$T/out{i}")"; '
                   f'echo "ERR $(base64 -w0 "$T/err{i}")"\n')
    script += "set -- " + " ".join(shlex.quote(n) for n in names) + "\n" + FACTS
    r = in_private_run_dir(script, net=True)
    assert r.rc == 0, r.err
    got = {"out": [], "err": [], "rc": [], "ino": {}, "pids": {}}
    for line in r.out.decode().splitlines():
        key, _, value = line.partition(" ")
        if key == "RC":
            got["rc"].append(int(value))
        elif key in ("OUT", "ERR"):
            got[key.lower()].append(base64.b64decode(value).decode())
        elif key == "MOVER":
            got["mover"] = int(value)
        elif key == "INO":
            i, ino = value.split()
            got["ino"][names[int(i)]] = int(ino)
        elif key == "PIDS":
            i, *pids = value.split()
            got["pids"][names[int(i)]] = [int(p) for p in pids]
    return got


def table(rows):
    """The oracle: columns two spaces apart, each as wide as its widest cell, no trailing
    blanks."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n"
                   for r in rows)


def listed_order(out):
    """The names in `list` order (readdir's), which -d list keeps."""
    return [line.split(" (id: ")[0] for line in out.splitlines()]


HEALTHY = ["blue", "red", "lnk", CTL]


def test_table_has_a_header_and_one_short_row_per_namespace():
    got = world(["$PYNETNS -d list", "$PYNETNS list"], HEALTHY, f"$PYNETNS add $'{CTL}'\n")
    assert got["rc"] == [0, 0]
    ino, pids = got["ino"], got["pids"]
    assert len(pids["red"]) == 2 and pids["blue"] == [] and len(pids["lnk"]) == 1

    def row(name, nsid, kind):
        p = pids[name]
        return [name.replace("\x1b", "\\x1b"), str(ino[name]), nsid, kind, str(len(p)),
                str(p[0]) if p else "-", "-", "ok"]

    lone = pids["lnk"][0]
    rows = {"blue": row("blue", "7", "bind"), "red": row("red", "-", "bind"),
            "lnk": row("lnk", "-", f"symlink->/proc/{lone}/ns/net"), CTL: row(CTL, "-", "bind")}
    order = listed_order(got["out"][1])
    assert sorted(order) == sorted(HEALTHY)
    assert got["out"][0] == table([HEADER] + [rows[n] for n in order])
    assert "\x1b" not in got["out"][0]
    # The broken entries are named on stderr, as by list.
    assert sorted(got["err"][0].splitlines()) == sorted(got["err"][1].splitlines())
    assert len(got["err"][0].splitlines()) == 3


def test_json_has_every_pid_and_the_nsid_as_id():
    got = world(["$PYNETNS -j -d list", "$PYNETNS -j list"], HEALTHY[:-1])
    assert got["rc"] == [0, 0]
    rows = {r["name"]: r for r in json.loads(got["out"][0])}
    lone = got["pids"]["lnk"][0]
    assert {r["name"]: r.get("id") for r in json.loads(got["out"][1])} == {
        n: r.get("id") for n, r in rows.items()}  # the same key as -j list, omitted alike

    def row(name, kind="bind", target=None, **nsid):
        return {"name": name, **nsid, "inode": got["ino"][name], "kind": kind,
                "target": target, "pids": got["pids"][name], "container": None, "stale": None}

    assert rows == {
        "blue": row("blue", id=7), "red": row("red"),
        "lnk": row("lnk", "symlink", f"/proc/{lone}/ns/net")}
    assert list(rows["blue"]) == ["name", "id", "inode", "kind", "target", "pids", "container",
                                  "stale"]


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "prune"])
def test_prune_says_what_it_removes_and_what_it_keeps(dry_run):
    extra = MOVED + f"touch -d '1 hour ago' /run/netns/{FORGED_BASH}\n"
    flag = " --dry-run" if dry_run else ""
    got = world([f"$PYNETNS prune{flag}", "$PYNETNS -d list", "ls -A /run/netns"],
                ["blue"], extra)
    mover = got["mover"]
    verb = "would remove" if dry_run else "removed"
    prunable = {"moved": MOVED_PROBLEM.format(mover), "plain": "a plain file",
                "dangling": "a dangling symlink to /proc/999999999/ns/net",
                FORGED: "a plain file"}
    out = got["out"][0].splitlines()
    shown = {FORGED: FORGED_SHOWN}
    assert sorted(out) == sorted(f"{verb} {shown.get(n, n)}: {p}" for n, p in prunable.items())
    assert got["err"][0] == "kept adir: a directory (prune removes plain files and broken " \
                            "symlinks only)\n"
    assert got["rc"][0] == 0
    left = got["out"][2].splitlines()
    if dry_run:
        assert "moved" in left and "plain" in left
    else:
        assert sorted(left) == ["adir", "blue", "lnk", "red"]


def test_prune_json_names_what_it_keeps():
    got = world(["$PYNETNS -j prune --dry-run"], ["blue"], MOVED)
    assert got["rc"] == [0]
    rows = {r["name"]: r for r in json.loads(got["out"][0])}
    assert rows["adir"] == {"name": "adir", "problem": "a directory", "removed": False,
                            "reason": "prune removes plain files and broken symlinks only"}
    assert rows["plain"] == {"name": "plain", "problem": "a plain file", "removed": False}
    assert sorted(rows) == ["adir", "dangling", "moved", "plain"]


def test_json_is_valid_for_any_name():
    """Names with an escape sequence, a control character and a byte that is not UTF-8:
    `-j -d list` and `-j prune` are valid UTF-8 JSON that gives the names back."""
    r = in_private_run_dir("""
$PYNETNS add $'esc\\x1b[31m'
$PYNETNS add $'ctl\\x01\\xff'
: > $'/run/netns/file\\x02\\xfe'
touch -d '1 hour ago' /run/netns/file*
$PYNETNS -j -d list
echo ---
$PYNETNS -j prune --dry-run
""", net=True)
    assert r.rc == 0, r
    listed, pruned = r.out.split(b"---\n")
    rows = json.loads(listed.decode("utf-8"))  # strict UTF-8: no raw byte got through
    assert sorted(os.fsencode(row["name"]) for row in rows) == [b"ctl\x01\xff", b"esc\x1b[31m"]
    assert [os.fsencode(p["name"]) for p in json.loads(pruned.decode("utf-8"))] == \
        [b"file\x02\xfe"]


def test_list_names_broken_entries_safely():
    """list's stderr line for a broken entry: a name cannot forge a line or send escapes, its
    delete hint is one bash reads back, and a non-empty directory gets no hint delete fails."""
    r = in_private_run_dir("""
: > $'/run/netns/a\\nb\\x1b'
mkdir /run/netns/full && touch /run/netns/full/x
$PYNETNS list
$PYNETNS delete $'a\\x0ab\\x1b'
$PYNETNS list
""")
    assert (r.rc, r.out) == (0, b""), r
    plain = (b'"a\\x0ab\\x1b" is a plain file, not a network namespace (remove it with: '
             b"pynetns delete $'a\\x0ab\\x1b')")
    full = (b'"full" is a directory, not a network namespace (it is not empty: delete '
            b"removes empty directories only)")
    lines = r.err.split(b"\n")
    assert sorted(lines[:2]) == sorted([plain, full]) and lines[2:] == [full, b""], r
