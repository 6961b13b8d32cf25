"""batch.split_words (ip's makeargs) and batch.command_lines (ip's getcmdline)."""
import io

import pytest

from pynetns.cli import batch


@pytest.mark.parametrize("line, words", [
    ("netns add a\n", ["netns", "add", "a"]),
    ("  netns \t add\ta  \r\n", ["netns", "add", "a"]),
    ("", []), ("   \t\r\n", []),
    ("add 'a b'", ["add", "a b"]),
    ('add "a b" c', ["add", "a b", "c"]),
    ("add 'a\"b'", ["add", 'a"b']),
    ('add "a\'b"', ["add", "a'b"]),
    ("add ''", ["add", ""]),
    ("add 'a'b", ["add", "a", "b"]),  # the closing quote ends the word
    ("add a'b'c", ["add", "a'b'c"]),  # quotes inside a word are kept
    ("add \"x\"y z", ["add", "x", "y", "z"]),
    ("add a\\ b", ["add", "a\\", "b"]),  # no escapes
    ("add 'a\tb'", ["add", "a\tb"]),
    ("é 'ü'", ["é", "ü"]),
])
def test_split_words(line, words):
    assert batch.split_words(line) == words


@pytest.mark.parametrize("line", ["add 'a b", 'add "a', "'", "add 'x' \"y"])
def test_unterminated_quote(line):
    with pytest.raises(batch.BatchSyntaxError) as e:
        batch.split_words(line)
    assert str(e.value) == "Unterminated quoted string"
    assert not isinstance(e.value, batch.MissingContinuation)


def test_too_many_arguments():
    assert len(batch.split_words("x " * 511)) == 511
    with pytest.raises(batch.BatchSyntaxError) as e:
        batch.split_words("x " * 512)
    assert str(e.value) == "Too many arguments to command"


def lines(text):
    return list(batch.command_lines(io.StringIO(text)))


@pytest.mark.parametrize("text, expected", [
    ("a\nb\n", [(1, "a\n"), (2, "b\n")]),
    ("a # c\n# all\nb", [(1, "a "), (2, ""), (3, "b")]),
    ("a \\\nb\nc\n", [(2, "a b\n"), (3, "c\n")]),
    ("a \\\nb \\\nc\nd\n", [(3, "a b c\n"), (4, "d\n")]),
    ("a \\\n# comment\nb\n", [(2, "a "), (3, "b\n")]),
    ("a #\\\nb\n", [(1, "a "), (2, "b\n")]),
    ("a\\\n\\\nb\n", [(3, "ab\n")]),
    ("a \\", [(1, "a \\")]),  # no newline after the backslash: not a continuation
    ("a \\\r\nb\n", [(1, "a \\\r\n"), (2, "b\n")]),
    ("a\0b\nc\n", [(1, "a"), (2, "c\n")]),
    ("a\0\\\nb\n", [(1, "a"), (2, "b\n")]),
    ("a \\\nb\0c\nd\n", [(2, "a b"), (3, "d\n")]),
    ("", []),
])
def test_command_lines(text, expected):
    assert lines(text) == expected


def test_missing_continuation():
    got = []
    with pytest.raises(batch.MissingContinuation) as e:
        for item in batch.command_lines(io.StringIO("a\nb \\\n")):
            got.append(item)
    assert got == [(1, "a\n")]
    assert str(e.value) == "Missing continuation line"
    assert isinstance(e.value, batch.BatchSyntaxError)
