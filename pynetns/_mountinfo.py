"""/proc/PID/mountinfo, read."""
import os


def _unescape(field):
    """mountinfo writes space, tab, newline and backslash as \\ooo."""
    parts = field.split(b"\\")
    out = [parts[0]]
    for part in parts[1:]:
        code = part[:3]
        if len(code) == 3 and all(48 <= c <= 55 for c in code):
            out.append(bytes([int(code, 8)]) + part[3:])
        else:
            out.append(b"\\" + part)
    return b"".join(out)


def rows(pid="self"):
    """(mount id, parent id, mount point, root, fstype) of every mount in the mount namespace
    of ``pid``."""
    with open(f"/proc/{pid}/mountinfo", "rb") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index(b"-") + 1]
            yield (int(fields[0]), int(fields[1]), os.fsdecode(_unescape(fields[4])),
                   os.fsdecode(_unescape(fields[3])), os.fsdecode(fstype))


def mountinfo(pid="self"):
    """(mount point, root, fstype) of every mount in the mount namespace of ``pid``."""
    for _, _, point, root, fstype in rows(pid):
        yield point, root, fstype
