"""pynetns: name, enter and inspect Linux network namespaces; a drop-in for `ip netns`.

    import pynetns
    pynetns.add("blue")
    with pynetns.entered("blue"):
        ...                      # sockets opened here live in "blue"
    [e.name for e in pynetns.entries() if e.ok]
    pynetns.delete("blue")

Every failure raises a subclass of pynetns.NetnsError.
"""
__version__ = "0.1.0"

from .errors import (Busy, CommandFailed, ContainerError, Exists, InvalidName, InvalidPid,
                     NetlinkError, NetnsError, NotANamespace, NotFound, PermissionDenied,
                     SystemCallFailed, UsageError)
from .ns import check
from .store import (RUN_DIR, Entry, add, attach, bind, delete, entries, exists, is_valid_name,
                    names)

__all__ = [
    "Busy", "CommandFailed", "ContainerError", "Exists", "InvalidName", "InvalidPid",
    "NetlinkError", "NetnsError", "NotANamespace", "NotFound", "PermissionDenied",
    "SystemCallFailed", "UsageError", "RUN_DIR", "Entry", "add", "attach", "bind", "delete",
    "entries", "exists", "is_valid_name", "names", "entered", "exec_in", "run_in", "identify",
    "names_of_pid", "pids", "get_nsid", "set_nsid", "list_ids", "check",
]

# These pull in more modules: loaded on first use so `import pynetns` stays cheap.
_LAZY = {
    "entered": "execns", "exec_in": "execns", "run_in": "execns", "identify": "procs",
    "names_of_pid": "procs", "pids": "procs", "get_nsid": "nsid", "set_nsid": "nsid",
    "list_ids": "nsid",
}


def __getattr__(attr):
    module = _LAZY.get(attr)
    if module is None:
        raise AttributeError(f"module 'pynetns' has no attribute {attr!r}")
    import importlib
    return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
