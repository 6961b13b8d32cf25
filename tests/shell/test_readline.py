"""TAB pressed in an interactive bash under tmux: real readline, from a shell that has only
run the man page's one line (no bash-completion loaded beforehand), on a machine with
bash-completion installed and on one without it.

test_completion drives bash's completion function with COMP_WORDS of its own making; this
checks what that cannot: readline's word splitting, the inserted text, and no space after
an engine prefix.
"""
import re
import shlex
import subprocess
import time

import pytest

from shellenv import NAMES, WITHOUT_BASH_COMPLETION, World

PROMPT = "READY$ "


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("readline"))
    yield w
    w.close()


class Tmux:
    """One bash -i in a detached tmux session on a private server socket."""

    def __init__(self, world, tmp, wrap=()):
        self.socket = str(tmp / "tmux.sock")
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in world.env.items())
        inner = (f"nsenter -t {world.holder.pid} -m --wd={world.cwd} -- "
                 + "".join(shlex.quote(w) + " " for w in wrap) +
                 f"env -i {env} TERM=screen PS1={shlex.quote(PROMPT)} "
                 "bash --norc --noprofile -i")
        self.tmux("new-session", "-d", "-x", "200", "-y", "50", inner)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                              text=True, check=True, timeout=30).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-N").rstrip("\n")  # -N: keep the blanks typed

    def wait_for(self, predicate, what):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")

    def type(self, *keys):
        self.tmux("send-keys", *keys)

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


@pytest.fixture(params=["bash-completion", "without bash-completion"])
def bash(world, tmp_path, request):
    bare = request.param.startswith("without")
    t = Tmux(world, tmp_path, WITHOUT_BASH_COMPLETION if bare else ())
    try:
        t.wait_for(lambda s: s.endswith(PROMPT), "the prompt")
        t.type('eval "$(pynetns completion bash)"; declare -F _init_completion >/dev/null '
               '&& echo "bash-completion: loaded" || echo "bash-completion: absent"', "Enter")
        screen = t.wait_for(lambda s: re.search(r"^bash-completion: \w+$", s, re.M),
                            "the script to load")
        assert f"bash-completion: {'absent' if bare else 'loaded'}" in screen
        t.type("clear", "Enter")
        t.wait_for(lambda s: s.strip() == PROMPT.strip(), "a clear screen")
        yield t
    finally:
        t.close()


def tab(t, text, expect):
    """Type text and TAB; the input line must become ``expect``."""
    t.type("-l", text)
    t.type("Tab")
    t.wait_for(lambda s: s.splitlines()[-1] == PROMPT + expect, repr(expect))


def test_verb_and_name_are_inserted(bash):
    tab(bash, "pynetns exe", "pynetns exec ")
    tab(bash, "r", "pynetns exec red ")


def test_blank_in_a_name_is_quoted(bash):
    tab(bash, "pynetns pids wi", "pynetns pids with\\ space ")


def test_engine_prefix_takes_no_space_and_names_follow(bash):
    tab(bash, "pynetns attach web dock", "pynetns attach web docker:")
    tab(bash, "w", "pynetns attach web docker:web ")


def test_exec_completes_the_command_name(bash):
    tab(bash, "pynetns exec blue pynetnsprob", "pynetns exec blue pynetnsprobe ")


def test_both_tabs_list_the_real_namespaces(bash):
    bash.type("-l", "pynetns exec ")
    bash.type("Tab", "Tab")
    screen = bash.wait_for(lambda s: "blue" in s, "the list")
    listed = re.split(r"\s{2,}", screen.splitlines()[-2].strip())  # readline's columns
    assert listed == [n.replace(" ", "\\ ") for n in NAMES]
