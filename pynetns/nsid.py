"""Network namespace ids (nsid): read, assign and list them for named namespaces."""

from __future__ import annotations

from . import _nsid, store
from .errors import NetlinkError, UsageError, from_oserror

NSID_MAX = 2**31 - 1  # an s32 on the wire: the kernel's largest


def _socket_failed(e, name=None):
    """A netlink socket that could not be made, written or read (EMFILE, ENOBUFS...)."""
    return from_oserror(e, "netlink socket failed", default=NetlinkError, name=name)


def get_nsid(name: str) -> int | None:
    """The nsid of ``name`` in the caller's namespace, or None when it has none."""
    with store.open_entry(name) as handle:
        try:
            return _nsid.nsid_of_fd(handle.fileno())
        except OSError as e:
            raise _socket_failed(e, name) from None


def _raise(reply, name=None):
    raise NetlinkError(_nsid.describe_error(reply), errno=reply.error,
                       extack=reply.extack, name=name)


def set_nsid(name: str, nsid: int = -1) -> None:
    """Assign ``nsid`` to ``name`` (-1: the kernel picks the lowest free id)."""
    if type(nsid) is not int or not -1 <= nsid <= NSID_MAX:
        raise UsageError(f"Invalid nsid {nsid!r}: an integer from 0 to {NSID_MAX}, or -1 "
                         "for the kernel to pick", name=name)
    with store.open_entry(name) as handle:
        try:
            reply = _nsid.set_nsid(handle.fileno(), nsid)
        except OSError as e:
            raise _socket_failed(e, name) from None
    if reply is not None:
        _raise(reply, name)


class IdRow:
    """One line of `list-id`: an nsid, the current-nsid when a target was given, a name."""

    __slots__ = ("nsid", "current_nsid", "name")

    def __init__(self, nsid, current_nsid, name):
        self.nsid = nsid
        self.current_nsid = current_nsid
        self.name = name

    def as_text(self):
        text = "nsid unassigned " if self.nsid < 0 else f"nsid {self.nsid} "
        if self.current_nsid is not None:
            text += ("current-nsid unassigned " if self.current_nsid < 0
                     else f"current-nsid {self.current_nsid} ")
        if self.name is not None:
            text += f"(iproute2 netns name: {self.name})"
        return text + "\n"

    def as_json(self):
        item = {}
        if self.nsid >= 0:
            item["nsid"] = self.nsid
        if self.current_nsid is not None and self.current_nsid >= 0:
            item["current-nsid"] = self.current_nsid
        if self.name is not None:
            item["name"] = self.name
        return item


def _names_by_nsid():
    """nsid → the first name in readdir order that has it (iproute2's lookup)."""
    found: dict[int, str] = {}
    for e in store.entries():
        if e.nsid is not None:
            found.setdefault(e.nsid, e.name)
    return found


def list_ids(nsid: int = -1, target: int = -1, strict: bool = True) -> list[IdRow]:
    """The rows of `ip netns list-id [target-nsid T] [nsid N]`; not ``strict``, a dump
    ignores the target as `ip -batch` does (its socket has no strict checking)."""
    for value in (nsid, target):
        if type(value) is not int or not -1 <= value <= NSID_MAX:
            raise UsageError(f"Invalid nsid {value!r}: an integer from 0 to {NSID_MAX}, or "
                             "-1 for none")
    attrs = [] if target < 0 else [(_nsid.NETNSA_TARGET_NSID, target)]
    try:
        with _nsid.Socket(strict) as s:
            if nsid >= 0:
                replies = [s.request(_nsid.RTM_GETNSID, 0,
                                     [(_nsid.NETNSA_NSID, nsid)] + attrs)]
            else:
                replies = list(s.dump(attrs))
    except OSError as e:
        raise _socket_failed(e) from None
    rows = []
    names = None
    for r in replies:
        if r.error:
            _raise(r)
        if names is None:
            names = _names_by_nsid()
        key = r.nsid if r.current_nsid is None else r.current_nsid
        rows.append(IdRow(r.nsid, r.current_nsid, names.get(key)))
    return rows
