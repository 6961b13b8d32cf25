"""One edge for every error: every verb with stdout or stderr closed, full (/dev/full) or a
pipe nobody reads, stdin closed, `ulimit -n 16`, and ^C in the middle of an operation. No
traceback, ever, and the exit status ip has in the same situation (for pynetns's own verbs:
the status of a normal run, or death by SIGPIPE where the verb writes to the broken pipe).

Each run has its own private mount and network namespace with a fresh /run/netns.
"""
import os
import signal
import subprocess
import time

import pytest

from conftest import IP, PYNETNS

SETUP = "$IP netns add a; $IP netns add b; touch /run/netns/plain"
_SCRIPT = (
    "set -e; mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; set +e\n"
    "{ %s; } >/dev/null 2>&1 </dev/null\n"
    'case "$COND" in\n'
    '  out-closed) exec "$@" >&- ;;\n'
    '  err-closed) exec "$@" 2>&- ;;\n'
    '  in-closed) exec "$@" <&- ;;\n'
    '  out-full) exec "$@" >/dev/full ;;\n'
    '  err-full) exec "$@" 2>/dev/full ;;\n'
    '  fds16) ulimit -n 16; exec "$@" ;;\n'
    '  *) exec "$@" ;;\n'
    "esac\n")
CONDITIONS = ["normal", "out-closed", "err-closed", "in-closed", "out-full", "err-full",
              "out-broken", "err-broken", "fds16"]


def start(argv, cond="normal", stdin=subprocess.DEVNULL, setup=SETUP):
    """Popen of argv in a private mount+net namespace, with stdout/stderr as ``cond`` says;
    the pipes that are not the condition are captured."""
    out = err = subprocess.PIPE
    broken = None
    if cond in ("out-broken", "err-broken"):
        r, broken = os.pipe()
        os.close(r)  # nobody will ever read: the first write gets EPIPE / SIGPIPE
        if cond == "out-broken":
            out = broken
        else:
            err = broken
    env = dict(os.environ, IP=IP, PYNETNS=PYNETNS, COND=cond)
    try:
        return subprocess.Popen(
            ["unshare", "-m", "-n", "--propagation", "private", "bash", "-c",
             _SCRIPT % setup, "_", *argv], stdin=stdin, stdout=out, stderr=err, env=env)
    finally:
        if broken is not None:
            os.close(broken)


def run(argv, cond="normal", stdin=b""):
    return run_all([(argv, cond)], stdin)[0]


def run_all(runs, stdin=b""):
    """(rc, stdout, stderr) of each (argv, cond), all started at once."""
    procs = [start(argv, cond, stdin=subprocess.PIPE) for argv, cond in runs]
    results = []
    for proc in procs:
        out, err = proc.communicate(stdin, timeout=60)
        results.append((proc.returncode, out or b"", err or b""))
    return results


ME = str(os.getpid())
# (globals, verb words): ip has all of these.
IP_CASES = [
    ((), ["list"]), ((), []), ((), ["list-id"]), (("-j",), ["list"]), (("-j", "-p"), ["list-id"]),
    ((), ["identify"]), ((), ["identify", ME]), ((), ["pids", "a"]), ((), ["pids", "nope"]),
    ((), ["add", "c"]), ((), ["add", "a"]), ((), ["add", ".."]),
    ((), ["delete", "b"]), ((), ["delete", "nope"]), ((), ["delete", "plain"]),
    ((), ["set", "a", "9"]), ((), ["set", "a", "x"]), ((), ["set", "nope", "3"]),
    ((), ["attach", "c", ME]), ((), ["attach", "c", "0"]),
    ((), ["exec", "a", "echo", "hi"]), ((), ["exec", "nope", "true"]),
    ((), ["exec", "a", "nosuchcmd"]), (("-all",), ["exec", "echo", "hi"]),
    (("-all",), ["delete"]), ((), ["help"]), ((), ["foo"]), (("-V",), []),
    (("-n", "nope"), ["list"]), (("-n", "a"), ["list"]), (("-zzz",), ["list"]),
    (("-batch", "-"), []),
]
BATCH = b"netns add c\nnetns list\nnetns exec c echo in-c\nnetns delete nope\nnetns list\n"
# pynetns's own verbs and options.
OWN_CASES = [
    (("-d",), ["list"]), ((), ["list", "-d"]), ((), ["prune"]), ((), ["prune", "--dry-run"]),
    ((), ["exists", "a"]), ((), ["exists", "nope"]), ((), ["exists", "plain"]),
    ((), ["completion", "bash"]), (("--version",), []), ((), ["add", "--exist-ok", "a"]),
    ((), ["attach", "--symlink", "c", ME]),
]


def _label(case):
    return " ".join([*case[0], *case[1]]) or "(none)"


def _no_traceback(cond, err):
    if cond not in ("err-closed", "err-full", "err-broken"):
        assert b"Traceback" not in err and b"Exception ignored" not in err, err


def _writes(normal, cond):
    """Whether a run writes to the stream ``cond`` breaks, as its normal run shows."""
    return bool(normal[1] if cond == "out-broken" else normal[2] if cond == "err-broken"
                else b"")


def _expected(normal, cond):
    """The status of a run under ``cond`` as the tool's normal run predicts it: death by
    SIGPIPE where it writes to the broken pipe, else the normal status."""
    return -signal.SIGPIPE if _writes(normal, cond) else normal[0]


@pytest.mark.parametrize("case", IP_CASES, ids=_label)
def test_ip_verbs_at_the_edges(case):
    globals, words = case
    stdin = BATCH if "-batch" in globals else b""
    ip_argv, py_argv = [IP, *globals, "netns", *words], [PYNETNS, *globals, *words]
    # ip -batch - with fd 0 closed reads its own netlink socket (fd 0 by then), forever.
    conds = [c for c in CONDITIONS if not (c == "in-closed" and "-batch" in globals)]
    results = run_all([(a, c) for c in conds for a in (ip_argv, py_argv)], stdin)
    ip_normal, py_normal = results[0], results[1]
    assert b"Traceback" not in py_normal[2]
    for i, cond in enumerate(conds[1:], 1):
        ip, py = results[2 * i], results[2 * i + 1]
        _no_traceback(cond, py[2])
        if cond.endswith("broken") and _writes(ip_normal, cond) != _writes(py_normal, cond):
            # Only one of them writes there (pynetns does not repeat every ip error line,
            # e.g. list-id's about broken entries): each dies as what it writes predicts.
            assert py[0] == _expected(py_normal, cond), f"{cond}: ip {ip} vs pynetns {py}"
        else:
            assert py[0] == ip[0], f"{cond}: ip {ip} vs pynetns {py}"


@pytest.mark.parametrize("case", OWN_CASES, ids=_label)
def test_own_verbs_at_the_edges(case):
    globals, words = case
    argv = [PYNETNS, *globals, *words]
    results = run_all([(argv, c) for c in CONDITIONS])
    normal = results[0]
    assert b"Traceback" not in normal[2]
    for cond, (rc, _, err) in zip(CONDITIONS[1:], results[1:]):
        _no_traceback(cond, err)
        assert rc == _expected(normal, cond), (cond, rc, err, normal)


def _interrupt(argv, stdin=subprocess.DEVNULL, setup=SETUP, after=0.5):
    proc = start(argv, stdin=stdin, setup=setup)
    time.sleep(after)
    proc.send_signal(signal.SIGINT)  # bash exec'd the tool: this is its PID
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


@pytest.mark.parametrize("tool", ["ip", "pynetns"])
def test_sigint_during_monitor(tool):
    argv = [IP, "netns", "monitor"] if tool == "ip" else [PYNETNS, "monitor"]
    rc, _out, err = _interrupt(argv)
    assert rc == -signal.SIGINT and err == b"", (rc, err)


@pytest.mark.parametrize("tool", ["ip", "pynetns"])
def test_sigint_while_a_batch_waits_for_stdin(tool):
    argv = [IP, "-batch", "-"] if tool == "ip" else [PYNETNS, "-batch", "-"]
    r, w = os.pipe()
    try:
        rc, _out, err = _interrupt(argv, stdin=r)
    finally:
        os.close(r)
        os.close(w)
    assert rc == -signal.SIGINT and err == b"", (rc, err)


def test_sigint_in_a_long_batch(tmp_path):
    """^C between (or inside) the lines of a long batch of adds and deletes: the process
    dies of SIGINT, with no traceback, like ip."""
    batch = tmp_path / "batch"
    batch.write_text("".join(f"netns add n{i}\nnetns delete n{i}\n" for i in range(5000)))
    for argv in ([IP, "-batch", str(batch)], [PYNETNS, "-batch", str(batch)]):
        rc, _out, err = _interrupt(argv, after=0.4)
        assert rc == -signal.SIGINT and b"Traceback" not in err, (argv, rc, err)


def test_monitor_into_a_closed_pipe_dies_of_sigpipe():
    """`pynetns monitor | head -1`: the second event's write kills it, as a full buffer
    kills ip (which does not flush each line, so `ip netns monitor | head -1` waits)."""
    proc = subprocess.Popen(
        ["unshare", "-m", "-n", "--propagation", "private", "bash", "-c",
         'mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns\n'
         '(sleep 0.4; $IP netns add x; sleep 0.2; $IP netns add y; sleep 0.2;'
         ' $IP netns add z) >/dev/null 2>&1 &\n'
         '"$@" | head -1; echo "${PIPESTATUS[0]}"', "_", PYNETNS, "monitor"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, IP=IP))
    out, err = proc.communicate(timeout=30)
    assert out == b"add x\n141\n" and err == b"", (out, err)
