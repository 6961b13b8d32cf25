"""A named network namespace held open: what vishvananda/netns calls an NsHandle.

A handle is a descriptor of the namespace file, opened once and checked (see
store.open_entry, which pynetns.open is), so every use of it reaches that namespace even if
the name is deleted or re-bound meanwhile. Two handles are equal when they hold the same
namespace, (st_dev, st_ino) on nsfs, whatever names they were opened by.

A closed handle refuses fileno() with ValueError, as a closed file object does: using one
is a mistake in the caller, not a state of the system (which NetnsError reports).
"""
from __future__ import annotations

import os

from .ns import Checked


class Handle:
    """An open network namespace. ``name`` is the entry it was opened by, ``path`` its file,
    ``identity`` (dev, ino); all three stay readable after close()."""

    __slots__ = ("_fd", "identity", "name", "path")

    def __init__(self, checked: Checked, name: str) -> None:
        """Take over the descriptor of ``checked`` (a Checked opened with keep_fd)."""
        self._fd = checked.fd
        checked.fd = -1
        self.name = name
        self.path: str = checked.path
        self.identity: tuple[int, int] = (checked.dev, checked.ino)

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def fileno(self) -> int:
        """The descriptor (O_RDONLY, close-on-exec), for setns(2) or netlink; ValueError
        once closed."""
        if self._fd < 0:
            raise ValueError(f"operation on a closed namespace handle ({self.name!r})")
        return self._fd

    def close(self) -> None:
        """Release the descriptor; closing again does nothing."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __enter__(self) -> Handle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A forgotten handle must not leak its descriptor (nor pin the namespace) for good.
        if getattr(self, "_fd", -1) >= 0:
            self.close()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Handle):
            return NotImplemented
        return self.identity == other.identity

    def __hash__(self) -> int:
        return hash(self.identity)

    def __repr__(self) -> str:
        state = "closed" if self._fd < 0 else f"fd={self._fd}"
        return (f"<pynetns.Handle {self.name!r} net:[{self.identity[1]}] "
                f"dev={self.identity[0]} {state}>")
