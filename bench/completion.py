#!/usr/bin/env python3
"""How long a TAB press takes: `pynetns __complete` and bash's completion function, with 100
namespaces (and a broken entry) present. Prints medians in ms; exits 1 when one misses the
100 ms target.

    .venv/bin/python bench/completion.py [--quick] [--runs N] [--namespaces N] [--venv DIR]

Needs root; installs bash-completion when it is missing. It re-executes itself under
`unshare -m --propagation private` with a tmpfs on /run/netns, so its namespaces are never
seen on the host and die with it. The venv's own `pynetns` ($PYNETNS if set, as bench/run.py
passes it) is spawned directly: no shell, no pyenv shim.
"""
import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from run import timed  # bench/run.py: this script's directory is first in sys.path

ROOT = Path(__file__).resolve().parent.parent
INNER = "PYNETNS_BENCH_COMPLETION_PRIVATE"
TARGET_MS = 100
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"

# One shell, many TAB presses: what a user's running shell pays per press.
BASH_LOOP = r'''
[[ -r $1 ]] && source "$1"
eval "$("$PYNETNS" completion bash)"
COMP_LINE="pynetns exec "
COMP_POINT=${#COMP_LINE}
COMP_WORDS=(pynetns exec "")
COMP_CWORD=2
for ((i = 0; i < $2; i++)); do
    start=$EPOCHREALTIME
    COMPREPLY=()
    _pynetns pynetns "" exec 2>/dev/null
    end=$EPOCHREALTIME
    echo "$(( ${end/./} - ${start/./} )) ${#COMPREPLY[@]}"
done
'''


def median_ms(argv, env, runs):
    timed(argv, env)  # warm the page cache
    return statistics.median(timed(argv, env) for _ in range(runs)) * 1000


def bash_median_ms(env, runs, expected):
    r = subprocess.run(["bash", "--norc", "-c", BASH_LOOP, "bash", BASH_COMPLETION,
                        str(runs + 1)], env=env, capture_output=True, text=True, check=True)
    rows = [line.split() for line in r.stdout.splitlines()][1:]  # the first warms up
    offered = {int(n) for _, n in rows}
    if offered != {expected}:
        sys.exit(f"bench: bash offered {offered} names, not {expected}: {r.stderr}")
    return statistics.median(int(us) for us, _ in rows) / 1000


def populate(pynetns, count, env):
    """count namespaces in one -batch run, and a plain file that must not be offered."""
    lines = "".join(f"add bench-{i}\n" for i in range(count))
    subprocess.run([pynetns, "-batch", "-"], input=lines.encode(), env=env, check=True)
    open("/run/netns/broken", "w").close()
    r = subprocess.run([pynetns, "__complete", "1", "exec", ""], env=env,
                       capture_output=True, text=True, check=True)
    offered = r.stdout.splitlines()[1:]
    if len(offered) != count or "broken" in offered:
        sys.exit(f"bench: the helper offers {len(offered)} names, not the {count} made")


def measure(args):
    pynetns = os.environ.get("PYNETNS") or str(Path(args.venv) / "bin" / "pynetns")
    if not os.access(pynetns, os.X_OK):
        sys.exit(f"bench: no pynetns at {pynetns} (run ./scripts/install first)")
    with open(pynetns, "rb") as f:
        python = f.readline()[2:].decode().split()[0]
    env = {"PATH": f"{Path(pynetns).parent}:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", "PYNETNS": pynetns,
           "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    populate(pynetns, args.namespaces, env)

    helper = [pynetns, "__complete"]
    cases = [
        ("exec NAME: namespace names", helper + ["1", "exec", ""]),
        ("attach NAME PID: processes", helper + ["2", "attach", "x", ""]),
        ("verbs", helper + ["0", ""]),
        ("attach NAME docker:C, no engine", helper + ["2", "attach", "x", "docker:"]),
    ]
    rows = [(f"__complete {title}", median_ms(argv, env, args.runs)) for title, argv in cases]
    # When bash-completion could not be installed, the script's own word splitting is timed.
    without = "" if os.path.exists(BASH_COMPLETION) else ", without bash-completion"
    rows.append((f"bash: TAB after `pynetns exec ` (in a running shell{without})",
                 bash_median_ms(env, args.runs, args.namespaces)))
    floor = median_ms([python, "-c", "pass"], env, args.runs)

    print(f"completion with {args.namespaces} namespaces and a broken entry, "
          f"median of {args.runs} (target < {TARGET_MS} ms)\n")
    print("| request | median ms |")
    print("|---|---:|")
    for title, ms in rows:
        print(f"| {title} | {ms:.1f} |")
    print(f"| (floor: {python} -c pass) | {floor:.1f} |")
    missed = [title for title, ms in rows if ms >= TARGET_MS]
    print(f"\n{len(missed)} over target" + (": " + "; ".join(missed) if missed else ""))
    return 1 if missed else 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer runs: a smoke test")
    p.add_argument("--runs", type=int, help="timed runs per case (default 21, quick 5)")
    p.add_argument("--namespaces", type=int, default=100)
    p.add_argument("--venv", default=str(ROOT / ".venv"), help="venv holding pynetns")
    args = p.parse_args(argv)
    if args.runs is None:
        args.runs = 5 if args.quick else 21
    if os.environ.get(INNER) != "1":
        if os.geteuid() != 0:
            sys.exit("bench: needs root")
        if not os.path.exists(BASH_COMPLETION):  # what most users' bash has: time that
            subprocess.run([str(ROOT / "scripts" / "apt-need"), "bash-completion"])
        os.environ[INNER] = "1"
        os.execvp("unshare", ["unshare", "-m", "--propagation", "private", sys.executable,
                              __file__, *argv])
    os.makedirs("/run/netns", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/netns"], check=True)
    return measure(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
