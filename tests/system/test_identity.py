"""Entries that are not network namespaces (pynetns only; ip lists them, hangs on a FIFO and
fails late): list shows only good ones and one line per broken one on stderr; exec, pids and
set refuse them before doing anything; delete removes them.

Everything runs in a private /run/netns (netns_diff.private).
"""
import pytest

from netns_diff import Raw, private

# readdir order on tmpfs is newest first; `good` is created first, so it is listed last.
SETUP = """
$IP netns add good
touch /run/netns/plain
ln -s /nonexistent /run/netns/dangling
echo text >"$T/plainfile"; ln -s "$T/plainfile" /run/netns/symplain
mkdir /run/netns/dir
mkfifo /run/netns/fifo
touch "$T/uts"; unshare --uts="$T/uts" true
touch /run/netns/uts; mount --bind "$T/uts" /run/netns/uts
touch /run/netns/ipc; unshare --ipc=/run/netns/ipc true
ln -s /run/netns/good /run/netns/symgood
"""
PROBLEMS = {
    "plain": "a plain file",
    "dangling": "a dangling symlink to /nonexistent",
    "symplain": "a plain file",
    "dir": "a directory",
    "fifo": "a FIFO",
    "uts": "a UTS namespace",
    "ipc": "an IPC namespace",
}
GOOD = ["symgood", "good"]
ALL = ["symgood", "ipc", "uts", "fifo", "dir", "symplain", "dangling", "plain", "good"]


def pynetns(*words, setup=SETUP):
    return private([["timeout", "10", Raw("$PYNETNS"), *words]], setup)[0]


def hint(name):
    return (f'"{name}" is {PROBLEMS[name]}, not a network namespace '
            f"(remove it with: pynetns delete {name})\n").encode()


def broken_lines():
    return b"".join(hint(n) for n in ALL if n in PROBLEMS)


def refusal(name):
    return f'"{name}" is {PROBLEMS[name]}, not a network namespace\n'.encode()


@pytest.fixture(scope="module")
def before():
    """Entries and mounts of the untouched setup."""
    return private([["true"]], SETUP)[0].state()


def test_setup_order():
    assert private([["true"]], SETUP)[0].entries == ALL


def test_list_separates_good_from_broken():
    r = pynetns("list")
    assert r.triple() == (0, "".join(f"{n}\n" for n in GOOD).encode(), broken_lines())


@pytest.mark.parametrize("globals, out", [
    (["-j"], b'[{"name":"symgood"},{"name":"good"}]\n'),
    (["-j", "-p"], b'[ {\n        "name": "symgood"\n    },{\n        "name": "good"\n    } ]\n'),
])
def test_json_list_separates_good_from_broken(globals, out):
    assert pynetns(*globals, "list").triple() == (0, out, broken_lines())


def test_list_shows_nsid_of_good_entries():
    r = pynetns("list", setup=SETUP + "$IP netns set good 4\n")
    assert r.triple() == (0, b"symgood (id: 4)\ngood (id: 4)\n", broken_lines())


def test_lookups_do_not_hang_on_a_fifo():
    for words in (["identify"], ["list-id"], ["pids", "good"], ["-all", "exec", "true"]):
        assert pynetns(*words).rc != 124, words


@pytest.mark.parametrize("name", PROBLEMS)
@pytest.mark.parametrize("words, rc", [
    (["exec", "{}", "touch", "/run/netns/ran"], 255),
    (["pids", "{}"], 1),
    (["set", "{}", "auto"], 1),
    (["set", "{}", "5"], 1),
])
def test_broken_entries_are_refused(name, words, rc, before):
    r = pynetns(*[w.format(name) for w in words])
    assert r.triple() == (rc, b"", refusal(name))
    assert r.state() == before  # nothing ran, nothing was mounted or removed


@pytest.mark.parametrize("name", PROBLEMS)
def test_delete_removes_broken_entries(name):
    r = pynetns("delete", name)
    assert r.triple() == (0, b"", b"")
    assert r.entries == [n for n in ALL if n != name]


def test_delete_of_a_directory_with_content_fails():
    r = pynetns("delete", "dir", setup=SETUP + "touch /run/netns/dir/inside\n")
    assert r.triple() == (1, b"", b'Cannot remove namespace file "/run/netns/dir": '
                                  b"Directory not empty\n")


def test_delete_all_removes_every_entry():
    r = pynetns("-all", "delete")
    assert r.triple() == (0, b"", b"")
    assert r.entries == [] and [m[2] for m in r.mounts] == ["/run/netns"]


def test_exec_all_skips_broken_entries():
    r = pynetns("-all", "exec", "echo", "ran")
    expected_out = b"".join(f"\nnetns: {n}\n".encode() + (b"ran\n" if n in GOOD else b"")
                            for n in ALL)
    assert r.rc == 0 and r.out == expected_out
    assert r.err == b"".join(refusal(n) for n in ALL if n in PROBLEMS)
