"""Rootless Podman: the containers of one user's own Podman, as ``podman:USER@NAME`` (for
root) or ``podman:NAME`` (for that user itself), asked through that user's podman CLI.

USER@ goes in the container word, not in a --user option, because the word is what every
verb takes as a container (attach's source, exec's target, exec --pid) and what records and
list -d show as the owner: one word reaches all of them. Podman container names and IDs
never hold '@'. Root runs the user's podman as that user (setpriv, with XDG_RUNTIME_DIR set
as a login would: no systemd may have made it); the user itself runs its own.

The host sees neither what proves a rootful container's process (no cgroup is named after a
rootless container on cgroup v1) nor its SandboxKey (an empty file: the nsfs mount is only
in the mount namespace of the user's pause process, which conmon shares). What is checked
instead, while the process is pinned (Container.problem):
- its user namespace, and the one owning its network namespace, were made by USER (the
  NS_GET_OWNER_UID ioctl): whatever USER's podman answers, nothing is named or entered that
  USER could not enter by itself (but the host's own, which pin then refuses without
  --force, as for a --network host container);
- its parent is the conmon started for this container ID (conmon -c ID);
- the namespace at its SandboxKey, seen through that conmon's /proc/PID/root, is its own.
"""
import os

from . import _proc, _sys, containers
from .errors import ContainerError, EngineUnavailable, NoSuchContainer

NS_GET_USERNS = 0xB701  # linux/nsfs.h: _IO(0xb7, 0x1), a new fd of the owning user namespace
NS_GET_OWNER_UID = 0xB704  # _IO(0xb7, 0x4): the UID that made a user namespace
MAX_CMDLINE = 1 << 16


def split_user(ref):
    """'dev@web' → ('dev', 'web'); 'web' → (None, 'web')."""
    user, sep, name = ref.rpartition("@")
    return (user, name) if sep else (None, ref)


def _account(user):
    """The passwd entry of ``user`` (a name or a UID); None: the caller itself."""
    import pwd
    from ._text import printable
    try:
        if user is None:
            return pwd.getpwuid(os.geteuid())
        return pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except (KeyError, ValueError, OverflowError):
        if user is None:  # a caller without a passwd entry: its UID will do
            return pwd.struct_passwd((str(os.geteuid()), "x", os.geteuid(), os.getegid(),
                                      "", "/", "/bin/sh"))
        raise NoSuchContainer(f'podman: no such user "{printable(user)}"') from None


def find(word):
    """containers.find(word), where 'podman:USER@NAME' (and, for a caller that is not root,
    'podman:NAME') is asked of that user's rootless Podman."""
    engine, ref = containers.split_spec(word)
    if engine == "podman" and ("@" in ref or os.geteuid() != 0):
        return inspect(ref)
    return containers.find(word)


def inspect(ref):
    """The container ``ref`` ('USER@NAME', or the caller's own 'NAME') names in that user's
    rootless Podman; root's own Podman when USER is root."""
    user, name = split_user(ref)
    if not name:
        raise NoSuchContainer("podman: no container named")
    account = _account(user)
    if account.pw_uid == 0:
        if os.geteuid() != 0:
            raise ContainerError("podman: only root can ask root's Podman")
        return containers.Podman().inspect(name)
    return Podman(account).inspect(name)


class Podman(containers.Podman):
    """One user's rootless Podman: its CLI, run as that user."""

    def __init__(self, account):
        super().__init__()
        self.account = account
        self.label = f"podman (user {account.pw_name})"
        uid = account.pw_uid
        if os.geteuid() == uid:
            self.prefix: tuple[str, ...] = ()  # its own podman, in its own environment
        elif os.geteuid() == 0:
            setpriv = containers._which("setpriv")
            if setpriv is None:
                raise EngineUnavailable(f"{self.label}: no setpriv in PATH (util-linux) to "
                                        "run it as that user")
            # env -C /: the caller's working directory may be closed to the user
            self.prefix = (f"--reuid={uid}", f"--regid={account.pw_gid}", "--init-groups",
                           "--reset-env", "/usr/bin/env", "-C", "/",
                           f"XDG_RUNTIME_DIR=/run/user/{uid}", self.exe)
            self.exe = setpriv
        else:
            raise ContainerError(f"{self.label}: only root or that user can ask it")

    def _run(self, *args):
        return super()._run(*self.prefix, *args)

    def inspect(self, ref, pods=False):
        """Podman's inspect (a user's pods are not looked up) with this user's Podman named
        in every message; the answer as a rootless Container."""
        try:
            plain = super().inspect(ref, pods=False)
        except (NoSuchContainer, EngineUnavailable) as e:  # "podman: what went wrong"
            raise type(e)(f"{self.label}: {str(e).partition(': ')[2]}") from None
        return Container.of(self, plain)


class Container(containers.Container):
    """A rootless container: named USER@NAME, asked about through ``client`` (the user's
    Podman, for --network container:X too) and proved its own way (problem)."""

    __slots__ = ("user", "uid", "client")
    user: str
    uid: int
    client: Podman

    @classmethod
    def of(cls, client, plain):
        """The container of ``client`` (a user's Podman) that ``plain`` (its answer) is."""
        self = object.__new__(cls)
        for slot in containers.Container.__slots__:
            setattr(self, slot, getattr(plain, slot))
        self.user, self.uid = client.account.pw_name, client.account.pw_uid
        self.client = client
        self.name = f"{self.user}@{plain.name}"
        return self

    def as_json(self):
        # name and id as podman: takes them, so that a record leads back to this Podman
        return {"engine": self.engine, "name": self.name, "id": f"{self.user}@{self.id}"}

    def problem(self, pinned):
        """Why the pinned process cannot be proved to be this container's, or None (the
        checks of the module's docstring)."""
        pid = pinned.pid
        try:
            with open(f"/proc/{pid}/ns/user", "rb", buffering=0) as f:
                if containers.host_owner(_identity(f.fileno()), "user"):
                    return (f"process {pid} is in the host's user namespace: it is not a "
                            "rootless container's")
                made_by = _owner_uid(f.fileno())
            users = _sys.ioctl(pinned.net_fd, NS_GET_USERNS)
            try:
                net_made_by = _owner_uid(users)
            finally:
                os.close(users)
        except OSError as e:
            return f"cannot read the user namespace of its process {pid}: {e.strerror}"
        if made_by != self.uid:
            return (f"process {pid} is in a user namespace of UID {made_by}, not of "
                    f"{self.user}")
        # The host's own (--network host) is refused after this, unless --force.
        if net_made_by != self.uid and not containers.host_owner(pinned.identity):
            return (f"the network namespace of process {pid} belongs to UID {net_made_by}, "
                    f"not to {self.user}")
        conmon = _proc.stat_field(pid, 4)  # its parent
        if conmon is None or not _is_conmon_of(conmon, self.id):
            return (f"process {pid} is not the one conmon started for container "
                    f"{self.short_id}: it is not the container's process (the container "
                    "restarted, or the engine's answer is wrong)")
        if self.sandbox_key:
            try:
                st = os.stat(f"/proc/{conmon}/root/{self.sandbox_key.lstrip('/')}")
                seen = (st.st_dev, st.st_ino)
            except (OSError, ValueError):
                seen = None
            if seen != pinned.identity:
                from ._text import printable
                return (f"process {pid} is not in the network namespace at its SandboxKey "
                        f"{printable(self.sandbox_key)} (seen by conmon {conmon})")
        return None


def user_of(pid):
    """Who made the user namespace owning the network namespace of process ``pid``, as a
    user name (else a UID), when it is not root (a rootless container's, say); else None."""
    try:
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            users = _sys.ioctl(fd, NS_GET_USERNS)
        finally:
            os.close(fd)
        try:
            uid = _owner_uid(users)
        finally:
            os.close(users)
    except OSError:
        return None
    if uid == 0:
        return None
    import pwd
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _identity(fd):
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def _owner_uid(fd):
    import fcntl
    import struct
    uid = bytearray(4)
    fcntl.ioctl(fd, NS_GET_OWNER_UID, uid)
    return struct.unpack("=I", uid)[0]


def _is_conmon_of(pid, cid):
    """Is process ``pid`` a conmon whose command line names container ``cid`` (-c ID)?"""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read(MAX_CMDLINE).split(b"\0")
    except OSError:
        return False
    if os.path.basename(args[0]) != b"conmon":
        return False
    import itertools
    want = cid.encode()
    return any(a in (b"-c", b"--cid") and b == want for a, b in itertools.pairwise(args))
