"""The one exception hierarchy of pynetns.

Each exception's text is the message `ip netns` prints for the same failure (or, where `ip`
says nothing useful, a clearer one). The CLI prints it and picks the exit code; the library
only raises.
"""


class NetnsError(Exception):
    """Base class. ``name`` is the namespace name involved, ``errno`` the OS error if any."""

    def __init__(self, message, *, name=None, errno=None):
        super().__init__(message)
        self.message = message
        self.name = name
        self.errno = errno

    def __str__(self):
        return self.message


class UsageError(NetnsError):
    """Missing, extra or malformed arguments."""


class InvalidName(UsageError):
    """A name `ip` rejects: empty, '.', '..', containing '/', or longer than 255 bytes; or
    one with a NUL, which cannot reach ip through argv."""


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

    def __init__(self, message, *, name=None, problem=None, errno=None):
        super().__init__(message, name=name, errno=errno)
        self.problem = problem


class Busy(NetnsError):
    """The namespace is still held elsewhere and cannot be released."""


class PermissionDenied(NetnsError):
    """The caller lacks the privileges (root, CAP_SYS_ADMIN) the operation needs."""


class SystemCallFailed(NetnsError):
    """A mount, unshare or setns step failed for another reason."""


class NetlinkError(NetnsError):
    """The kernel refused a netlink request; ``errno`` and the extended ack text explain why."""

    def __init__(self, message, *, errno=None, extack=None, name=None):
        super().__init__(message, name=name, errno=errno)
        self.extack = extack


class ContainerError(NetnsError):
    """A container could not be resolved to a network namespace."""


class NoSuchContainer(ContainerError):
    """The engine answered and does not know the container."""


class EngineUnavailable(ContainerError):
    """The engine is not installed or does not answer. ``installed`` is False when its
    client or socket is simply absent, which callers asking every engine may ignore."""

    def __init__(self, message, *, installed=True):
        super().__init__(message)
        self.installed = installed


class CommandFailed(NetnsError):
    """exec could not run the command (the namespace was entered)."""


class Unsafe(NetnsError):
    """The target would hand out the host: the caller's or PID 1's namespace, or a PID
    namespace whose processes could reach the host through the command. --force overrides."""
