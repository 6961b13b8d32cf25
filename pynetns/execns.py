"""Entering a named namespace: what `ip netns exec` does between open() and execvp().

switch() changes the calling thread for good (the process is about to exec); entered() is
the reversible form for library users.
"""
import os
import sys

from . import _sys, store
from .errors import CommandFailed, SystemCallFailed

ETC_DIR = "/etc/netns"


def _step_failed(message, err):
    return SystemCallFailed(f"{message}: {err.strerror}", errno=err.errno)


def _setns(name):
    c = store.open_checked(name)
    try:
        _sys.setns(c.fd, _sys.CLONE_NEWNET)
    except OSError as e:
        raise SystemCallFailed(
            f'setting the network namespace "{name}" failed: {e.strerror}',
            name=name, errno=e.errno) from None
    finally:
        os.close(c.fd)


def _remount_sys(name):
    flags = 0
    try:
        _sys.umount2("/sys", _sys.MNT_DETACH)
    except OSError:
        # Could not unmount: overlay it, read-only if the old one was (ro cannot be shadowed rw).
        try:
            if os.statvfs("/sys").f_flag & os.ST_RDONLY:
                flags = _sys.MS_RDONLY
        except OSError:
            pass
    try:
        _sys.mount(name, "/sys", "sysfs", flags)
    except OSError as e:
        raise _step_failed("mount of /sys failed", e) from None


def _bind_etc(name, warn):
    if len(os.fsencode(name)) >= store.NAME_MAX:
        return  # ip binds nothing for a name of 255 bytes: neither do we
    etc = f"{ETC_DIR}/{name}"
    try:
        files = os.listdir(etc)
    except OSError:
        return
    for entry in files:
        source, target = f"{etc}/{entry}", f"/etc/{entry}"
        try:
            _sys.mount(source, target, "none", _sys.MS_BIND)
        except OSError as e:
            warn(f"Bind {source} -> {target} failed: {e.strerror}")


def switch(name, warn):
    """Move this thread into ``name`` with a private mount namespace, /sys and /etc/netns files.

    ``warn`` receives non-fatal messages (a failed /etc bind), as `ip` prints them.
    """
    _setns(name)
    isolate(name, warn)


def isolate(name, warn):
    """Give this thread a private mount namespace, a slave of its current one, with /sys of
    its current network namespace and the files of /etc/netns/NAME over /etc."""
    try:
        _sys.unshare(_sys.CLONE_NEWNS)
    except OSError as e:
        raise _step_failed("unshare failed", e) from None
    try:
        # Nothing mounted from here on may propagate back to the host.
        _sys.mount("", "/", "none", _sys.MS_SLAVE | _sys.MS_REC)
    except OSError as e:
        raise _step_failed('"mount --make-rslave /" failed', e) from None
    _remount_sys(name)
    _bind_etc(name, warn)


def _restore_signals():
    # Python ignores SIGPIPE and SIGXFSZ; an exec'd command must get the defaults, as under ip.
    import _signal
    for sig in (_signal.SIGPIPE, _signal.SIGXFSZ):
        _signal.signal(sig, _signal.SIG_DFL)


# The LC_CTYPE values Python's locale coercion (PEP 538) puts in its environment when the
# locale is C or POSIX.
_COERCED = ("C.UTF-8", "C.utf8", "UTF-8")


def _caller_environ():
    """The environment pynetns was started with, for the command; None when it is
    os.environ unchanged (then os.execv passes it on, with no /proc read).

    Python's start-up may have set LC_CTYPE (PEP 538); only then is /proc/self/environ,
    the environment as exec'd, read back.
    """
    if os.environ.get("LC_CTYPE") not in _COERCED:
        return None
    try:
        with open("/proc/self/environ", "rb") as f:
            data = f.read()
    except OSError:
        return None
    env = {}
    for item in data.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep and key not in env:  # as getenv(), the first of duplicates wins
            env[key] = value
    return env


def _execv(file, argv, env):
    if env is None:
        os.execv(file, argv)
    os.execve(file, argv, env)


# ENOENT ENOTDIR ESTALE ENODEV ETIMEDOUT: glibc tries the next PATH entry after these.
_NOT_HERE = (2, 20, 116, 19, 110)


def execvp(argv):
    """execvp(3) as glibc does it, with the /bin/sh fallback for scripts without a shebang.

    Returns only by raising CommandFailed with `ip`'s message.
    """
    cmd = argv[0]
    _restore_signals()
    env = _caller_environ()
    if "/" in cmd:
        candidates = [cmd]
    else:
        path = os.environ.get("PATH", "/bin:/usr/bin")
        # An empty PATH element is the bare name (relative to the cwd), as in glibc.
        candidates = [f"{d}/{cmd}" if d else cmd for d in path.split(":")] if cmd else []
    last = OSError(2, os.strerror(2))
    saw_eacces = False
    for file in candidates:
        try:
            _execv(file, argv, env)
        except OSError as e:
            last = e
            if e.errno == 8:  # ENOEXEC: no shebang, run it with the shell like libc does
                try:
                    _execv("/bin/sh", ["/bin/sh", file] + list(argv[1:]), env)
                except OSError as e2:
                    last = e2
                break
            if e.errno == 13:
                saw_eacces = True
            elif e.errno not in _NOT_HERE:
                break
    if saw_eacces and last.errno in _NOT_HERE:
        last = OSError(13, os.strerror(13))
    raise CommandFailed(f'exec of "{cmd}" failed: {last.strerror}', errno=last.errno)


def _to_stderr(message):
    print(message, file=sys.stderr)


def exec_in(name, argv, warn=_to_stderr):
    """Enter ``name`` and replace this process with ``argv`` (never returns normally).

    ``warn`` receives the non-fatal messages (a failed /etc/netns bind); by default they
    go to stderr, as `ip netns exec` prints them.
    """
    switch(name, warn)
    execvp(argv)


class entered:
    """``with entered("name"):`` runs the block in the namespace; the caller's is restored.

    Only the network namespace is switched (no mount namespace, no /sys remount): the
    block can open sockets and netlink, which is what library callers need.
    """

    def __init__(self, name):
        self.name = name
        self.saved = -1

    def __enter__(self):
        self.saved = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(self.name)
        except BaseException:
            os.close(self.saved)
            raise
        return self

    def __exit__(self, *exc):
        try:
            _sys.setns(self.saved, _sys.CLONE_NEWNET)
        finally:
            os.close(self.saved)
