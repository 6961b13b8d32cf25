"""errors.py: the errno table, from_oserror, exit codes on the classes, repr."""
import errno

import pytest

from pynetns import errors


@pytest.mark.parametrize("name, cls", sorted(errors.ERRNO_CLASSES.items()))
def test_from_oserror_picks_the_class_of_the_errno(name, cls):
    number = getattr(errno, name)
    err = OSError(number, "boom")
    made = errors.from_oserror(err, "Cannot open x", name="x", path="/run/netns/x")
    assert type(made) is cls
    assert str(made) == "Cannot open x: boom"
    assert (made.name, made.path, made.errno) == ("x", "/run/netns/x", number)


def test_from_oserror_default_and_cause():
    try:
        try:
            raise OSError(errno.EINVAL, "Invalid argument")
        except OSError as e:
            raise errors.from_oserror(e, "setns failed") from e
    except errors.NetnsError as made:
        assert type(made) is errors.SystemCallFailed
        assert isinstance(made.__cause__, OSError)
    made = errors.from_oserror(OSError(errno.ENOTDIR, "Not a directory"), "x",
                               default=errors.NotFound)
    assert type(made) is errors.NotFound


def test_class_of_is_the_table_from_oserror_uses():
    for name, cls in errors.ERRNO_CLASSES.items():
        assert errors.class_of(getattr(errno, name)) is cls
    assert errors.class_of(errno.EMFILE) is errors.SystemCallFailed
    assert errors.class_of(None) is errors.SystemCallFailed
    assert errors.class_of(errno.ENOTDIR, errors.NotFound) is errors.NotFound
    assert errors.class_of(errno.EACCES, errors.NotFound) is errors.PermissionDenied


def test_exit_codes_are_class_attributes():
    assert errors.NetnsError.exit_code == 1
    assert errors.NotFound("x").exit_code == 1
    assert errors.NetlinkError("x").exit_code == 2
    assert errors.Busy("x").exit_code == 3
    assert errors.InvalidName("x").exit_code == 255
    assert errors.EXEC_SETUP_EXIT_CODE == 255


def test_repr_shows_the_attributes():
    e = errors.NotFound("gone", name="a", path="/run/netns/a", errno=errno.ENOENT)
    assert repr(e) == "NotFound('gone', name='a', path='/run/netns/a', errno=ENOENT)"
    assert repr(errors.UsageError("bad")) == "UsageError('bad')"
    assert errors.NotANamespace("x", problem="a FIFO", name="f").problem == "a FIFO"
