"""Watching /run/netns for names that appear and disappear (inotify, as ip does)."""
from __future__ import annotations

import os
import struct

from . import _sys, store
from .errors import from_oserror

TYPE_CHECKING = False  # typing costs milliseconds at run time; the checker reads this block
if TYPE_CHECKING:
    from collections.abc import Iterator

_EVENT = struct.Struct("=iIII")


def events() -> Iterator[tuple[str, str]]:
    """Yield ("add" | "delete", name) forever."""
    store.make_run_dir()
    try:
        fd = _sys.inotify_init()
        _sys.inotify_add_watch(fd, store.RUN_DIR, _sys.IN_CREATE | _sys.IN_DELETE)
    except OSError as e:
        raise from_oserror(e, "inotify_add_watch failed", path=store.RUN_DIR) from None
    try:
        while True:
            data = os.read(fd, 65536)
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size:offset + _EVENT.size + length]
                name = os.fsdecode(raw.rstrip(b"\0"))
                offset += _EVENT.size + length
                if mask & _sys.IN_CREATE:
                    yield "add", name
                if mask & _sys.IN_DELETE:
                    yield "delete", name
    finally:
        os.close(fd)
