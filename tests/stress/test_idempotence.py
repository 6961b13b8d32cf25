"""For scripts: `add --exist-ok`, the `exists` verb and the writers' lock, on the real
/run/netns (unique pynetns-test- names only) and in worlds."""
import os
import sys

from conftest import IP, PYNETNS, RUN_DIR, pynetns

from .support import assert_clean, state


def test_add_exist_ok(netns_name):
    assert pynetns("add", "--exist-ok", netns_name).triple() == (0, b"", b"")
    ino = os.stat(f"{RUN_DIR}/{netns_name}").st_ino
    assert pynetns("add", "--exist-ok", netns_name).triple() == (0, b"", b"")
    assert os.stat(f"{RUN_DIR}/{netns_name}").st_ino == ino  # the same namespace, untouched
    assert pynetns("add", netns_name).rc == 1  # without it, ip's "File exists"
    assert pynetns("delete", netns_name).rc == 0


def test_exists_exit_codes(netns_name):
    assert pynetns("exists", netns_name).triple() == (1, b"", b"")
    assert pynetns("add", netns_name).rc == 0
    assert pynetns("exists", netns_name).triple() == (0, b"", b"")
    assert pynetns("delete", netns_name).rc == 0
    assert pynetns("exists", netns_name).triple() == (1, b"", b"")
    for argv in (["exists"], ["exists", "a", "b"]):
        assert pynetns(*argv).triple() == (255, b"", b"Usage: pynetns exists NAME\n")
    assert pynetns("exists", "..").triple() == (255, b"", b'Invalid netns name ".."\n')


def test_broken_entry_is_neither_existing_nor_added_over(netns_name):
    open(f"{RUN_DIR}/{netns_name}", "x").close()
    broken = f'"{netns_name}" is a plain file, not a network namespace\n'.encode()
    assert pynetns("exists", netns_name).triple() == (2, b"", broken)
    assert pynetns("add", "--exist-ok", netns_name).triple() == (1, b"", broken)
    assert pynetns("delete", netns_name).triple() == (0, b"", b"")


def test_exists_follows_a_symlink_to_a_namespace(netns_name):
    os.symlink(f"/proc/{os.getpid()}/ns/net", f"{RUN_DIR}/{netns_name}")
    assert pynetns("exists", netns_name).triple() == (0, b"", b"")


def test_exit_codes_are_in_the_help():
    r = pynetns("exists", "--help")
    text = b" ".join(r.out.split())
    assert b"exit 0 if NAME is a network namespace, 1 if there is no such entry, 2 if the" \
           b" entry is broken" in text
    assert b"3 if it is busy" in b" ".join(pynetns("delete", "--help").out.split())


LOCK_INTERPLAY = """
PYNETNS_TEST_PAUSE=add:placeholder $PYNETNS add held & writer=$!
until grep -q '^State:.*T' /proc/$writer/status; do sleep 0.01; done
$IP netns add other & ip=$!
sleep 0.5
kill -0 $ip && echo "ip waits"
start=$(date +%s%N)
$PYNETNS list 2>/run/list.err; echo "list rc=$?"
$PYNETNS exists held; echo "exists rc=$?"
echo "readers took $(( ($(date +%s%N) - start) / 1000000 )) ms"
kill -CONT $writer
wait $writer; echo "writer rc=$?"
wait $ip; echo "ip rc=$?"
"""


def test_ip_waits_for_a_pynetns_writer_and_readers_do_not_hang(world):
    """ip's set-up lock is the writers' lock: ip waits while a pynetns add is half-way (here
    stopped there), readers wait a bounded time then say what they see, and once the
    writer goes on everything completes."""
    r = world.run(["bash", "-c", LOCK_INTERPLAY], timeout=60,
                  env={"PYNETNS": PYNETNS, "IP": IP})
    lines = r.out.decode().splitlines()
    assert lines[0] == "ip waits"
    assert lines[1:3] == ["list rc=0", "exists rc=2"], r
    took = int(lines[3].split()[2])
    assert 2 * 2000 <= took < 2 * 2000 + 3000, lines[3]  # two readers, each READER_WAIT
    assert lines[4:] == ["writer rc=0", "ip rc=0"], r
    assert world.run(["cat", "/run/list.err"]).out == (
        b'"held" is a plain file, not a network namespace (remove it with: '
        b'pynetns delete held)\n')
    assert_clean(state(world), ["held", "other"])


HOT_PATH = ["json", "re", "subprocess", "click", "pyroute2", "pynetns.holders"]


def test_hot_paths_stay_light(world):
    """The normal path of the writers and readers imports nothing heavy; holders.py is for
    the error path only."""
    for argv in (["add", "h"], ["exists", "h"], ["list"], ["attach", "h2", "1"],
                 ["exec", "h", "true"], ["delete", "h"], ["delete", "h2"]):
        r = world.run([sys.executable, "-X", "importtime", PYNETNS, *argv])
        assert r.rc == 0, (argv, r)
        names = {line.rsplit(b"|", 1)[1].strip().decode()
                 for line in r.err.splitlines() if line.startswith(b"import time:")}
        assert not names & set(HOT_PATH), (argv, names & set(HOT_PATH))
