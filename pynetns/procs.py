"""Which processes are in a namespace, and which name a process's namespace has."""
from __future__ import annotations

import os

from . import ns, store
from ._proc import pids_in, proc_pids  # noqa: F401  (procs.proc_pids is the usual name)
from .errors import NotFound, PermissionDenied, SystemCallFailed, UsageError


def _lookup_failed(e):
    """The error class for a failed lookup: not allowed is not the same as not there."""
    return PermissionDenied if e.errno in (1, 13) else NotFound  # EPERM, EACCES


def pids(name: str) -> list[int]:
    """PIDs in the named namespace. Broken entries raise NotANamespace."""
    with store.open_entry(name) as handle:
        identity = handle.identity
    return [int(p) for p in pids_in(identity)]


def names_of_pid(pid: int | str = "self") -> list[str]:
    """Every name (readdir order) whose namespace is that of process ``pid``."""
    pid = str(pid)
    if pid != "self" and pid.strip("0123456789"):  # ip's is_pid(): digits only, "" too
        raise UsageError(f"Specified string '{pid}' is not a pid")
    try:
        dev, ino = ns.identity(f"/proc/{pid}/ns/net")
    except OSError as e:
        raise _lookup_failed(e)(f"Cannot open network namespace: {e.strerror}",
                                errno=e.errno) from None
    try:
        run_dir = os.open(store.RUN_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    except OSError as e:  # ip's message, without the space its other ones have
        cls = PermissionDenied if e.errno in (1, 13) else SystemCallFailed
        raise cls(f"Failed to open directory {store.RUN_DIR}:{e.strerror}",
                  errno=e.errno) from None
    found = []
    try:
        for name in os.listdir(run_dir):
            try:
                st = os.stat(name, dir_fd=run_dir)  # relative: a shorter lookup per entry
            except OSError:
                continue
            if st.st_ino == ino and st.st_dev == dev:
                found.append(name)
    finally:
        os.close(run_dir)
    return found


def identify(pid: int | str = "self") -> str:
    """The name `ip netns identify` prints: the last match in readdir order, or ''."""
    found = names_of_pid(pid)
    return found[-1] if found else ""
