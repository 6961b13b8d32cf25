"""Which processes are in a namespace, and which name a process's namespace has."""
import os

from . import store
from .errors import NotFound, UsageError


def _proc_pids():
    """PIDs in /proc's readdir order (what `ip` prints)."""
    return [d for d in os.listdir("/proc") if d.isdigit()]


def pids_in(identity):
    """PIDs (as strings, /proc order) whose network namespace has this (dev, ino)."""
    found = []
    for pid in _proc_pids():
        try:
            st = os.stat(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == identity:
            found.append(pid)
    return found


def pids(name):
    """PIDs in the named namespace. Broken entries raise NotANamespace."""
    c = store.open_checked(name)
    os.close(c.fd)
    return [int(p) for p in pids_in((c.dev, c.ino))]


def _pid_identity(pid):
    try:
        st = os.stat(f"/proc/{pid}/ns/net")
    except OSError as e:
        raise NotFound(f"Cannot open network namespace: {e.strerror}", errno=e.errno) from None
    return st.st_dev, st.st_ino


def names_of_pid(pid="self"):
    """Every name (readdir order) whose namespace is that of process ``pid``."""
    pid = str(pid)
    if pid != "self" and pid.strip("0123456789"):  # ip's is_pid(): digits only, "" too
        raise UsageError(f"Specified string '{pid}' is not a pid")
    wanted = _pid_identity(pid)
    found = []
    for name in store.names():
        try:
            st = os.stat(store.path_of(name))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == wanted:
            found.append(name)
    return found


def identify(pid="self"):
    """The name `ip netns identify` prints: the last match in readdir order, or ''."""
    found = names_of_pid(pid)
    return found[-1] if found else ""
