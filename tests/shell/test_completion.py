"""Tab completion in real bash, zsh and fish, asserted exactly against fixed namespaces.

The world (shellenv.World) has the namespaces NAMES, two broken entries that only delete
offers, a fake Docker API and `podman` command listing CONTAINERS, and a command PROBE whose own
completion the shells must reach through `exec NAME`.
"""
import statistics
import subprocess
import time

import pytest

from conftest import PYNETNS, in_private_run_dir
from pynetns.cli import grammar
from shellenv import (BROKEN, INSTALLED, NAMES, PROBE, PROBE_WORDS, SHELLS, FakeEngine, World,
                      complete)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("shells"))
    yield w
    w.close()


def shown(shell, values, line):
    """``values`` as ``shell`` hands them over: bash and zsh quote blanks, and bash leaves
    out what comes before a ':' in the current word (bash-completion's colon rule)."""
    cur = line.rsplit(" ", 1)[-1]
    result = []
    for v in values:
        if shell in ("bash", "zsh"):
            v = v.replace(" ", "\\ ")
        if shell == "bash" and ":" in cur:
            v = v[cur.rindex(":") + 1:]
        result.append(v)
    return sorted(result)


def _verb_options(name):
    return [n for o in grammar.VERB_BY_NAME[name].options for n in o.names]


SHOWN_GLOBALS = [n for o in grammar.GLOBALS if not o.help.startswith("ignored")
                 for n in o.names]

CASES = [
    # verbs and global options, straight from grammar.py
    ("pynetns ", [v.name for v in grammar.VERBS]),
    ("pynetns ex", [v.name for v in grammar.VERBS if v.name.startswith("ex")]),
    ("pynetns -", SHOWN_GLOBALS),
    ("pynetns --js", ["--json"]),
    ("pynetns -j -p ", [v.name for v in grammar.VERBS]),
    ("pynetns add --", [n for n in _verb_options("add") if n.startswith("--")]),
    ("pynetns list -", _verb_options("list")),
    # namespace names: real ones only, never the broken entries
    ("pynetns exec ", NAMES),
    ("pynetns delete ", sorted(NAMES + list(BROKEN))),  # list says: pynetns delete NAME
    ("pynetns pids ", NAMES),
    ("pynetns exists ", NAMES),
    ("pynetns set ", NAMES),
    ("pynetns -n ", NAMES),
    ("pynetns e r", ["red"]),
    ("pynetns exec with\\ ", ["with space"]),
    ("pynetns -all delete ", []),
    ("pynetns add ", []),
    # other arguments
    ("pynetns set blue ", ["auto"]),
    ("pynetns list-id ", ["nsid", "target-nsid"]),
    ("pynetns completion ", ["bash", "fish", "zsh"]),
    ("pynetns -b cmds.b", ["cmds.batch"]),
    # containers
    ("pynetns attach web dock", ["docker:"]),
    ("pynetns attach web docker:", ["docker:db", "docker:web"]),
    ("pynetns attach web podman:w", ["podman:web"]),
    # exec's command, completed as the shell completes any command line
    (f"pynetns exec blue {PROBE[:-2]}", [PROBE]),
    (f"pynetns exec blue {PROBE} ", PROBE_WORDS),
    (f"pynetns exec with\\ space {PROBE} a", ["alpha"]),
    (f"pynetns -all exec {PROBE} b", ["beta"]),
    ("pynetns exec --pid docker:w", ["docker:web"]),
    ("pynetns exec --pid d", ["docker:"]),
    ("pynetns exec p", ["pod:", "podman:"]),
    ("pynetns exec podman:", ["podman:db", "podman:web"]),
    ("pynetns exec --pid b", ["blue"]),
    (f"pynetns exec --pid docker:web {PROBE} ", PROBE_WORDS),
    ("pynetns exec blue cat --number", ["--number", "--number-nonblank"]),
]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("line, expected", CASES, ids=[c[0] for c in CASES])
def test_candidates(world, shell, line, expected):
    assert complete(world, shell, line) == shown(shell, expected, line)


# Without bash-completion a command after exec gets the command's own complete spec or file
# names: cat's long options come from bash-completion's loader, so that case is left out.
BARE_CASES = [c for c in CASES if "cat --number" not in c[0]]


@pytest.mark.parametrize("line, expected", BARE_CASES, ids=[c[0] for c in BARE_CASES])
def test_bash_without_bash_completion(world, line, expected):
    assert complete(world, "bash", line, load="bare") == shown("bash", expected, line)


def test_bash_without_bash_completion_offers_files_after_a_command(world):
    assert complete(world, "bash", "pynetns exec blue cat cmds", load="bare") == ["cmds.batch"]


def test_world_has_broken_entries(world):
    r = world.run([PYNETNS, "list"])
    assert sorted(r.stdout.splitlines()) == NAMES
    for name, problem in BROKEN.items():
        assert f'"{name}" is {problem}' in r.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_pids_are_user_processes(world, shell):
    """attach and identify offer PIDs (not kernel threads); attach also the engines and pod:."""
    holder = str(world.holder.pid)
    identify = complete(world, shell, "pynetns identify ")
    attach = complete(world, shell, "pynetns attach web ")
    assert holder in identify and "1" in identify
    assert "2" not in identify  # kthreadd
    assert all(p.isdigit() for p in identify)
    assert [a for a in attach if not a.isdigit()] == shown(shell, ["docker:", "pod:", "podman:"],
                                                           "")


@pytest.mark.parametrize("shell", SHELLS)
def test_loaded_as_the_man_page_says(world, shell):
    assert complete(world, shell, "pynetns exec ", load="sourced") == shown(shell, NAMES, "")


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_verb_prints_the_installed_script(shell):
    r = subprocess.run([PYNETNS, "completion", shell], capture_output=True, text=True)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == INSTALLED[shell].read_text()


def test_completion_verb_refuses_other_shells():
    r = subprocess.run([PYNETNS, "completion", "tcsh"], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (1, "")
    assert "bash|zsh|fish" in r.stderr


def _helper(world, *words, env=None):
    """`pynetns __complete` for the last of words: (seconds, stdout, stderr)."""
    start = time.monotonic()
    r = world.run([PYNETNS, "__complete", str(len(words) - 1), *words], env)
    return time.monotonic() - start, r.stdout, r.stderr


def _podman_stub(tmp_path, body):
    """A `podman` command first in PATH that does ``body`` (sh)."""
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "podman").write_text(f"#!/bin/sh\n{body}\n")
    (stub / "podman").chmod(0o755)
    return {"PATH": f"{stub}:{World.PATH}"}


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_missing_engine_gives_nothing_at_once(world, tmp_path, engine):
    env = dict(_podman_stub(tmp_path, "echo 'Cannot connect to Podman' >&2; exit 125"),
               DOCKER_HOST=f"unix://{tmp_path}/none.sock",
               CONTAINER_HOST=f"unix://{tmp_path}/none.sock")
    took, out, err = _helper(world, "attach", "web", f"{engine}:", env=env)
    assert (out, err) == ("words\n", "")
    assert took < 0.5
    for shell in SHELLS:
        assert complete(world, shell, f"pynetns attach web {engine}:", env) == []


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_hung_engine_times_out(world, tmp_path, engine):
    """An engine that accepts the connection and never answers (or a podman command that
    hangs) costs the helper its timeout, not the user's shell."""
    hung = FakeEngine(tmp_path / "hung.sock", [], answer=False)
    env = dict(_podman_stub(tmp_path, "exec sleep 60"),
               DOCKER_HOST=f"unix://{hung.path}", CONTAINER_HOST=f"unix://{hung.path}")
    try:
        took, out, err = _helper(world, "attach", "web", f"{engine}:", env=env)
    finally:
        hung.close()
    assert (out, err) == ("words\n", "")
    assert took < 2.5


def test_fast_with_100_namespaces():
    """A TAB press answers well under 100 ms with 100 namespaces (bench/completion.py
    reports the figure)."""
    r = in_private_run_dir("""
        for i in $(seq 100); do $PYNETNS add ns$i; done
        touch /run/netns/broken
        $PYNETNS __complete 1 exec '' | tail -n +2 | wc -l
        for i in 1 2 3 4 5 6 7; do
            s=$EPOCHREALTIME; $PYNETNS __complete 1 exec '' >/dev/null; e=$EPOCHREALTIME
            echo $(( (${e/./} - ${s/./}) / 1000 ))
        done
    """)
    assert r.rc == 0, r.err
    count, *times = r.out.decode().split()
    assert count == "100"
    assert statistics.median(int(t) for t in times) < 100


def test_run_dir_not_a_directory_offers_nothing():
    r = in_private_run_dir("""
        umount /run/netns
        mount -t tmpfs tmpfs /run
        touch /run/netns
        $PYNETNS __complete 1 exec ''
    """)
    assert (r.rc, r.out, r.err) == (0, b"words\n", b"")


@pytest.mark.engine
@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_real_engine_containers(engine):
    """The running containers of a real engine, by name, and nothing when stopped."""
    from engines.support import Engine, require
    require(engine)
    e = Engine(engine)
    try:
        name = e.start("compl")
        word = f"{engine}:{name[:-3]}"
        r = subprocess.run([PYNETNS, "__complete", "2", "attach", "x", word],
                           capture_output=True, text=True, timeout=30)
        offered = [line.split("\t")[0] for line in r.stdout.splitlines()[1:]]
        assert (r.returncode, r.stderr) == (0, "")
        assert [c for c in offered if c.startswith(word)] == [f"{engine}:{name}"]
        e.stop(name)
        r = subprocess.run([PYNETNS, "__complete", "2", "attach", "x", word],
                           capture_output=True, text=True, timeout=30)
        assert f"{engine}:{name}" not in r.stdout
    finally:
        e.remove_all()
