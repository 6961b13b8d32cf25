"""`exec`: exit status, signals, exec failures, scripts without a shebang, default signal
dispositions, /etc/netns/NAME binds, and that nothing leaks back to the caller.

ip and pynetns run the same command in the same (suite-named) namespace.
"""
import os
import shutil
import sys

import pytest

from conftest import IP, PYNETNS, ip_netns, pynetns, run


@pytest.fixture
def ns(netns_name):
    assert pynetns("add", netns_name).rc == 0
    return netns_name


def same_exec(ns, *argv, **kw):
    ip = ip_netns("exec", ns, *argv, **kw)
    py = pynetns("exec", ns, *argv, **kw)
    assert py.triple() == ip.triple()
    return py


@pytest.mark.parametrize("status", [0, 1, 7, 127, 255])
def test_exit_status_passes_through(ns, status):
    assert same_exec(ns, "sh", "-c", f"exit {status}").rc == status


@pytest.mark.parametrize("sig", [1, 9, 15])
def test_signal_kills_the_tool_itself(ns, sig):
    # No fork: the signal ends the process we started, so a shell sees 128+N.
    assert same_exec(ns, "sh", "-c", f"kill -{sig} $$").rc == -sig
    ip = run(["sh", "-c", f'"$0" netns exec {ns} sh -c "kill -{sig} \\$\\$"; echo $?', IP])
    py = run(["sh", "-c", f'"$0" exec {ns} sh -c "kill -{sig} \\$\\$"; echo $?', PYNETNS])
    assert py.triple() == ip.triple()
    assert py.out == f"{128 + sig}\n".encode()


@pytest.mark.parametrize("cmd, reason", [
    ("nosuchcommand-pynetns", "No such file or directory"),
    ("/nonexistent/cmd", "No such file or directory"),
    ("/etc", "Permission denied"),
    ("", "No such file or directory"),
])
def test_exec_failure_message(ns, cmd, reason):
    r = same_exec(ns, cmd)
    assert r.triple() == (1, b"", f'exec of "{cmd}" failed: {reason}\n'.encode())


def test_exec_replaces_the_process(ns):
    # No fork: the command's parent is whoever started pynetns (this test process).
    r = same_exec(ns, "sh", "-c", "echo $PPID")
    assert r.out == f"{os.getpid()}\n".encode()


def test_command_runs_in_the_namespace(ns):
    inode = os.stat(f"/run/netns/{ns}").st_ino
    r = same_exec(ns, "stat", "-L", "-c", "%i", "/proc/self/ns/net")
    assert r.out == f"{inode}\n".encode()
    assert same_exec(ns, "ls", "/sys/class/net").out == b"lo\n"


def test_script_without_shebang(ns, tmp_path):
    script = tmp_path / "noshebang"
    script.write_text('echo "args: $0 $*"\nexit 5\n')
    script.chmod(0o755)
    r = same_exec(ns, str(script), "x", "y z")
    assert r.triple() == (5, f"args: {script} x y z\n".encode(), b"")
    # Found through PATH too, as libc's execvp does.
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")
    ip = ip_netns("exec", ns, "noshebang", env=env)
    py = pynetns("exec", ns, "noshebang", env=env)
    assert py.triple() == ip.triple() == (5, f"args: {script} \n".encode(), b"")


def test_not_executable_in_path_is_permission_denied(ns, tmp_path):
    (tmp_path / "plainfile").write_text("echo no\n")
    env = dict(os.environ, PATH=f"{tmp_path}:/usr/bin:/bin")
    ip = ip_netns("exec", ns, "plainfile", env=env)
    py = pynetns("exec", ns, "plainfile", env=env)
    assert py.triple() == ip.triple() == (1, b"", b'exec of "plainfile" failed: '
                                                  b'Permission denied\n')


def test_sigpipe_is_default(ns):
    # With SIGPIPE ignored (Python's default) `yes` would see EPIPE, complain and exit 1.
    r = same_exec(ns, "bash", "-c", "yes | head -1; echo ${PIPESTATUS[0]}")
    assert r.triple() == (0, b"y\n141\n", b"")


def test_sigxfsz_is_default(ns, tmp_path):
    argv = ("bash", "-c", f"ulimit -f 1; head -c 8192 /dev/zero >{tmp_path}/big; echo $?")
    ip = ip_netns("exec", ns, *argv)
    py = pynetns("exec", ns, *argv)
    # 128 + SIGXFSZ: killed, not a write error (bash's report names the PID: not compared).
    assert (py.rc, py.out) == (ip.rc, ip.out) == (0, b"153\n")
    assert b"File size limit exceeded" in py.err


def test_environment_and_cwd_are_kept(ns, tmp_path):
    env = dict(os.environ, PYNETNS_TEST_VAR="kept")
    ip = ip_netns("exec", ns, "sh", "-c", "echo $PYNETNS_TEST_VAR; pwd", env=env)
    py = pynetns("exec", ns, "sh", "-c", "echo $PYNETNS_TEST_VAR; pwd", env=env)
    assert py.triple() == ip.triple()
    assert py.out == f"kept\n{os.getcwd()}\n".encode()


def test_mounts_do_not_leak_back(ns):
    with open("/proc/self/mountinfo") as f:
        before = f.read()
    same_exec(ns, "sh", "-c", "mount -t tmpfs pynetns-leak /mnt && echo mounted")
    with open("/proc/self/mountinfo") as f:
        after = f.read()
    assert "pynetns-leak" not in after
    assert after.count(" /sys ") == before.count(" /sys ")


@pytest.fixture
def etc_netns(ns):
    """/etc/netns/NS/ with a resolv.conf and a file /etc does not have; removed after."""
    made_parent = not os.path.isdir("/etc/netns")
    path = f"/etc/netns/{ns}"
    os.makedirs(path)
    try:
        with open(f"{path}/resolv.conf", "w") as f:
            f.write(f"# resolv.conf for {ns}\nnameserver 192.0.2.53\n")
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        if made_parent:
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass  # someone else put something there meanwhile


def test_etc_netns_files_are_bound_over_etc(ns, etc_netns):
    with open("/etc/resolv.conf", "rb") as f:
        host = f.read()
    r = same_exec(ns, "cat", "/etc/resolv.conf")
    assert r.triple() == (0, f"# resolv.conf for {ns}\nnameserver 192.0.2.53\n".encode(), b"")
    with open("/etc/resolv.conf", "rb") as f:
        assert f.read() == host


def test_etc_netns_bind_failure_is_a_warning(ns, etc_netns):
    with open(f"{etc_netns}/pynetns-no-such-file", "w") as f:
        f.write("x\n")
    r = same_exec(ns, "cat", "/etc/resolv.conf")
    assert r.rc == 0 and r.out.startswith(b"# resolv.conf for")
    assert r.err == (f"Bind {etc_netns}/pynetns-no-such-file -> /etc/pynetns-no-such-file "
                     f"failed: No such file or directory\n").encode()


def test_no_etc_netns_binds_for_a_255_byte_name(netns_name):
    name = netns_name.another("l" * (255 - len(netns_name)))
    assert len(name) == 255 and pynetns("add", name).rc == 0
    made_parent = not os.path.isdir("/etc/netns")
    os.makedirs(f"/etc/netns/{name}")
    try:
        with open(f"/etc/netns/{name}/resolv.conf", "w") as f:
            f.write("# not bound\n")
        with open("/etc/resolv.conf", "rb") as f:
            host = f.read()
        assert same_exec(name, "cat", "/etc/resolv.conf").triple() == (0, host, b"")
    finally:
        shutil.rmtree(f"/etc/netns/{name}")
        if made_parent:
            os.rmdir("/etc/netns")


def test_library_exec_in_is_the_cli_exec(ns, etc_netns):
    # Its default warn writes the bind failure to stderr, as the CLI does.
    with open(f"{etc_netns}/pynetns-no-such-file", "w") as f:
        f.write("x\n")
    argv = ["sh", "-c", "cat /etc/resolv.conf; readlink /proc/self/ns/net; exit 3"]
    lib = run([sys.executable, "-c",
               f"import sys, pynetns; sys.exit(pynetns.exec_in({ns!r}, {argv!r}))"])
    cli = pynetns("exec", ns, *argv)
    assert lib.triple() == cli.triple()
    assert lib.rc == 3 and lib.out.startswith(b"# resolv.conf for") and b"Bind " in lib.err


@pytest.mark.parametrize("path", ["", "::/usr/bin:/bin", "/nonexistent:"])
def test_empty_path_element_is_the_cwd(ns, tmp_path, path):
    script = tmp_path / "noshebang"
    script.write_text('echo "args: $0"\n')
    script.chmod(0o755)
    env = dict(os.environ, PATH=path)
    argv = ["exec", ns, "noshebang"]
    ip = run([IP, "netns", *argv], env=env, cwd=tmp_path)
    py = run([PYNETNS, *argv], env=env, cwd=tmp_path)
    assert py.triple() == ip.triple() == (0, b"args: noshebang\n", b"")


def test_unset_path_uses_the_default(ns):
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    ip = ip_netns("exec", ns, "true", env=env)
    py = pynetns("exec", ns, "true", env=env)
    assert py.triple() == ip.triple() == (0, b"", b"")


def test_symlink_loop_in_path(ns, tmp_path):
    (tmp_path / "loop").symlink_to("loop")
    env = dict(os.environ, PATH=f"{tmp_path}:/usr/bin:/bin")
    ip = ip_netns("exec", ns, "loop", env=env)
    py = pynetns("exec", ns, "loop", env=env)
    assert py.triple() == ip.triple() == (
        1, b"", b'exec of "loop" failed: Too many levels of symbolic links\n')


@pytest.mark.parametrize("env", [
    {"LANG": "C"}, {"LC_ALL": "C"}, {"LANG": "POSIX"}, {},
    {"LANG": "C", "LC_CTYPE": "C.UTF-8"},  # set by the caller: kept
    {"LANG": "C", "PYTHONCOERCECLOCALE": "0"},
    {"LANG": "C", "PYTHONUTF8": "1"},
])
def test_the_command_gets_the_callers_exact_environment(ns, env):
    """Python's start-up coerces a C/POSIX locale by setting LC_CTYPE (PEP 538) in its own
    environment; the command must not inherit that (cron, systemd units, LANG=C wrappers)."""
    env = {"PATH": os.environ["PATH"], **env}
    py = same_exec(ns, "env", env=env)
    assert sorted(py.out.decode().splitlines()) == sorted(f"{k}={v}" for k, v in env.items())


@pytest.mark.parametrize("prefix", ["docker:", "podman:", "pod:"])
def test_an_entry_named_like_a_container_is_that_entry(prefix):
    """ip enters /run/netns/docker:web: so does pynetns (no engine asked), with -netns too."""
    from conftest import remove_entry, unique
    name = prefix + unique()
    try:
        assert ip_netns("add", name).rc == 0
        want = ip_netns("exec", name, "readlink", "/proc/self/ns/net")
        assert want.rc == 0 and want.out != run(["readlink", "/proc/self/ns/net"]).out
        assert same_exec(name, "readlink", "/proc/self/ns/net").out == want.out
        got = pynetns("-netns", name, "exec", name, "readlink", "/proc/self/ns/net")
        assert got.triple() == ip_netns("exec", name, "readlink", "/proc/self/ns/net",
                                        globals=("-netns", name)).triple()
    finally:
        remove_entry(name)
