"""exec --pid supervises its command as nsenter does: signals sent to pynetns reach the
command, a stop stops both and a continue continues both, and pynetns ends by the signal
that ended the command (no core file), not with 128+N."""
import os
import resource
import signal
import subprocess
import time

import pytest

from conftest import PYNETNS, pynetns

from .test_exec_pid_targets import NO_PTRACE, Holder


@pytest.fixture
def target(netns_name):
    h = Holder(*NO_PTRACE, "sleep", "605")
    try:
        assert pynetns("attach", netns_name, str(h.pid)).rc == 0
        yield netns_name
    finally:
        h.close()


def _state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def _wait_for(predicate, what):
    for _ in range(500):
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(what)


def _as_a_foreground_job(argv):
    """argv started as a shell starts a foreground job, however the suite itself was started:
    SIGINT and SIGQUIT at their defaults (a shell's background job inherits them ignored,
    and pynetns, like Python, leaves an ignored SIGINT ignored), and in a process group of
    its own whose parent (this process) is in another group of the same session, so not
    orphaned (the kernel discards SIGTSTP sent to an orphaned group)."""
    def defaults():
        for sig in (signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
    return subprocess.Popen(argv, process_group=0, preexec_fn=defaults)


def _the_command(parent):
    """Host PID of pynetns's child: the command (an exec'd sleep)."""
    def started():
        with open(f"/proc/{parent}/task/{parent}/children") as f:
            kids = f.read().split()
        return kids and os.readlink(f"/proc/{kids[0]}/exe").endswith("/sleep") and kids
    _wait_for(started, "the command did not start")
    return int(started()[0])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGSEGV])
def test_dies_by_the_commands_signal(target, tmp_path, sig):
    """pynetns may dump core (its limit is raised here, core_pattern is "core" here); the
    command may not: a core file in the directory would be pynetns's."""
    def core_dumps_allowed():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2)

    r = subprocess.run([PYNETNS, "exec", "--pid", target, "sh", "-c",
                        f"ulimit -c 0; kill -{sig} $$"], capture_output=True, timeout=30,
                       cwd=tmp_path, preexec_fn=core_dumps_allowed)
    assert (r.returncode, r.stdout, r.stderr) == (-sig, b"", b"")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT,
                                 signal.SIGUSR1])
def test_signals_sent_to_pynetns_reach_the_command(target, sig):
    proc = _as_a_foreground_job([PYNETNS, "exec", "--pid", target, "sleep", "606"])
    try:
        command = _the_command(proc.pid)
        proc.send_signal(sig)
        assert proc.wait(10) == -sig
        assert not os.path.exists(f"/proc/{command}")  # no orphan left running
    finally:
        proc.kill()
        proc.wait()


def test_stop_and_continue_are_passed_on(target):
    proc = _as_a_foreground_job([PYNETNS, "exec", "--pid", target, "sleep", "607"])
    try:
        command = _the_command(proc.pid)
        proc.send_signal(signal.SIGTSTP)
        _wait_for(lambda: _state(command) == "T" and _state(proc.pid) == "T",
                  "SIGTSTP did not stop the command and pynetns")
        proc.send_signal(signal.SIGCONT)
        _wait_for(lambda: _state(command) == "S" and _state(proc.pid) == "S",
                  "SIGCONT did not continue both")
        os.kill(command, signal.SIGSTOP)  # stopped from elsewhere: pynetns stops with it
        _wait_for(lambda: _state(proc.pid) == "T", "pynetns did not stop with its command")
        proc.send_signal(signal.SIGCONT)
        _wait_for(lambda: _state(command) == "S", "the command was not continued")
        os.kill(command, signal.SIGTERM)
        assert proc.wait(10) == -signal.SIGTERM
    finally:
        proc.kill()
        proc.wait()


def test_in_a_batch_a_killed_command_is_128_plus_n(target, tmp_path):
    """-batch goes on after a command killed by a signal, as `ip -batch` does for exec."""
    batch = tmp_path / "batch"
    batch.write_text(f"netns exec --pid {target} sh -c 'kill -TERM $$'\nnetns list-id\n")
    r = pynetns("-force", "-batch", str(batch))
    assert r.rc == 1 and b"Traceback" not in r.err, r
