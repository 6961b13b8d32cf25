"""Entering a named namespace: what `ip netns exec` does between open() and execvp().

switch() changes the calling thread for good (the process is about to exec); entered() is
the reversible form for library users.
"""
from __future__ import annotations

import os
import sys

from . import _sys, store
from .errors import CommandFailed, SystemCallFailed, from_oserror

TYPE_CHECKING = False  # typing costs milliseconds at run time; the checker reads this block
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, TypeVar
    T = TypeVar("T")

ETC_DIR = "/etc/netns"


def _step_failed(message, err):
    return from_oserror(err, message)


def _setns(name):
    with store.open_entry(name) as handle:
        try:
            _sys.setns(handle.fileno(), _sys.CLONE_NEWNET)
        except OSError as e:
            raise from_oserror(e, f'setting the network namespace "{name}" failed',
                               name=name) from None


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


def switch(name, warn, force=False):
    """Move this thread into ``name`` with a private mount namespace, /sys and /etc/netns files.

    ``warn`` receives non-fatal messages (a failed /etc bind), as `ip` prints them. A name
    'pod:...' is a Kubernetes pod's (``force`` allows a hostNetwork one): its network
    namespace, then isolated as exec NAME is (/etc/netns files by the entry name
    --all-pods would give it). 'docker:C' and 'podman:[USER@]C' are containers', pinned and proved
    as attach does (``force`` allows a --network host one), with /etc/netns/C's files (C
    the container's name, or its Podman pod's). An entry of that very name is entered
    instead, as ip would: a script's names keep their meaning.
    """
    if ":" not in name or _is_entry(name):
        pass
    elif name.startswith("pod:"):
        return _switch_to_pod(name, warn, force)
    else:  # docker:C or podman:C? (containers is imported for such names only)
        from . import containers
        if containers.split_spec(name)[0] is not None:
            return _switch_to_container(name, warn, force)
    _setns(name)
    isolate(name, warn)


def _is_entry(name):
    return store.is_valid_name(name) and os.path.lexists(f"{store.RUN_DIR}/{name}")


def _enter_pinned(owner, pinned):
    try:
        _sys.setns(pinned.net_fd, _sys.CLONE_NEWNET)
    except OSError as e:
        raise from_oserror(e, f"setting the network namespace of {owner} failed") from None


def enter_userns(pinned):
    """As `nsenter -U --preserve-credentials`: a caller that is not root first joins the
    user namespace of the pinned process, where it has the capabilities that joining its
    other namespaces takes; its UID and GIDs stay the same. Root needs none of that."""
    if os.geteuid() == 0:
        return
    from .errors import ContainerError
    try:
        fd = os.open(f"/proc/{pinned.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise from_oserror(e, f"cannot open the user namespace of process {pinned.pid}"
                           ) from None
    try:
        if os.path.samestat(os.fstat(fd), os.stat("/proc/self/ns/user")):
            return  # already there
        if not pinned.alive():  # the fd is that of the pinned process only while it lives
            raise ContainerError(f"process {pinned.pid} is gone; try again")
        _sys.setns(fd, _sys.CLONE_NEWUSER)
    except OSError as e:
        raise from_oserror(e, f"setting the user namespace of process {pinned.pid} "
                           "failed") from None
    finally:
        os.close(fd)


def _switch_to_pod(spec, warn, force):
    from . import cri
    pod = cri.find(spec, force)
    with cri.pin(pod, force=force) as pinned:
        _enter_pinned(pod, pinned)
    isolate(pod.entry_name, warn)


def _switch_to_container(spec, warn, force):
    from . import containers, rootless
    holder, notes = containers.network_holder(rootless.find(spec), force)
    for note in notes:
        warn(note)
    with containers.pin(holder, force=force) as pinned:
        enter_userns(pinned)
        _enter_pinned(holder, pinned)
    # The engine chose the name: one that is no netns name picks no /etc/netns directory.
    isolate(holder.entry_name, warn, etc=store.is_valid_name(holder.entry_name))


def isolate(name, warn, etc=True):
    """Give this thread a private mount namespace, a slave of its current one, with /sys of
    its current network namespace and (if ``etc``) the files of /etc/netns/NAME over /etc."""
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
    if etc:
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


def _child_exec(name, argv, warn, report):
    """In the child of exec_in: enter, exec; a failure before the exec goes down ``report``
    (a close-on-exec pipe) as class name, errno and message."""
    try:
        switch(name, warn)
        execvp(argv)
    except BaseException as e:
        err = getattr(e, "errno", None)
        text = f"{type(e).__name__}\0{'' if err is None else err}\0{e}"
        try:
            os.write(report, text.encode(errors="replace"))
        finally:
            os._exit(255)


def exec_in(name: str, argv: Sequence[str],
            warn: Callable[[str], object] = _to_stderr) -> int:
    """Run ``argv`` in ``name`` as `ip netns exec` does (a private mount namespace, /sys,
    /etc/netns files) and return its exit status (-N when signal N ended it, as
    subprocess does). The command runs in a forked child: the caller keeps its
    namespaces, mounts and signal dispositions, whatever happens.

    A failure before the command started (no such name, no such command) is raised here
    as the NetnsError the CLI would report. ``warn`` receives the non-fatal messages (a
    failed /etc/netns bind), in the child; by default they go to stderr, as ip prints them.
    """
    from . import errors
    store.check_name(name)
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    try:
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            _child_exec(name, argv, warn, write_end)
    finally:
        os.close(write_end)
    try:
        report = b""
        while chunk := os.read(read_end, 4096):  # EOF at the exec, or with the error
            report += chunk
    finally:
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    if report:
        kind, err, message = report.decode(errors="replace").split("\0", 2)
        cls = getattr(errors, kind, None)
        if not (isinstance(cls, type) and issubclass(cls, errors.NetnsError)):
            cls = errors.SystemCallFailed
        raise cls(message, errno=int(err) if err else None)
    return os.waitstatus_to_exitcode(status)


class entered:
    """``with entered("name"):`` runs the block in the namespace; the caller's is restored.

    Only the network namespace of the calling *thread* is switched (no mount namespace, no
    /sys remount): the block can open sockets and netlink, which is what library callers
    need. One object may be used again, nested and by several threads at once: each use
    keeps the namespace it came from for itself. Signals are blocked while the thread
    switches, so that a KeyboardInterrupt arrives before or after a switch, never inside;
    one window is Python's own: a handler it runs as __exit__ starts, before any code of
    it, skips the restore (as for any with block written in Python). run_in() has none:
    signal handlers never run on its thread.

    The thread rule: everything the thread runs inside the block is in the namespace. Do
    not await or yield to an event loop inside it (asyncio, gevent, trio): other tasks
    would run in the namespace meanwhile. Use run_in() there, or for anything that may
    outlive the block.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        # thread id → stack of fds of the namespaces each use came from
        self._saved: dict[int, list[int]] = {}

    # Python runs a signal handler between bytecodes, after a C call has returned: each
    # step below is one C call whose effect is whole, and signals stay blocked from the
    # first switch until the thread is back where a KeyboardInterrupt leaves it sound.
    def __enter__(self) -> entered:
        ident = _thread_id()
        before = _signal_mask()
        pushed = False
        try:
            _block_signals()
            saved = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(self.name)
            except BaseException:
                os.close(saved)
                raise
            self._saved.setdefault(ident, []).append(saved)
            pushed = True
            _set_signal_mask(before)  # a pending KeyboardInterrupt is raised right here
        except BaseException:
            if pushed:  # ...and then the block never runs: back home first
                try:
                    _block_signals()
                finally:
                    self._restore(ident, before)
            else:
                _set_signal_mask(before)
            raise
        return self

    def __exit__(self, exc_type, exc, tb, before=None):
        try:  # the first check for a pending handler is in here: the finally still runs
            before = _signal_mask()
            _block_signals()
        finally:
            self._restore(_thread_id(), before)

    def _restore(self, ident, mask):
        """Back to the namespace this thread's latest use came from, then the signal mask
        ``mask`` (None: unchanged)."""
        stack = self._saved[ident]
        saved = stack.pop()
        if not stack:
            del self._saved[ident]
        try:
            _sys.setns(saved, _sys.CLONE_NEWNET)
        except OSError as e:
            raise SystemCallFailed("restoring the network namespace of this thread "
                                   f"failed: {e.strerror}", name=self.name,
                                   errno=e.errno) from None
        finally:
            os.close(saved)
            if mask is not None:
                _set_signal_mask(mask)


def _thread_id():
    import _thread
    return _thread.get_ident()


def _signal_mask():
    import signal
    return signal.pthread_sigmask(signal.SIG_BLOCK, ())


def _block_signals():
    """Block every signal for this thread: no handler (KeyboardInterrupt) is started
    half-way through a switch."""
    import signal
    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())


def _set_signal_mask(mask):
    import signal
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def run_in(name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in namespace ``name``, on a thread of its own that ends with
    it (the shape of the CNI plugins' ns.Do): its value is returned, its exception raised.
    The caller's thread never changes namespace, so this is safe from async code too
    (``await asyncio.to_thread(run_in, name, fn)``)."""
    import threading
    outcome: dict[str, Any] = {}

    def body():
        try:
            _setns(name)  # this thread ends afterwards: nothing to restore
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as e:
            outcome["error"] = e

    thread = threading.Thread(target=body, name=f"pynetns.run_in {name}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome.pop("error")
    return outcome["value"]
