"""Every network namespace on the host, as data: where it was found, who owns it, what is in it.

Namespaces are found from three sources, as lsns and `ip netns list` do between them: the
entries of /run/netns, nsfs bind mounts anywhere in the mount table of every mount
namespace (/run/docker/netns, /run/user/UID/netns...), and /proc/PID/ns/net of every
process; they are the same namespace when (st_dev, st_ino) match. To read one, a throw-away
thread enters it (the caller's threads never change namespace), dumps its links and
addresses over rtnetlink and reads its listening sockets.
"""
import os
import threading

from . import _nsid, _procnet, _rtnl, _sys, containers, holders, ns, procs, rootless, store
from .errors import ContainerError, NetnsError, NoSuchContainer

HOST = "host"


class Namespace:
    """One network namespace. ``names``: its /run/netns entries; ``mounts``: other nsfs
    mount points of it ("PATH" in the caller's mount namespace, "PATH in mnt:[N]" in
    another); ``pids``: processes in it, lowest first; ``containers``: engine containers
    using it, the one that holds it first; ``links``: _rtnl.Link (None when ``error``
    says why it could not be read); ``peers``: link index → (Namespace, Link) at the other
    end of a veth; ``nsid``: its nsid in the caller's namespace."""

    __slots__ = ("dev", "ino", "names", "mounts", "pids", "nsid", "is_host", "is_caller",
                 "containers", "links", "listeners", "peers", "error", "command", "_sources",
                 "_by_index", "user")

    def __init__(self, dev, ino):
        self.dev, self.ino = dev, ino
        self.names, self.mounts, self.pids, self._sources = [], [], [], []
        self.nsid = None
        self.is_host = self.is_caller = False
        self.containers = []
        self.user = None  # who owns it when not root (rootless.user_of)
        self.links = self.listeners = None
        self.peers = {}
        self.error = None
        self.command = None
        self._by_index = None

    @property
    def identity(self):
        return self.dev, self.ino

    @property
    def pid(self):
        return self.pids[0] if self.pids else None

    @property
    def owner(self):
        """"host" for the initial namespace, else the containers using it, else None."""
        if self.is_host:
            return HOST
        return (",".join(f"{c.engine}:{c.name}" for c in self.containers)
                or (f"user:{self.user}" if self.user else None))

    def link(self, index):
        """The link with this index here, or None."""
        if self._by_index is None:
            self._by_index = {x.index: x for x in self.links or ()}
        return self._by_index.get(index)

    def __repr__(self):
        return f"Namespace(net:[{self.ino}], names={self.names}, pids={len(self.pids)})"


class Inventory:
    """The namespaces (by inode), warnings about what could not be asked (engines), and
    how many processes hid their namespace from the caller."""

    def __init__(self, namespaces, warnings, hidden_pids):
        self.namespaces = namespaces
        self.warnings = warnings
        self.hidden_pids = hidden_pids

    def find(self, identity):
        return next((n for n in self.namespaces if n.identity == identity), None)


def _ino(link_text):
    """The inode of "net:[INO]", else None."""
    if link_text.startswith("net:[") and link_text.endswith("]"):
        return int(link_text[5:-1])
    return None


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return os.fsdecode(f.read().rstrip(b"\n"))
    except OSError:
        return None


class _Finder:
    """Namespaces by identity, as the sources are read."""

    def __init__(self):
        self.found = {}
        self.nsfs = ns.nsfs_device()

    def get(self, dev, ino):
        key = (dev, ino)
        if key not in self.found:
            self.found[key] = Namespace(dev, ino)
        return self.found[key]

    def processes(self):
        """/proc/PID/ns/net of every process; returns {mount ns: a pid in it} and how many
        processes could not be read (another user's, as a non-root caller)."""
        readlink = os.readlink
        mount_namespaces: dict[str, str] = {}
        hidden = 0
        for pid in procs.proc_pids():
            try:
                ino = _ino(readlink(f"/proc/{pid}/ns/net"))
                mnt = readlink(f"/proc/{pid}/ns/mnt")
            except FileNotFoundError:
                continue  # exited meanwhile
            except OSError:
                hidden += 1
                continue
            if ino is not None:
                self.get(self.nsfs, ino).pids.append(int(pid))
                mount_namespaces.setdefault(mnt, pid)
        for n in self.found.values():
            n.pids.sort()
            n._sources.extend(f"/proc/{p}/ns/net" for p in n.pids[:3])
        return mount_namespaces, hidden

    def entries(self):
        try:
            found = store.entries(with_nsid=False)
        except NetnsError:
            return  # /run/netns unreadable: `ip netns list` shows nothing either
        for e in found:
            if e.ok:
                n = self.get(e.checked.dev, e.checked.ino)
                n.names.append(e.name)
                n._sources.append(store.path_of(e.name))

    def mounts(self, mount_namespaces):
        """nsfs mounts of network namespaces, in the caller's mount namespace and others."""
        here = os.readlink("/proc/self/ns/mnt")
        others = [(mnt, pid) for mnt, pid in mount_namespaces.items() if mnt != here]
        seen = set()  # (inode, point): other mount namespaces hold copies of ours
        for mnt, pid in [(here, "self")] + others:
            try:
                table = list(holders.mountinfo(pid))
            except OSError:
                continue  # exited, or not ours to read
            for point, root, fstype in table:
                ino = _ino(root) if fstype == "nsfs" else None
                if ino is None:
                    continue
                n = self.get(self.nsfs, ino)
                if (ino, point) in seen:
                    continue
                seen.add((ino, point))
                if pid == "self":
                    if os.path.dirname(point) != store.RUN_DIR:  # entries are its names
                        n.mounts.append(point)
                    n._sources.append(point)
                else:
                    n.mounts.append(f"{point} in {mnt}")
                    n._sources.append(f"/proc/{pid}/root{point}")


def _is_proc_link(path):
    """/proc/PID/ns/net: the kernel's own link (a foreign mount point, /proc/PID/root/...,
    is a path that mount namespace's users may have swapped)."""
    parts = path.split("/")
    return len(parts) == 5 and parts[:2] == ["", "proc"] and parts[2].isdigit() \
        and parts[3:] == ["ns", "net"]


def _open(n):
    """A descriptor of namespace ``n`` from one of its sources, checked to be it (a source
    may have been replaced since it was read); OSError when none is."""
    error = OSError(2, f"net:[{n.ino}] is gone")
    for path in n._sources:
        try:
            if _is_proc_link(path):
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            else:
                # A mount point is a path others may swap: never open what is not nsfs.
                c = ns.check(path, keep_fd=True, check_type=False)
                if c.fd < 0:
                    continue
                fd = c.fd
        except OSError as e:
            error = e
            continue
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) == n.identity:
            return fd
        os.close(fd)
    raise error


def _on_a_thread(work):
    """Run ``work()`` on a new thread, which may enter other namespaces and dies after."""
    failure = []

    def run():
        try:
            work()
        except BaseException as e:  # handed to the caller's thread
            failure.append(e)

    t = threading.Thread(target=run, name="pynetns-inventory")
    t.start()
    t.join()
    if failure:
        raise failure[0]


def _enter(n):
    """Move the calling (throw-away) thread into ``n``; sets n.error and returns False if
    it cannot."""
    try:
        fd = _open(n)
    except OSError as e:
        n.error = f"cannot open it: {e.strerror}"
        return False
    try:
        _sys.setns(fd, _sys.CLONE_NEWNET)
    except OSError as e:
        n.error = f"cannot enter it: {e.strerror}"
        return False
    finally:
        os.close(fd)
    return True


def _read(n, sockets):
    """Dump the namespace the calling thread is in into ``n``."""
    try:
        n.links = _rtnl.links()
        n.listeners = _procnet.listeners() if sockets else []
    except OSError as e:
        n.links = n.listeners = None
        n.error = f"cannot read it: {e.strerror}"


def _read_all(namespaces, sockets):
    # The caller's own namespace is read where the caller is: entering it would need
    # CAP_SYS_ADMIN, which an unprivileged caller lacks.
    for n in namespaces:
        if n.is_caller:
            _read(n, sockets)

    def work():
        for n in namespaces:
            if not n.is_caller and _enter(n):
                _read(n, sockets)
    _on_a_thread(work)


def _nsids_of(namespaces):
    """nsid_replies() of these namespaces from the calling thread's namespace, opened and
    asked a chunk at a time (a few hundred descriptors at once could exceed the limit)."""
    result: list[int | None] = []
    for start in range(0, len(namespaces), _nsid.CHUNK):
        fds = []
        try:
            for n in namespaces[start:start + _nsid.CHUNK]:
                try:
                    fds.append(_open(n))
                except OSError:
                    fds.append(-1)
            asked = [fd for fd in fds if fd >= 0]
            answers = iter(_nsid.nsid_replies(asked) if asked else [])
            result.extend(next(answers)[0] if fd >= 0 else None for fd in fds)
        finally:
            for fd in fds:
                if fd >= 0:
                    os.close(fd)
    return result


def _link_peers(namespaces):
    """Fill ``peers``: both ends of each veth. The far end of a link with IFLA_LINK_NETNSID
    is the link whose index is its IFLA_LINK and whose IFLA_LINK is its index, in the
    namespace that has that nsid as seen from the near end (asked there, since an nsid
    means something only in the namespace that assigned it)."""
    by_key: dict[tuple[int, int | None], list[tuple[Namespace, _rtnl.Link]]] = {}
    for n in namespaces:
        for x in n.links or ():
            by_key.setdefault((x.index, x.link), []).append((n, x))
    to_check: dict[tuple[int, int],
                   tuple[Namespace, list[tuple[_rtnl.Link, Namespace, _rtnl.Link]]]] = {}
    for n in namespaces:
        for x in n.links or ():
            if x.link is None:
                continue
            if x.link_netnsid is None:
                peer = n.link(x.link)
                if peer is not None and peer is not x and x.kind == "veth":
                    n.peers[x.index] = (n, peer)
                continue
            for m, y in by_key.get((x.link, x.index), ()):
                if m is not n and y.link_netnsid is not None:
                    to_check.setdefault(n.identity, (n, []))[1].append((x, m, y))
    if not to_check:
        return

    def check(n, pairs):
        for (x, m, y), nsid in zip(pairs, _nsids_of([m for _, m, _ in pairs])):
            if nsid == x.link_netnsid:
                n.peers[x.index] = (m, y)

    def work():
        for n, pairs in to_check.values():
            if not n.is_caller and _enter(n):
                check(n, pairs)
    for n, pairs in to_check.values():
        if n.is_caller:
            check(n, pairs)
    _on_a_thread(work)


def _owners(found):
    """Attach the running containers to the namespaces they use; the engines' errors."""
    running, errors = _running()
    by_pid = {p: n for n in found.values() for p in n.pids}
    # Holders before the containers that only share their namespace (--network container:).
    for c in sorted(running, key=lambda c: c.shares_with is not None):
        sandbox = containers.sandbox_identity(c)
        n = found.get(sandbox) or by_pid.get(c.pid)
        if n is not None and (n.identity == sandbox or _in_cgroup(c)):
            n.containers.append(c)
    for n in found.values():  # a user's own, rootless Podman's among them
        if not n.containers and not n.is_host and n.pid:
            n.user = rootless.user_of(n.pid)
    return [str(e) for e in errors if getattr(e, "installed", True)]


def _running():
    """containers.running_everywhere(), but an engine whose containers all went between
    its listing and their inspection (NoSuchContainer) has none rather than failing all."""
    running, errors = [], []
    for name in containers.ENGINES:
        try:
            running.extend(containers.engine(name).running())
        except NoSuchContainer:
            continue
        except ContainerError as e:  # down, or a bad answer: no owners from it
            errors.append(e)
    return running, errors


def _in_cgroup(c):
    """Whether c.pid here is the container's process: an engine's PID means another
    process under a PID namespace of our own, or once the container's has exited. The
    proof attach uses: its cgroup path names the container's full ID."""
    try:
        with open(f"/proc/{c.pid}/cgroup") as f:
            return containers.in_cgroup_of(f.read(), c.id)
    except OSError:
        return False


def collect(interfaces=True, sockets=True, owners=True):
    """The Inventory of every network namespace the caller can see. ``interfaces`` (and
    ``sockets``, ``owners``) false skips entering namespaces (asking the engines)."""
    finder = _Finder()
    mount_namespaces, hidden = finder.processes()
    finder.entries()
    finder.mounts(mount_namespaces)
    found = finder.found
    for ident, flag in ((_identity(f"/proc/{_init_pid()}/ns/net"), "is_host"),
                        (_identity("/proc/thread-self/ns/net"), "is_caller")):
        if ident in found:
            setattr(found[ident], flag, True)
    namespaces = sorted(found.values(), key=lambda n: n.ino)
    for n in namespaces:
        n.command = _comm(n.pid) if n.pid else None
    if interfaces:
        _read_all(namespaces, sockets)
        _link_peers(namespaces)
    # After the dumps: a dump of a veth's end makes the kernel assign its peer an nsid.
    for n, nsid in zip(namespaces, _nsids_of(namespaces)):
        n.nsid = nsid
    warnings = _owners(found) if owners else []
    return Inventory(namespaces, warnings, hidden)


def _init_pid():
    """The process whose namespace is the host's: kthreadd (PID 2, parent 0), whose kernel
    threads all run in the initial namespace, else PID 1 (in a PID namespace of its own,
    /proc shows no kernel thread)."""
    try:
        with open("/proc/2/stat", "rb") as f:
            stat = f.read()
        if stat[stat.rfind(b")") + 2:].split()[1] == b"0":
            return 2
    except (OSError, IndexError):
        pass
    return 1


def _identity(path):
    try:
        return ns.identity(path)
    except OSError:
        return None
