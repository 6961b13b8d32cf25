"""`-batch FILE`: iproute2's batch file reader (comments, continuation lines, quoting)."""
import sys

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
    words = []
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


def _strip_object(words):
    """`netns VERB ARGS` → `VERB ARGS`; a line without the object is taken as VERB ARGS."""
    if words and words[0] in ("net", "netn", "netns"):
        return words[1:]
    return words


def run(settings, run_words):
    """Run every line with ``run_words(words) -> rc``; 'Command failed FILE:LINE' as ip."""
    name = settings["batch"]
    if name == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(name, "rb")
        except OSError as e:
            err(f'Cannot open file "{name}" for reading: {e.strerror}')
            return 1
    rc = 0
    try:
        for number, line in command_lines(
                raw.decode("utf-8", "surrogateescape") for raw in stream):
            words = split_words(line)
            if not words:
                continue
            if run_words(_strip_object(words)):
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
        if stream is not sys.stdin.buffer:
            stream.close()
    return rc
