"""pynetns: name, enter and inspect Linux network namespaces; a drop-in for `ip netns`.

    import pynetns
    pynetns.add("blue")
    with pynetns.entered("blue"):
        ...                      # sockets opened here live in "blue"
    with pynetns.open("blue") as ns:
        ns.fileno(), ns.identity # held open: setns(2), netlink, comparing namespaces
    pynetns.attach("web", "docker:web")
    rows, engine_errors = pynetns.describe()   # `list -d` as data
    pynetns.prune(dry_run=True)
    pynetns.delete("blue")

Every failure raises a subclass of pynetns.NetnsError.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import (Busy, CommandFailed, ContainerError, EngineUnavailable, Exists,
                     InvalidName, InvalidPid, NetlinkError, NetnsError, NoSuchContainer,
                     NotANamespace, NotFound, PermissionDenied, SystemCallFailed, Unsafe,
                     UsageError)
from .handle import Handle
from .ns import Checked, check
from .store import RUN_DIR, Entry, add, bind, delete, entries, exists, is_valid_name, names
from .store import open_entry as open

__all__ = [
    "RUN_DIR", "Busy", "Checked", "CommandFailed", "ContainerError", "EngineUnavailable",
    "Entry", "Exists", "Handle", "InvalidName", "InvalidPid", "NetlinkError", "NetnsError",
    "NoSuchContainer", "NotANamespace", "NotFound", "PermissionDenied", "SystemCallFailed",
    "Unsafe", "UsageError", "add", "attach", "attach_all", "bind", "check", "delete",
    "describe", "entered", "entries", "events", "exec_in", "exists", "get_nsid", "identify",
    "is_valid_name", "list_ids", "names", "names_of_pid", "open", "pids", "prune", "run_in",
    "set_nsid",
]

# These pull in more modules (attach the container clients, describe the engines as
# well): loaded on first use so `import pynetns` stays cheap. attr → (module, its name).
_LAZY = {
    "entered": ("execns", "entered"), "exec_in": ("execns", "exec_in"),
    "run_in": ("execns", "run_in"), "identify": ("procs", "identify"),
    "names_of_pid": ("procs", "names_of_pid"), "pids": ("procs", "pids"),
    "get_nsid": ("nsid", "get_nsid"), "set_nsid": ("nsid", "set_nsid"),
    "list_ids": ("nsid", "list_ids"), "attach": ("attachments", "attach"),
    "attach_all": ("attachments", "attach_all"), "prune": ("attachments", "prune"),
    "describe": ("described", "describe"), "events": ("monitor", "events"),
}


def __getattr__(attr: str) -> object:
    where = _LAZY.get(attr)
    if where is None:
        raise AttributeError(f"module 'pynetns' has no attribute {attr!r}")
    import importlib
    return getattr(importlib.import_module(f"{__name__}.{where[0]}"), where[1])
