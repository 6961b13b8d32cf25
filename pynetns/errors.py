"""The one exception hierarchy of pynetns.

Each exception's text is the message `ip netns` prints for the same failure (or, where `ip`
says nothing useful, a clearer one). The CLI prints it and exits with the class's
``exit_code``; the library only raises. OSErrors become these in one place, from_oserror().
"""
import errno as _errno

# `ip netns exec` (and -netns) exit(-1) when they cannot enter the namespace, whatever the
# reason; every other failure exits with the error's class's exit_code.
EXEC_SETUP_EXIT_CODE = 255


class NetnsError(Exception):
    """Base class. ``name`` is the namespace name involved, ``path`` the file, ``errno`` the
    OS error (a number, as in OSError) if any."""

    exit_code = 1

    def __init__(self, message, *, name=None, path=None, errno=None):
        super().__init__(message)
        self.message = message
        self.name = name
        self.path = path
        self.errno = errno

    def __str__(self):
        return self.message

    def __repr__(self):
        fields = [repr(self.message)]
        for key in ("name", "path"):
            if getattr(self, key) is not None:
                fields.append(f"{key}={getattr(self, key)!r}")
        if self.errno is not None:
            fields.append(f"errno={_errno.errorcode.get(self.errno, self.errno)}")
        return f"{type(self).__name__}({', '.join(fields)})"


class UsageError(NetnsError):
    """Missing, extra or malformed arguments."""


class InvalidName(UsageError):
    """A name `ip` rejects: empty, '.', '..', containing '/', or longer than 255 bytes; or
    one with a NUL, which cannot reach ip through argv."""

    exit_code = 255  # ip's invalid_name() exits -1


class InvalidPid(UsageError):
    """A PID argument that is not a process id."""


class NotFound(NetnsError):
    """The name (or process) does not exist."""


class Exists(NetnsError):
    """The name is already taken."""


class NotANamespace(NetnsError):
    """The entry exists but is not a usable network namespace.

    ``problem`` is a short noun phrase such as "a plain file" or "a dangling symlink".
    """

    def __init__(self, message, *, problem=None, **kw):
        super().__init__(message, **kw)
        self.problem = problem


class Busy(NetnsError):
    """The namespace is still held elsewhere and cannot be released."""

    # Unlike ip's 1, so that scripts can tell "busy, retry later" from "not there".
    exit_code = 3


class PermissionDenied(NetnsError):
    """The caller lacks the privileges (root, CAP_SYS_ADMIN) the operation needs."""


class SystemCallFailed(NetnsError):
    """A mount, unshare or setns step failed for another reason."""


# errno name -> the class an OSError with it becomes; any other errno is the caller's default.
ERRNO_CLASSES = {
    "ENOENT": NotFound,
    "ESRCH": NotFound,
    "EEXIST": Exists,
    "EPERM": PermissionDenied,
    "EACCES": PermissionDenied,
    "EBUSY": Busy,
}
_CLASS_OF_ERRNO = {getattr(_errno, n): cls for n, cls in ERRNO_CLASSES.items()}


def class_of(number, default=SystemCallFailed):
    """The class ERRNO_CLASSES gives errno ``number`` (else ``default``): for the few sites
    whose text is not from_oserror's ``message: strerror`` (ip's own wording)."""
    return _CLASS_OF_ERRNO.get(number, default)


def from_oserror(err, message, *, default=SystemCallFailed, **kw):
    """The NetnsError for OSError ``err``: the class ERRNO_CLASSES gives (else ``default``),
    the text ``message: strerror`` as ip prints it. Raise it ``from err`` to keep the cause.
    ``kw`` (name, path, ...) goes to the class."""
    return class_of(err.errno, default)(f"{message}: {err.strerror}", errno=err.errno, **kw)


class NetlinkError(NetnsError):
    """The kernel refused a netlink request; ``errno`` and the extended ack text explain why."""

    exit_code = 2

    def __init__(self, message, *, extack=None, **kw):
        super().__init__(message, **kw)
        self.extack = extack


class ContainerError(NetnsError):
    """A container could not be resolved to a network namespace."""


class NoSuchContainer(ContainerError):
    """The engine answered and does not know the container."""


class EngineUnavailable(ContainerError):
    """The engine is not installed or does not answer. ``installed`` is False when its
    client or socket is simply absent, which callers asking every engine may ignore."""

    def __init__(self, message, *, installed=True, **kw):
        super().__init__(message, **kw)
        self.installed = installed


class CommandFailed(NetnsError):
    """exec could not run the command (the namespace was entered)."""


class Unsafe(NetnsError):
    """The target would hand out the host: the caller's or PID 1's namespace, or a PID
    namespace whose processes could reach the host through the command. --force overrides."""
