"""Which processes are in a namespace, and which name a process's namespace has."""
from __future__ import annotations

import os

from . import ns, store
from ._proc import pids_in, proc_pids  # noqa: F401  (procs.proc_pids is the usual name)
from .errors import NotFound, UsageError, class_of, from_oserror


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
    path = f"/proc/{pid}/ns/net"
    try:
        dev, ino = ns.identity(path)
    except OSError as e:  # not allowed (PermissionDenied) is not the same as not there
        raise from_oserror(e, "Cannot open network namespace", default=NotFound,
                           path=path) from None
    try:
        run_dir = os.open(store.RUN_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    except OSError as e:  # ip's message, without the space its other ones have
        raise class_of(e.errno)(f"Failed to open directory {store.RUN_DIR}:{e.strerror}",
                                path=store.RUN_DIR, errno=e.errno) from None
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
