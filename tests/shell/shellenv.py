"""Real bash, zsh and fish completing pynetns command lines, in a world of fixed namespaces.

The world is a process holding a private mount namespace with a tmpfs on /run/netns, where
fixed namespaces and broken entries are made; every shell runs inside it (nsenter -m), so
the machine's own entries never show up and the candidates can be asserted exactly.
Each shell loads the completion file from where `pip install` put it under sys.prefix.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import fakeengine
from conftest import PYNETNS

PREFIX = Path(sys.prefix)
SHARE = PREFIX / "share"
INSTALLED = {
    "bash": SHARE / "bash-completion/completions/pynetns.bash",
    "zsh": SHARE / "zsh/site-functions/_pynetns",
    "fish": SHARE / "fish/vendor_completions.d/pynetns.fish",
}
SHELLS = tuple(INSTALLED)

NAMES = ["blue", "red", "with space"]
BROKEN = {"broken": "a plain file", "stale": "a dangling symlink"}
CONTAINERS = [("web", "0123456789abcdef" * 4), ("db", "fedcba9876543210" * 4)]
# A command of our own with known completions in each shell, to follow exec into.
PROBE = "pynetnsprobe"
PROBE_WORDS = ["alpha", "beta"]


class World:
    """The private /run/netns and what the shells need: PATH, HOME, a fake engine."""

    PATH = f"{Path(PYNETNS).parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.home = self.tmp / "home"
        self.cwd = self.tmp / "cwd"  # no directories: bash offers them with commands
        bindir = self.tmp / "bin"
        for d in (self.home, self.cwd, bindir):
            d.mkdir()
        (self.cwd / "cmds.batch").write_text("add x\n")  # for -batch FILE
        probe = bindir / PROBE
        probe.write_text("#!/bin/sh\n")
        probe.chmod(0o755)
        self.engine = FakeEngine(self.tmp / "engine.sock", CONTAINERS)
        # Podman is asked through its command (as attach asks it): one listing the same.
        (bindir / "podman").write_text("#!/bin/sh\necho '" + json.dumps(
            [{"Id": cid, "Names": [name]} for name, cid in CONTAINERS]) + "'\n")
        (bindir / "podman").chmod(0o755)
        self.env = {
            "PATH": f"{bindir}:{self.PATH}",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            # bash-completion's loader and fish look here for installed completions.
            "XDG_DATA_DIRS": f"{SHARE}:/usr/local/share:/usr/share",
            "TERM": "dumb",
            "LANG": "C.UTF-8",
            "DOCKER_HOST": f"unix://{self.engine.path}",
            "CONTAINER_HOST": f"unix://{self.engine.path}",
        }
        script = (
            "set -e\nmkdir -p /run/netns\nmount -t tmpfs tmpfs /run/netns\n"
            + "".join(f"$PYNETNS add '{n}'\n" for n in NAMES)
            + "touch /run/netns/broken\nln -s /proc/999999999/ns/net /run/netns/stale\n"
            "echo ready\nexec sleep infinity\n")
        self.holder = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "bash", "-c", script],
            env=dict(os.environ, PYNETNS=PYNETNS), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        if self.holder.stdout.readline() != "ready\n":
            self.holder.kill()
            raise RuntimeError(f"world set-up failed: {self.holder.stderr.read()}")

    def run(self, argv, env=None, timeout=60):
        """argv inside the world; returns the CompletedProcess (text)."""
        return subprocess.run(
            ["nsenter", "-t", str(self.holder.pid), "-m", f"--wd={self.cwd}", "--", *argv],
            env=dict(self.env, **(env or {})), capture_output=True,
            text=True, timeout=timeout)

    def close(self):
        self.holder.kill()
        self.holder.wait()
        self.engine.close()


class FakeEngine(fakeengine.FakeEngine):
    """A Docker/Podman API socket that lists fixed running containers (or never answers)."""

    def __init__(self, path, containers, answer=True):
        listing = [{"Id": cid, "Names": ["/" + name]} for name, cid in containers]
        super().__init__(path, {"/containers/json": (200, listing)}, answer)


def comp_words(line):
    """COMP_WORDS as readline splits ``line``: blanks end words, ':' and '=' are words of
    their own, quotes and backslashes keep what they protect in the word."""
    words, word, i = [], "", 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            word += line[i:i + 2]
            i += 2
            continue
        if c in "'\"":
            end = line.find(c, i + 1)
            end = len(line) if end < 0 else end + 1
            word += line[i:end]
            i = end
            continue
        if c in " \t":
            if word:
                words.append(word)
            word = ""
        elif c in ":=":
            if word:
                words.append(word)
            words.append(c)
            word = ""
        else:
            word += c
        i += 1
    words.append(word)
    return words


BASH = r'''
[[ $BARE ]] || source /usr/share/bash-completion/bash_completion
eval "$LOAD" && complete -p pynetns >/dev/null || exit 3
[[ $BARE ]] && declare -F _init_completion >/dev/null && exit 5  # bash-completion not hidden
complete -W "$PROBE_WORDS" "$PROBE"
COMP_LINE=$1
COMP_POINT=${#COMP_LINE}
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
spec=$(complete -p pynetns)
func=${spec#*-F }
func=${func%% *}
"$func" pynetns "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"
'''

# zsh completes only inside the line editor: drive an interactive zsh on a pseudo-terminal
# (zpty), press TAB, and record what reaches compadd after matching.
ZSH = r'''
zmodload zsh/zpty
out=$OUT
zpty -b comp zsh -f -i
zpty -w comp "PS1=''; fpath=($SITE_FUNCTIONS \$fpath)"
zpty -w comp "$LOAD"
zpty -w comp "_$PROBE() { compadd -- ${(z)PROBE_WORDS} }; compdef _$PROBE $PROBE"
zpty -w comp 'compadd() {
  if (( ${@[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi
  local -a hits; builtin compadd -A hits "$@"
  (( $#hits )) && print -rl -- $hits >> '$out'
  builtin compadd "$@"
}'
zpty -w comp "comppostfuncs=(_done); _done() { print -r -- '<done>' >> $out }"
zpty -w -n comp "$1"$'\t'
for i in {1..400}; do
  [[ -f $out ]] && grep -qx '<done>' $out && break
  sleep 0.05
done
zpty -d comp
grep -qx '<done>' $out 2>/dev/null || { print -u2 "zsh did not finish completing"; exit 4 }
grep -vx '<done>' $out || true
'''

# A machine without bash-completion: its directory hidden under an empty tmpfs.
WITHOUT_BASH_COMPLETION = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                           'mount -t tmpfs none /usr/share/bash-completion && exec "$@"', "sh"]

FISH = r'''eval $LOAD; complete -c $PROBE -f -a "$PROBE_WORDS"; complete -C"$LINE"'''

# How each shell gets the script: from where pip installed it, or as the man page says.
LOAD = {
    ("bash", "installed"): "__load_completion pynetns",
    ("zsh", "installed"): "autoload -Uz compinit; compinit -u -D",
    ("fish", "installed"): "true",
    ("bash", "sourced"): 'eval "$(pynetns completion bash)"',
    ("bash", "bare"): 'eval "$(pynetns completion bash)"',  # no bash-completion installed
    ("zsh", "sourced"): "source <(pynetns completion zsh)",  # no compinit before
    ("fish", "sourced"): "pynetns completion fish | source",
}


def complete(world, shell, line, env=None, load="installed"):
    """The candidates ``shell`` offers for ``line`` (cursor at its end), sorted."""
    env = dict({"PROBE": PROBE, "PROBE_WORDS": " ".join(PROBE_WORDS),
                "LOAD": LOAD[shell, load]}, **(env or {}))
    if load in ("sourced", "bare"):  # nothing installed in sight
        env["XDG_DATA_DIRS"] = "/usr/local/share:/usr/share"
    if shell == "bash":
        bare = load == "bare"
        env["BARE"] = "1" if bare else ""
        r = world.run([*(WITHOUT_BASH_COMPLETION if bare else []), "bash", "--norc",
                       "--noprofile", "-c", BASH, "bash", line, *comp_words(line)], env)
    elif shell == "zsh":
        out = world.tmp / f"zsh-{time.monotonic_ns()}"
        site = INSTALLED["zsh"].parent if load == "installed" else world.tmp
        env.update(OUT=str(out), SITE_FUNCTIONS=str(site))
        r = world.run(["zsh", "-f", "-c", ZSH, "zsh", line], env)
    else:
        r = world.run(["fish", "-c", FISH], dict(env, LINE=line))
    assert r.returncode == 0, (shell, line, r.stderr)
    values = [v.split("\t", 1)[0] for v in r.stdout.splitlines() if v]
    return sorted(dict.fromkeys(values))
