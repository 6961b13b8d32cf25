"""exec --pid: run a command in a network namespace *and* the PID namespace of its processes,
with a /proc of that PID namespace, so that ps and top show the container's processes.

setns(CLONE_NEWPID) only decides where this process's children are born, and a proc
filesystem shows the PID namespace of whoever mounts it: so the command runs in a forked
child, which makes a mount namespace of its own (a slave of the host's: nothing propagates
back), mounts a fresh sysfs and proc over /sys and /proc, and execs. The host's /proc and
/sys stay as they were.
"""
import os

from . import _sys, containers, execns, procs, store
from .errors import NotFound, SystemCallFailed


def _start_time(pid):
    """Field 22 of /proc/PID/stat (clock ticks since boot), or None when PID is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split()[19])


def _pin_oldest(name):
    """Pin the oldest process in the named namespace (for a container: its init)."""
    c = store.open_checked(name)
    os.close(c.fd)
    started = [(t, int(p)) for p in procs.pids_in((c.dev, c.ino))
               if (t := _start_time(p)) is not None]
    for _, pid in sorted(started):
        try:
            pinned = containers.Pinned(pid, pid_ns=True)
        except OSError:
            continue  # exited since the scan
        if pinned.identity == (c.dev, c.ino) and pinned.alive():
            return pinned
        pinned.close()
    raise NotFound(f'No process is in "{name}": it has no PID namespace to enter', name=name)


def pin_target(target):
    """Pin the process whose namespaces ``target`` means: 'docker:C' or 'podman:C' (the
    container's init), or an entry name (its oldest process)."""
    engine, ref = containers.split_spec(target)
    if engine is None:
        return _pin_oldest(target)
    container = containers.inspect(engine, ref)
    containers.require_running(container)
    return containers.pin(container, pid_ns=True)


def _enter(pinned):
    for fd, kind, what in ((pinned.net_fd, _sys.CLONE_NEWNET, "network"),
                           (pinned.pidns_fd, _sys.CLONE_NEWPID, "PID")):
        try:
            _sys.setns(fd, kind)
        except OSError as e:
            raise SystemCallFailed(f"setting the {what} namespace of process {pinned.pid} "
                                   f"failed: {e.strerror}", errno=e.errno) from None


def _private_mounts(target, warn):
    """In the child: what exec does for an entry (mount namespace, /sys, /etc/netns
    files), and a proc of the PID namespace the child was born in."""
    execns.isolate(target, warn)
    try:
        _sys.mount("proc", "/proc", "proc", _sys.MS_NOSUID | _sys.MS_NODEV | _sys.MS_NOEXEC)
    except OSError as e:
        raise SystemCallFailed(f"mount of /proc failed: {e.strerror}", errno=e.errno) from None


def run(target, argv, child_failed, warn):
    """Run ``argv`` in ``target``'s network and PID namespaces; returns its exit status
    (128+N when killed by signal N). ``child_failed(error)`` reports a failure in the
    child, after the fork, and returns the exit status for it; ``warn`` gets exec's
    non-fatal messages."""
    with pin_target(target) as pinned:
        _enter(pinned)
    try:
        pid = os.fork()
    except OSError as e:  # ENOMEM: the PID namespace's init has exited
        raise SystemCallFailed(f"cannot start a process in the PID namespace of {target}: "
                               f"{e.strerror}", errno=e.errno) from None
    if pid == 0:
        rc = 1
        try:
            _private_mounts(target, warn)
            execns.execvp(argv)
        except Exception as e:
            rc = child_failed(e)
        finally:
            os._exit(rc)
    import signal
    # Like system(3): ^C and ^\ are for the command; we only report how it ended.
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
