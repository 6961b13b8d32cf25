"""`-batch FILE`: iproute2's batch file reader (comments, continuation lines, quoting)."""
import os

from .grammar import match_verb
from .output import err

MAX_ARGS = 512
_WS = " \t\r\n"


class BatchSyntaxError(Exception):
    pass


class MissingContinuation(BatchSyntaxError):
    """The input ends after a '\\': ip stops reading but keeps the exit code so far."""


def split_words(line):
    """makeargs(): words split on blanks; a word starting with a quote runs to the next
    quote of the same kind (no escapes, quotes inside a word are kept)."""
    words: list[str] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] in _WS:
            i += 1
        if i >= n:
            break
        if len(words) >= MAX_ARGS - 1:
            raise BatchSyntaxError("Too many arguments to command")
        if line[i] in "'\"":
            end = line.find(line[i], i + 1)
            if end < 0:
                raise BatchSyntaxError("Unterminated quoted string")
            words.append(line[i + 1:end])
            i = end + 1
        else:
            start = i
            while i < n and line[i] not in _WS:
                i += 1
            words.append(line[start:i])
            i += 1
    return words


def command_lines(stream):
    """getcmdline(): yield (line number, text) with '#' comments cut and '\\' joined."""
    number = 0
    lines = iter(stream)
    for line in lines:
        number += 1
        line = _c_line(line)
        while "\\\n" in line:
            cont = next(lines, None)
            if cont is None:
                raise MissingContinuation("Missing continuation line")
            number += 1
            line = line.replace("\\\n", "", 1) + _c_line(cont)
        yield number, line


def _c_line(line):
    """A line as ip's C string functions see it: up to a NUL byte, then up to a '#'."""
    return line.split("\0", 1)[0].split("#", 1)[0]


# ip's objects (ip.c cmds[]): a line may omit `netns`, but a first word that is neither a
# netns verb nor any object gets ip's do_cmd() error.
_IP_OBJECTS = ("address", "addrlabel", "amt", "fou", "help", "ila", "ioam", "l2tp", "link",
               "macsec", "maddress", "monitor", "mptcp", "mroute", "mrule", "neighbor",
               "neighbour", "netconf", "netns", "nexthop", "ntable", "ntbl", "route", "rule",
               "sr", "stats", "tap", "tcpmetrics", "token", "tunnel", "tuntap", "vrf", "xfrm")


def _strip_object(words):
    """`netns VERB ARGS` → `VERB ARGS`; a line without the object is taken as VERB ARGS;
    None for a first word that is no ip object's prefix (reported)."""
    if words and words[0] in ("net", "netn", "netns"):
        return words[1:]
    if match_verb(words[0]) is None and \
            not any(o.startswith(words[0]) for o in _IP_OBJECTS):
        err(f'Object "{words[0]}" is unknown, try "ip help".')
        return None
    return words


def _open(name):
    """The batch input, as ip's batch() gets it: `-` is stdin; a FILE becomes stdin
    (freopen), so a command a line runs reads the rest of the file, not the caller's stdin.
    None when the FILE cannot be opened (reported)."""
    if name != "-":
        try:
            fd = os.open(name, os.O_RDONLY)
        except OSError as e:
            err(f'Cannot open file "{name}" for reading: {e.strerror}')
            return None
        if fd != 0:
            os.dup2(fd, 0)
            os.close(fd)
    # Buffered as stdio buffers it (st_blksize), so children see the same file offset.
    return open(0, "rb", closefd=False)


def _lines(stream):
    """Lines of ``stream`` until it ends or fails: to ip's getline() a read error (EISDIR for
    a directory, EBADF for a closed stdin) is the end of the input."""
    while True:
        try:
            raw = stream.readline()
        except OSError:
            return
        if not raw:
            return
        yield raw.decode("utf-8", "surrogateescape")


def run(settings, run_words):
    """Run every line with ``run_words(words) -> rc``; 'Command failed FILE:LINE' as ip."""
    name = settings["batch"]
    try:
        stream = _open(name)
    except OSError:  # fd 0 closed and `-`: nothing to read
        return 0
    if stream is None:
        return 1
    rc = 0
    try:
        for number, line in command_lines(_lines(stream)):
            words = split_words(line)
            if not words:
                continue
            words = _strip_object(words)
            if words is None or run_words(words):
                err(f"Command failed {name}:{number}")
                rc = 1
                if not settings.get("force"):
                    break
    except MissingContinuation as e:
        err(str(e))
    except BatchSyntaxError as e:
        err(str(e))
        return 1
    finally:
        stream.close()
    return rc
