"""exec --pid: run a command in a network namespace *and* the PID namespace of its processes,
with a /proc of that PID namespace, so that ps and top show the container's processes.

setns(CLONE_NEWPID) only decides where this process's children are born, and a proc
filesystem shows the PID namespace of whoever mounts it: so the command runs in a forked
child, which makes a mount namespace of its own (a slave of the host's: nothing propagates
back), mounts a fresh sysfs and proc over /sys and /proc, and execs. The host's /proc and
/sys stay as they were.

Trust: the command is a host tool with host root's capabilities in the host's mount
namespace, visible to the target's processes. One of them with CAP_SYS_PTRACE in the host's
user namespace could reach the host's files through /proc/PID/root of that tool, so such a
target (privileged containers among them) is refused without --force; so are the caller's
and PID 1's own namespaces, whatever an engine says.
"""
import os

from . import _proc, _sys, containers, execns, procs, store
from .errors import NotFound, Unsafe, UsageError, from_oserror

CAP_SYS_PTRACE = 19


def _ns_link(pid, kind):
    """The text of /proc/PID/ns/KIND ("pid:[INO]"), or None when PID is gone."""
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


def _pin_entry(name):
    """Pin a process of the one PID namespace the processes in entry ``name`` are in.

    Processes of the caller's own PID namespace in it (the shell of an `ip netns exec`, the
    parent `unshare -pf` leaves in the host) do not make that namespace the target.
    """
    with store.open_entry(name) as handle:
        identity = handle.identity
    own = _ns_link("self", "pid")
    members = procs.pids_in(identity)
    by_pidns: dict[str, list[str]] = {}
    for p in members:
        link = _ns_link(p, "pid")
        if link is not None and link != own:
            by_pidns.setdefault(link, []).append(p)
    if not by_pidns:
        if members:
            raise NotFound(f'The processes in "{name}" are all in this PID namespace: it has '
                           "no other to enter (exec without --pid runs a command in it)",
                           name=name)
        raise NotFound(f'No process is in "{name}": it has no PID namespace to enter',
                       name=name)
    if len(by_pidns) > 1:
        raise UsageError(f'The processes in "{name}" are in {len(by_pidns)} PID namespaces: '
                         "name the container (docker:C, podman:C) instead", name=name)
    (link, pids), = by_pidns.items()
    started = sorted((t, int(p)) for p in pids if (t := _proc.stat_field(p, 22)) is not None)
    for _, pid in started:
        try:
            pinned = containers.Pinned(pid, pid_ns=True)
        except OSError:
            continue  # exited since the scan
        if (pinned.identity == identity and link == f"pid:[{pinned.pidns_identity[1]}]"
                and pinned.alive()):
            return pinned
        pinned.close()
    raise NotFound(f'No process is in "{name}": it has no PID namespace to enter', name=name)


def _host_ptracers(pidns_link):
    """PIDs in that PID namespace with CAP_SYS_PTRACE in the caller's or PID 1's user
    namespace: they could ptrace (or open /proc/PID/root of) a host tool run there."""
    host_users = {link for p in ("self", "1") if (link := _ns_link(p, "user"))}
    found = []
    for pid in procs.proc_pids():
        if _ns_link(pid, "pid") != pidns_link:
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                caps = next(int(line.split()[1], 16) for line in f
                            if line.startswith("CapEff:"))
        except (OSError, StopIteration, ValueError):
            continue
        if caps >> CAP_SYS_PTRACE & 1 and _ns_link(pid, "user") in host_users:
            found.append(int(pid))
    return found


def _check_target(target, pinned, force):
    from ._text import printable
    what = printable(target)
    containers.refuse_host(pinned.identity, what, "net", force)
    containers.refuse_host(pinned.pidns_identity, what, "pid", force)
    ptracers = [] if force else _host_ptracers(f"pid:[{pinned.pidns_identity[1]}]")
    if ptracers:
        raise Unsafe(f"{what}: its process {ptracers[0]} has CAP_SYS_PTRACE in the host's "
                     "user namespace and could reach the host's files through the "
                     "command (/proc/PID/root); use --force to run it anyway")


def pin_target(target, force=False, warn=None):
    """Pin the process whose namespaces ``target`` means: 'docker:C', 'podman:C' or
    'podman:USER@C' (the container's init; rootless.py), or an entry name (a process of its
    PID namespace); refuse what would expose the host (see the module's docstring) unless
    ``force``. Returns (the Pinned, the name whose /etc/netns files exec would bind: the
    entry's, or the one attach --all-containers / --all-pods gives the owner)."""
    engine = containers.split_spec(target)[0]
    if target.startswith("pod:"):
        from . import cri
        owner = cri.find(target, force)
        pinned = cri.pin(owner, pid_ns=True, force=force)
        if warn and cri.pid_note(owner):
            warn(cri.pid_note(owner))
    elif engine is None:
        owner, pinned = None, _pin_entry(target)
    else:
        from . import rootless
        owner = rootless.find(target)
        containers.require_running(owner)
        pinned = containers.pin(owner, pid_ns=True, force=force)
    try:
        _check_target(target, pinned, force)
    except BaseException:
        pinned.close()
        raise
    return pinned, target if owner is None else owner.entry_name


def _enter(pinned):
    execns.enter_userns(pinned)  # not root: a rootless container's user namespace first
    for fd, kind, what in ((pinned.net_fd, _sys.CLONE_NEWNET, "network"),
                           (pinned.pidns_fd, _sys.CLONE_NEWPID, "PID")):
        try:
            _sys.setns(fd, kind)
        except OSError as e:
            raise from_oserror(e, f"setting the {what} namespace of process {pinned.pid} "
                               "failed") from None


def _private_mounts(etc_name, warn):
    """In the child: what exec does for an entry (mount namespace, /sys, /etc/netns/ETC_NAME
    files), and a proc of the PID namespace the child was born in."""
    execns.isolate(etc_name, warn, etc=store.is_valid_name(etc_name))
    try:
        _sys.mount("proc", "/proc", "proc", _sys.MS_NOSUID | _sys.MS_NODEV | _sys.MS_NOEXEC)
    except OSError as e:
        raise from_oserror(e, "mount of /proc failed") from None


def _watched(signal):
    """What pynetns waits for while the command runs (blocked from before the fork)."""
    return {signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT,
            signal.SIGUSR1, signal.SIGUSR2, signal.SIGTSTP, signal.SIGCONT}


def _supervise(pid, signal):
    """Wait for the command as util-linux nsenter's continue_as_child() does, passing on
    what is meant for it: a signal sent to pynetns by a process is forwarded; one the
    terminal sent to the whole foreground group (SI_KERNEL) reached the command already.
    When the command stops, pynetns stops too and continues it when continued. Returns
    the wait status."""
    si_kernel = 0x80
    while True:
        info = signal.sigwaitinfo(_watched(signal))
        sig = info.si_signo
        if sig == signal.SIGCHLD:
            done, status = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
            if done == 0:
                continue
            if not os.WIFSTOPPED(status):
                return status
            os.kill(os.getpid(), signal.SIGSTOP)  # the shell sees the job stop
            os.kill(pid, signal.SIGCONT)
        elif info.si_code != si_kernel or sig in (signal.SIGCONT, signal.SIGTERM):
            os.kill(pid, sig)


def _die_like(status, signal, reraise):
    """End as the command did: by the same signal (no core file) if ``reraise``, else
    128+N."""
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    sig = os.WTERMSIG(status)
    if not reraise:
        return 128 + sig
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the command dumped core if it would
    if sig not in (signal.SIGKILL, signal.SIGSTOP):  # neither can be caught or blocked
        signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    os.kill(os.getpid(), sig)
    return 128 + sig  # a signal whose default is not to end the process


def run(target, argv, child_failed, warn, force=False, reraise=True):
    """Run ``argv`` in ``target``'s network and PID namespaces, supervised as nsenter does;
    returns its exit status, or ends this process by the signal that ended the command
    (without ``reraise``, as in a batch: returns 128+N). ``child_failed(error)`` reports a
    failure in the child, after the fork, and returns the exit status for it; ``warn``
    gets exec's non-fatal messages. ``force`` allows the targets refused as exposing the
    host (see the module's docstring)."""
    pinned, etc_name = pin_target(target, force, warn)
    with pinned:
        _enter(pinned)
    import _signal as signal  # the C module: `signal` itself imports enum (~5 ms)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _watched(signal))
    try:
        pid = os.fork()
    except OSError as e:  # ENOMEM: the PID namespace's init has exited
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
        raise from_oserror(e, f"cannot start a process in the PID namespace of {target}"
                           ) from None
    if pid == 0:
        rc = 1
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
            _private_mounts(etc_name, warn)
            execns.execvp(argv)
        except Exception as e:
            rc = child_failed(e)
        finally:
            os._exit(rc)
    status = _supervise(pid, signal)
    if not reraise:  # a batch goes on: what was meant for the command is not for it
        while signal.sigtimedwait(_watched(signal), 0):
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
    return _die_like(status, signal, reraise)
