"""Every network namespace on the host, as data: where it was found, who owns it, what is in it.

Namespaces are found from three sources, as lsns and `ip netns list` do between them: the
entries of /run/netns, nsfs bind mounts anywhere in the mount table of every mount
namespace (/run/docker/netns, /run/user/UID/netns...), and /proc/PID/ns/net of every
process; they are the same namespace when (st_dev, st_ino) match. To read one, a throw-away
thread enters it (the caller's threads never change namespace), dumps its links and
addresses over rtnetlink and reads its listening sockets. One pass opens each namespace
once: the same descriptor is asked its nsid (on a socket of the caller's namespace, made
before the thread moves) and entered.

Start-up counts (`which` should cost little more than starting Python): the engines'
module (json) is imported only to ask the engines, the socket reader only for ports, and
the thread is a bare _thread one (threading costs a few ms of imports).
"""
import _thread
import os

from . import _nsid, _proc, _rtnl, _sys, ns, store
from .errors import NetnsError

HOST = "host"


class Namespace:
    """One network namespace. ``names``: its /run/netns entries; ``mounts``: other nsfs
    mount points of it ("PATH" in the caller's mount namespace, "PATH in mnt:[N]" in
    another); ``pids``: processes in it, lowest first; ``containers``: engine containers
    using it, the one that holds it first; ``links``: _rtnl.Link (None when ``error``
    says why it could not be read); ``peers``: link index → (Namespace, Link) at the other
    end of a veth; ``nsid``: its nsid in the caller's namespace."""

    __slots__ = ("dev", "ino", "names", "mounts", "pids", "nsid", "is_host", "is_caller",
                 "containers", "links", "listeners", "peers", "error", "_command",
                 "_sources", "_by_index", "user")

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
        self._command: str | bool | None = False  # not read yet
        self._by_index = None

    @property
    def identity(self):
        return self.dev, self.ino

    @property
    def pid(self):
        return self.pids[0] if self.pids else None

    @property
    def command(self):
        """The command name of its lowest PID (None without one), read when first asked."""
        if self._command is False:
            self._command = _comm(self.pid) if self.pid else None
        return self._command

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
        self.seen_mounts = set()

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
        by_link: dict[str, list[int]] = {}  # "net:[INO]" → PIDs: one parse a namespace
        hidden = 0
        for pid in _proc.proc_pids():
            try:
                net = readlink(f"/proc/{pid}/ns/net")
                mnt = readlink(f"/proc/{pid}/ns/mnt")
            except FileNotFoundError:
                continue  # exited meanwhile
            except OSError:
                hidden += 1
                continue
            by_link.setdefault(net, []).append(int(pid))
            mount_namespaces.setdefault(mnt, pid)
        for net, pids in by_link.items():
            ino = _ino(net)
            if ino is not None:
                self.get(self.nsfs, ino).pids.extend(pids)
        for n in self.found.values():
            n.pids.sort()
            n._sources.extend(f"/proc/{p}/ns/net" for p in n.pids[:3])
        return mount_namespaces, hidden

    def entries(self, with_nsid=False):
        """The namespaces of /run/netns; {identity: nsid here} of them ``with_nsid`` (asked
        as `list` asks them, on the descriptors the check opened)."""
        nsids: dict[tuple[int, int], int | None] = {}
        try:
            found = store.entries(with_nsid=with_nsid)
        except NetnsError:
            return nsids  # /run/netns unreadable: `ip netns list` shows nothing either
        for e in found:
            if e.ok:
                n = self.get(e.checked.dev, e.checked.ino)
                n.names.append(e.name)
                n._sources.append(store.path_of(e.name))
                if with_nsid:
                    nsids[n.identity] = n.nsid = e.nsid
        return nsids

    def mounts(self, mount_namespaces, ours=True):
        """nsfs mounts of network namespaces, in the caller's mount namespace (unless not
        ``ours``: read already) and others."""
        here = os.readlink("/proc/self/ns/mnt")
        others = [(mnt, pid) for mnt, pid in mount_namespaces.items() if mnt != here]
        seen = self.seen_mounts  # (root, point): other mount namespaces hold copies of ours
        for mnt, pid in [(here, "self")] * ours + others:
            try:
                table = _proc.nsfs_mounts(pid)
            except OSError:
                continue  # exited, or not ours to read
            for raw in table:
                if raw in seen or not raw[1].startswith(b"net:["):
                    continue
                seen.add(raw)
                point, ino = _proc.decoded(raw[0]), _ino(_proc.decoded(raw[1]))
                if ino is None:
                    continue
                n = self.get(self.nsfs, ino)
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
    done = _thread.allocate_lock()
    done.acquire()

    def run():
        try:
            work()
        except BaseException as e:  # handed to the caller's thread
            failure.append(e)
        finally:
            done.release()

    _thread.start_new_thread(run, ())
    done.acquire()
    if failure:
        raise failure[0]


def _enter(n, fd=None):
    """Move the calling (throw-away) thread into ``n`` (through ``fd`` when given); sets
    n.error and returns False if it cannot."""
    if fd is None:
        try:
            fd = _open(n)
        except OSError as e:
            n.error = f"cannot open it: {e.strerror}"
            return False
        try:
            return _enter(n, fd)
        finally:
            os.close(fd)
    try:
        _sys.setns(fd, _sys.CLONE_NEWNET)
    except OSError as e:
        n.error = f"cannot enter it: {e.strerror}"
        return False
    return True


def _read(n, sockets):
    """Dump the namespace the calling thread is in into ``n``."""
    try:
        n.links = _rtnl.links()
        if sockets:
            from . import _sockdiag
            n.listeners = _sockdiag.listeners()
        else:
            n.listeners = []
    except OSError as e:
        n.links = n.listeners = None
        n.error = f"cannot read it: {e.strerror}"


def _every(n):
    return True


def _read_all(namespaces, dump, sockets, ask=_every):
    """Set the nsid of each namespace ``ask`` accepts (None: none) and read those ``dump``
    accepts (None: none), opening each once. The caller's own namespace is read where the
    caller is (first, by collect(): its dump may make the kernel assign nsids in it):
    entering it would need CAP_SYS_ADMIN, which an unprivileged caller lacks."""
    for n in namespaces:
        if n.is_caller and dump and dump(n):
            _read(n, sockets)

    def work():
        asker = _rtnl.NsidAsker() if ask else None  # made here: in the caller's namespace
        try:
            for n in namespaces:
                wanted = dump is not None and not n.is_caller and dump(n)
                asking = ask is not None and ask(n)
                if not (wanted or asking):
                    continue
                try:
                    fd = _open(n)
                except OSError as e:
                    if wanted:
                        n.error = f"cannot open it: {e.strerror}"
                    continue
                try:
                    if asker is not None and asking:
                        asker.ask(fd, n.identity)
                    if wanted and _enter(n, fd):
                        _read(n, sockets)
                finally:
                    os.close(fd)
            if asker is not None:
                asker.wait()
                for n in namespaces:
                    if n.identity in asker.nsids:
                        n.nsid = asker.nsids[n.identity]
        finally:
            if asker is not None:
                asker.close()
    # One thread: two, each with half the namespaces, were slower (measured: the dumps
    # serialize in the kernel).
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

    def settle(n, pairs, nsids):
        for (x, m, y), nsid in zip(pairs, nsids):
            if nsid is not None and nsid == x.link_netnsid:
                n.peers[x.index] = (m, y)
                if x.kind == y.kind == "veth":  # a veth pair: each end is the other's peer
                    m.peers[y.index] = (n, x)

    # The caller's view first: the nsids asked there are every namespace's ``nsid``.
    for n, pairs in to_check.values():
        if n.is_caller:
            settle(n, pairs, [m.nsid for _, m, _ in pairs])
    rest = [(n, [p for p in pairs if p[0].index not in n.peers])
            for n, pairs in to_check.values() if not n.is_caller]
    rest = [(n, pairs) for n, pairs in rest if pairs]

    def work():
        for n, pairs in rest:
            if _enter(n):
                settle(n, pairs, _nsids_of([m for _, m, _ in pairs]))
    if rest:
        _on_a_thread(work)


def _owners(found):
    """Attach the running containers, then the node's pod sandboxes, to the namespaces
    they use; the errors of the engines (and runtime) that did not answer."""
    from . import containers
    running, errors = _running()
    # Holders before the containers that only share their namespace (--network container:).
    for c in sorted(running, key=lambda c: c.shares_with is not None):
        sandbox = containers.sandbox_identity(c)
        n = found.get(sandbox) or _of_pid(found, c.pid)
        if n is not None and (n.identity == sandbox or _in_cgroup(c)):
            n.containers.append(c)
    errors += _pods(found)
    from . import rootless
    for n in found.values():  # a user's own, rootless Podman's among them
        if not n.containers and not n.is_host and n.pid:
            n.user = rootless.user_of(n.pid)
    return [str(e) for e in errors if getattr(e, "installed", True)]


def _of_pid(found, pid):
    """The namespace of ``found`` that process ``pid`` is in now, or None (a focused
    Inventory has read no process: this asks the one the engine names)."""
    try:
        ino = _ino(os.readlink(f"/proc/{pid}/ns/net")) if pid else None
    except OSError:
        return None
    return found.get((ns.nsfs_device(), ino))


def _pods(found):
    """Attach the node's pod sandboxes (cri.sandboxes(), when it has a CRI runtime: the
    socket is all that is looked at when it has none) to their namespaces: the one of the
    netns file the runtime names, else that of the sandbox's process, proved as for a
    container. Returns the runtime's error, if it did not answer."""
    from . import cri
    from .errors import ContainerError
    try:
        pods = cri.sandboxes()
    except ContainerError as e:
        return [e]
    for p in pods:
        if p.network_mode == cri.NODE:
            continue  # hostNetwork: the node's namespace, whose owner is "host"
        n = None
        if p.netns_path:
            try:
                n = found.get(cri._netns_file_identity(p))
            except ContainerError:
                pass  # the file is gone (a sandbox being removed)
        if n is None and p.running and _in_cgroup(p):
            n = _of_pid(found, p.pid)
        if n is not None:
            n.containers.append(p)
    return []


def _running():
    """containers.running_everywhere(), but an engine whose containers all went between
    its listing and their inspection (NoSuchContainer) has none rather than failing all."""
    from . import containers
    from .errors import ContainerError, NoSuchContainer
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
    proof attach uses: its cgroup path names the container's (or sandbox's) full ID."""
    from . import containers
    try:
        with open(f"/proc/{c.pid}/cgroup") as f:
            return containers.in_cgroup_of(f.read(), c.id)
    except OSError:
        return False


def collect(interfaces=True, sockets=True, owners=True, focus=None):
    """The Inventory of every network namespace the caller can see. ``interfaces`` (and
    ``sockets``, ``owners``) false skips entering namespaces (asking the engines).
    ``focus``, {"name": NAME} or {"index": INDEX} of a link: when the caller's namespace
    has it, the Inventory holds only the caller's namespace with that link (and the one
    its IFLA_LINK names there) and the namespace at its far end (what `which NAME` shows),
    which is looked for no further than needed."""
    if focus is not None and interfaces:
        focused = _collect_focused(focus, sockets, owners)
        if focused is not None:
            return focused
    finder = _Finder()
    here = _identity("/proc/thread-self/ns/net")
    if interfaces and here is not None:
        # First: the caller's dump may make the kernel assign nsids here (to the far ends
        # of its veths), and the entries' nsids are asked next.
        _read(finder.get(*here), sockets)
    mount_namespaces, hidden = finder.processes()
    known = finder.entries(with_nsid=True)  # asked on the descriptors of their check
    finder.mounts(mount_namespaces)
    found = finder.found
    _mark(found)
    namespaces = sorted(found.values(), key=lambda n: n.ino)
    _read_all(namespaces, (lambda n: not n.is_caller) if interfaces else None, sockets,
              ask=lambda n: n.identity not in known)
    if interfaces:
        _link_peers(namespaces)
    warnings = _owners(found) if owners else []
    return Inventory(namespaces, warnings, hidden)


def _mark(found):
    for ident, flag in ((_identity(f"/proc/{_init_pid()}/ns/net"), "is_host"),
                        (_identity("/proc/thread-self/ns/net"), "is_caller")):
        if ident in found:
            setattr(found[ident], flag, True)


def _collect_focused(focus, sockets, owners):
    """collect() with ``focus``, or None when the caller's namespace has no such link.
    The far end's namespace is the one whose nsid here is the link's IFLA_LINK_NETNSID:
    the sources are read, and their namespaces asked their nsid (nothing entered), a kind
    at a time until it is found: /run/netns, our mount table, then every process and the
    mount tables of the others."""
    here = _identity("/proc/thread-self/ns/net")
    try:
        x = _rtnl.link(**focus)
        if x is None or here is None:
            return None
        links = [x]
        if x.link and x.link_netnsid is None and x.link != x.index:
            y = _rtnl.link(index=x.link)  # its parent, or its veth peer, here
            links += [y] if y is not None else []
    except OSError:
        return None
    finder = _Finder()
    caller = finder.get(*here)
    caller.links, caller.is_caller = links, True
    asked = finder.entries(with_nsid=x.link_netnsid is not None)
    hidden = 0
    far = None
    if x.link_netnsid is not None:
        far = next((finder.found[i] for i, got in asked.items() if got == x.link_netnsid),
                   None)
        if far is None:
            finder.mounts({})
            far = _with_nsid(finder, x.link_netnsid, asked)
        if far is None:
            mount_namespaces, hidden = finder.processes()
            finder.mounts(mount_namespaces, ours=False)
            far = _with_nsid(finder, x.link_netnsid, asked)
    found = {n.identity: n for n in (caller, far) if n is not None}
    _mark(found)
    namespaces = sorted(found.values(), key=lambda n: n.ino)
    if far is not None and far is not caller:
        _read_all([far], _every, sockets, ask=None)
    _link_peers(namespaces)
    warnings = _owners(found) if owners else []
    return Inventory(namespaces, warnings, hidden)


def _with_nsid(finder, nsid, asked):
    """The namespace found so far whose nsid here is ``nsid``, asking those not in
    ``asked`` (identity → its nsid) yet; None if none has it."""
    asker = _rtnl.NsidAsker()
    try:
        for n in list(finder.found.values()):
            if n.identity in asked or n.is_caller:
                continue
            asked[n.identity] = None
            try:
                fd = _open(n)
            except OSError:
                continue
            try:
                asker.ask(fd, n.identity)
            finally:
                os.close(fd)
        asker.wait()
    finally:
        asker.close()
    asked.update(asker.nsids)
    for identity, got in asked.items():
        finder.found[identity].nsid = got
    return next((finder.found[i] for i, got in asker.nsids.items() if got == nsid), None)


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
