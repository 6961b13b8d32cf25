"""Container engines: a Docker or Podman container → its process, pinned against PID reuse.

Every engine client is an Engine (the interface below): Docker is asked over its Engine API
socket (DOCKER_HOST, default /var/run/docker.sock) with a minimal HTTP/1.1 client
(http.client would cost ~25 ms of imports: ssl, email); Podman through its own CLI, which
honours CONTAINER_HOST by itself. Both answer in the same inspect format, which is checked
field by field in one place (Container) before anything trusts it. Each request has one
deadline and a size cap, whatever the engine does. Only the container verbs (and completion
of ENGINE: words) import this module.
"""
import os
import time

from . import _jsonc  # not the json package: it imports re and enum
from .errors import ContainerError, EngineUnavailable, NoSuchContainer, Unsafe

TIMEOUT = 30  # seconds for one whole engine request; a hung daemon must not hang pynetns
QUICK = 0.5  # seconds for a request that only helps (a hint, a TAB press): a shell must not freeze
MAX_ANSWER = 16 << 20  # bytes: an inspect is a few KiB, a listing of 1,000 containers ~2 MiB
PID_MAX = 1 << 22  # the kernel's PID_MAX_LIMIT: no PID is larger
_HEX = frozenset("0123456789abcdef")


def _kind(value):
    """A JSON value's type, as an error message names it."""
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number",
            list: "a list", dict: "an object", type(None): "null"}.get(type(value),
                                                                       type(value).__name__)


def valid_id(value):
    """Docker and Podman container IDs are 64 lowercase hex digits."""
    return isinstance(value, str) and len(value) == 64 and _HEX.issuperset(value)


class Container:
    """What an engine says about a container (its inspect data, trimmed), checked: an
    answer of another shape raises EngineUnavailable naming the engine and the field.

    A Podman pod's infra container (``infra``, in pod ``pod``) stands for its pod once
    ``pod_name`` is known: it answers to the pod's name and ID, and its entry is named
    after the pod."""

    __slots__ = ("engine", "id", "name", "pid", "status", "paused", "network_mode",
                 "sandbox_key", "pod", "infra", "pod_name")

    def __init__(self, engine, data):
        self.engine = engine
        if not isinstance(data, dict):
            self._bad(f"the container is {_kind(data)}, not an object")
        if not valid_id(data.get("Id")):
            self._bad("Id is missing" if "Id" not in data else
                      f"Id {_show(data['Id'])} is not 64 hex digits")
        self.id = data["Id"]
        self.name = self._str(data, "Name").lstrip("/")
        state = self._object(data, "State", required=True)
        pid = state.get("Pid")
        if type(pid) is not int or not 0 <= pid < PID_MAX:
            self._bad(f"State.Pid is {_show(pid)}, not a PID")
        self.pid = pid
        self.status = self._str(state, "Status", "State.")
        paused = state.get("Paused", False)
        if type(paused) is not bool:
            self._bad(f"State.Paused is {_kind(paused)}, not a boolean")
        self.paused = paused
        self.network_mode = self._str(self._object(data, "HostConfig"), "NetworkMode",
                                      "HostConfig.")
        self.sandbox_key = self._str(self._object(data, "NetworkSettings"), "SandboxKey",
                                     "NetworkSettings.")
        self.pod = self._str(data, "Pod")
        infra = data.get("IsInfra", False)
        if type(infra) is not bool:
            self._bad(f"IsInfra is {_kind(infra)}, not a boolean")
        self.infra = infra and valid_id(self.pod)
        self.pod_name = ""

    def _bad(self, problem):
        raise EngineUnavailable(f"{self.engine}: malformed answer: {problem}")

    def _object(self, data, key, required=False):
        value = data.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self._bad(f"{key} is {'missing' if key not in data else _kind(value)}, "
                      "not an object")
        return value

    def _str(self, data, key, where=""):
        value = data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self._bad(f"{where}{key} is {_kind(value)}, not a string")
        return value

    @property
    def short_id(self):
        return self.id[:12]

    @property
    def running(self):
        return self.pid > 0 and self.status in ("running", "paused")

    @property
    def shares_with(self):
        """The container reference of ``--network container:X``, else None."""
        kind, _, ref = self.network_mode.partition(":")
        return ref if kind == "container" else None

    @property
    def entry_name(self):
        """The entry attach --all-containers makes for it: its pod's name or its own."""
        return self.pod_name or self.name

    def answers(self, ref):
        """Is this the container ``ref`` asked for (its name, or its ID or a prefix; for a
        pod's infra container, the pod's)?"""
        ref = ref.lstrip("/")
        if self.pod_name and (ref == self.pod_name or (ref and self.pod.startswith(ref))):
            return True
        return ref == self.name or (bool(ref) and self.id.startswith(ref))

    def __str__(self):
        from ._text import printable
        if self.pod_name:
            return f'{self.engine} pod "{printable(self.pod_name)}"'
        return f'{self.engine} container "{printable(self.name)}"'

    def as_json(self):
        """engine, name (a pod's, for its infra container, which is then "infra") and id."""
        item = {"engine": self.engine, "name": self.entry_name, "id": self.id}
        if self.pod_name:
            item["infra"] = self.name
        return item


def _show(value):
    """A bad value for a one-line message: short, printable."""
    from ._text import printable
    text = repr(value) if isinstance(value, str) else _jsonc.dumps(value)[:40]
    return f"{_kind(value)} {printable(text[:40])}"


class Deadline:
    """One time limit for everything a request does (connect, every read, the child):
    ``seconds``, or PYNETNS_ENGINE_TIMEOUT, or TIMEOUT."""

    def __init__(self, seconds=None):
        if seconds is None:
            try:  # PYNETNS_ENGINE_TIMEOUT: for engines slower than usual (and for tests)
                seconds = float(os.environ.get("PYNETNS_ENGINE_TIMEOUT") or TIMEOUT)
            except ValueError:
                seconds = TIMEOUT
        self.seconds = seconds if seconds > 0 else TIMEOUT
        self.end = time.monotonic() + self.seconds

    def left(self, what):
        left = self.end - time.monotonic()
        if left <= 0:
            raise EngineUnavailable(f"{what}: no complete answer within {self.seconds:g} s")
        return left


class Engine:
    """The interface of a container engine's client; Docker and Podman are the two. A new
    engine is one subclass listed in _CLIENTS (CONTRIBUTING.md has the whole checklist).

    ``name`` is its prefix (ENGINE:REF) and the engine named in messages; ``cgroup`` the
    word its containers' cgroup paths use beside the ID (ENGINE-ID, ENGINE-ID.scope), by
    which pin() proves a process is the container's. A subclass answers ``_inspect(ref,
    pods)`` (one Container, or NoSuchContainer), ``running()`` (a Container per running
    container) and ``listed()`` ((name, ID) of each running container, from one listing:
    what completion offers), each request within ``deadline()``: ``seconds``, or
    Deadline's default. inspect() is _inspect() with the checks every engine's answer gets; its
    ``pods`` says whether a group of containers (a Podman pod) may answer as well, where
    the engine has them.
    """

    name = ""
    cgroup = ""

    def __init__(self, seconds=None):
        self.seconds = seconds

    def deadline(self):
        return Deadline(self.seconds)

    def inspect(self, ref, pods=True):
        """The container ``ref`` names (a name, "/name" as the engine prints it, an ID or a
        prefix of one; with ``pods``, else a pod's), checked to be the one asked about."""
        if ref.startswith("/"):  # Docker's .Name; Docker redirects it, Podman refuses it
            ref = ref[1:]
        if not ref:
            raise NoSuchContainer(f"{self.name}: no container named")
        if "/" in ref or ref in (".", ".."):  # no name or ID has them (Docker answers 301)
            raise NoSuchContainer(f'{self.name}: no such container "{ref}"')
        container = self._inspect(ref, pods)
        if not container.answers(ref):
            raise EngineUnavailable(f"{self.name}: asked about {ref!r}, it answered about "
                                    f"container {container.short_id} ({container.name!r})")
        return container

    def _inspect(self, ref, pods):
        raise NotImplementedError

    def running(self):
        raise NotImplementedError

    def listed(self):
        raise NotImplementedError


def _percent(ref):
    """ref as one URL path segment (urllib.parse.quote(ref, safe='') without its import)."""
    safe = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
    return "".join(chr(b) if b in safe else f"%{b:02X}" for b in os.fsencode(ref))


def _unchunk(body):
    """The payload of a Transfer-Encoding: chunked body (RFC 9112 7.1); ValueError if cut."""
    parts: list[bytes] = []
    pos = 0
    while True:
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end].split(b";", 1)[0], 16)
        if size == 0:
            return b"".join(parts)
        if end + 2 + size + 2 > len(body):
            raise ValueError("truncated chunk")
        parts.append(body[end + 2:end + 2 + size])
        pos = end + 2 + size + 2


class Docker(Engine):
    name = "docker"
    cgroup = "docker"

    def __init__(self, seconds=None):
        super().__init__(seconds)
        host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        if not host.startswith("unix://"):
            raise EngineUnavailable(
                f"docker: DOCKER_HOST={host} is not supported: only a local unix:// socket "
                "can name a namespace on this machine")
        self.host = host
        self.socket = host[len("unix://"):]

    def _exchange(self, path, deadline):
        """The raw answer to GET path; the connection is closed by the daemon (HTTP/1.1
        with Connection: close), so the answer is everything up to EOF."""
        import _socket
        request = (f"GET {path} HTTP/1.1\r\nHost: docker\r\nAccept: application/json\r\n"
                   "Connection: close\r\n\r\n").encode()
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            sock.settimeout(deadline.left(f"docker: {self.host}"))
            sock.connect(self.socket)
            sock.settimeout(deadline.left(f"docker: {self.host}"))
            sock.sendall(request)
            parts: list[bytes] = []
            size = 0
            while True:
                sock.settimeout(deadline.left(f"docker: {self.host}"))
                data = sock.recv(1 << 16)
                if not data:
                    return b"".join(parts)
                size += len(data)
                if size > MAX_ANSWER:
                    raise EngineUnavailable(f"docker: the answer from {self.host} is larger "
                                            f"than {MAX_ANSWER >> 20} MiB")
                parts.append(data)
        finally:
            sock.close()

    def _get(self, path):
        deadline = self.deadline()
        try:
            raw = self._exchange(path, deadline)
        except TimeoutError:  # the socket's timeout, set to what was left of the deadline
            raise EngineUnavailable(f"docker: no complete answer from {self.host} within "
                                    f"{deadline.seconds:g} s") from None
        except OSError as e:
            reason = e.strerror or str(e) or type(e).__name__
            # No socket at all: no daemon here to ask (a bare name then stays ip's PID).
            installed = not isinstance(e, FileNotFoundError)
            raise EngineUnavailable(f"docker: cannot connect to the Docker daemon at "
                                    f"{self.host}: {reason}", installed=installed) from None
        try:
            head, _, body = raw.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            version, status = lines[0].split(" ", 2)[:2]
            if not version.startswith("HTTP/1.") or len(status) != 3:
                raise ValueError(lines[0])
            status = int(status)
            headers = {k.strip().lower(): v.strip()
                       for k, _, v in (line.partition(":") for line in lines[1:])}
            if "chunked" in headers.get("transfer-encoding", "").lower():
                body = _unchunk(body)
            elif "content-length" in headers:
                length = int(headers["content-length"])
                if len(body) < length:
                    raise ValueError("body shorter than its Content-Length")
                body = body[:length]
        except ValueError:
            raise EngineUnavailable(f"docker: {self.host} did not answer in HTTP") from None
        try:
            data = _jsonc.loads(body) if body else None
        except ValueError:
            raise EngineUnavailable(f"docker: {self.host} did not answer in JSON") from None
        return status, data

    def _inspect(self, ref, pods):
        status, data = self._get(f"/containers/{_percent(ref)}/json")
        if status == 404:
            raise NoSuchContainer(f'docker: no such container "{ref}"')
        if status != 200:
            message = data.get("message") if isinstance(data, dict) else None
            if not isinstance(message, str):
                message = f"HTTP {status}"
            raise ContainerError(f"docker: {message}")
        return Container("docker", data)

    def _listing(self):
        """The items of GET /containers/json (the running containers), each with a valid Id."""
        status, data = self._get("/containers/json")
        if status != 200:
            raise EngineUnavailable(f"docker: listing containers failed: HTTP {status}")
        if not isinstance(data, list):
            raise EngineUnavailable(f"docker: malformed answer: the container list is "
                                    f"{_kind(data)}, not a list")
        if not all(isinstance(item, dict) and valid_id(item.get("Id")) for item in data):
            raise EngineUnavailable("docker: malformed answer: an item of the container "
                                    "list has no valid Id")
        return data

    def running(self):
        found = []
        for item in self._listing():
            try:
                found.append(self.inspect(item["Id"]))
            except NoSuchContainer:
                pass  # removed since the listing
        return found

    def listed(self):
        return [(name, item["Id"]) for item in self._listing()
                for name in _names(item.get("Names"))[:1]]


def _names(value):
    """The names of a listing's item ("Names": ["/web"] from Docker, ["web"] from Podman)."""
    if not isinstance(value, list):
        return []
    return [n[1:] if n.startswith("/") else n for n in value if isinstance(n, str) and n]


def _run_capped(argv, deadline):
    """(returncode, stdout, stderr) of argv with stdin from /dev/null, both outputs capped
    at MAX_ANSWER and the whole run at the deadline (the child is killed past either).
    posix_spawn rather than subprocess: ~2.5 ms of imports less."""
    import select
    what = os.path.basename(argv[0])
    pipes = [os.pipe2(os.O_CLOEXEC), os.pipe2(os.O_CLOEXEC)]
    devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, pipes[0][1], 1),
            (os.POSIX_SPAWN_DUP2, pipes[1][1], 2)])
    except BaseException:
        os.close(pipes[0][0])
        os.close(pipes[1][0])
        raise
    finally:
        for fd in (devnull, pipes[0][1], pipes[1][1]):
            os.close(fd)
    readers: dict[int, list[bytes]] = {pipes[0][0]: [], pipes[1][0]: []}
    outputs = dict(readers)
    size = 0
    try:
        poller = select.poll()
        for fd in readers:
            poller.register(fd, select.POLLIN)
        while readers:
            for fd, _ in poller.poll(deadline.left(what) * 1000):
                data = os.read(fd, 1 << 16)
                if not data:
                    poller.unregister(fd)
                    del readers[fd]
                    continue
                size += len(data)
                if size > MAX_ANSWER:
                    raise EngineUnavailable(f"{what}: its answer is larger than "
                                            f"{MAX_ANSWER >> 20} MiB")
                outputs[fd].append(data)
            deadline.left(what)
        while True:  # the pipes are closed; the child should be exiting
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                pid = 0
                return (os.waitstatus_to_exitcode(status), b"".join(outputs[pipes[0][0]]),
                        b"".join(outputs[pipes[1][0]]))
            deadline.left(what)
            time.sleep(0.001)
    finally:
        for fd in (pipes[0][0], pipes[1][0]):
            os.close(fd)
        if pid:
            import signal
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _which(command):
    """shutil.which(command) without importing shutil (~5 ms): the first executable
    file of that name in PATH."""
    for directory in (os.environ.get("PATH") or os.defpath).split(os.pathsep):
        path = os.path.join(directory or ".", command)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None


class Podman(Engine):
    name = "podman"
    cgroup = "libpod"

    def __init__(self, seconds=None):
        super().__init__(seconds)
        self.exe = _which("podman")
        if self.exe is None:
            raise EngineUnavailable("podman: not installed (no podman in PATH)",
                                    installed=False)

    def _run(self, *args):
        """(returncode, stdout, the last 'Error:' line or the last line of stderr)."""
        try:
            rc, out, err = _run_capped([self.exe, *args], self.deadline())
        except OSError as e:
            raise EngineUnavailable(f"podman: cannot run {self.exe}: {e.strerror}") from None
        lines = err.decode(errors="replace").strip().splitlines() or [""]
        errors = [ln for ln in lines if ln.startswith("Error:")]
        return rc, out, (errors or lines)[-1]

    def _inspect_all(self, refs):
        # "--": a ref is never an option ("podman:--help" is a name no container has).
        rc, out, error = self._run("container", "inspect", "--format", "json", "--", *refs)
        try:
            data = _jsonc.loads(out or b"[]")
        except ValueError:
            data = None
        if rc == 0 and not isinstance(data, list):
            raise EngineUnavailable("podman: malformed answer: inspect printed "
                                    + ("no JSON" if data is None else _kind(data))
                                    + ", not a list")
        found = [Container("podman", d) for d in data] if isinstance(data, list) else []
        if rc != 0 and not found:
            if "no such container" in error:
                raise NoSuchContainer(f'podman: no such container "{refs[0]}"')
            from ._text import printable
            raise EngineUnavailable(f"podman: {printable(error) or f'exit status {rc}'}")
        return found

    def _inspect(self, ref, pods):
        try:
            found = self._inspect_all([ref])
        except NoSuchContainer:
            if not pods:
                raise
            return self._pod_infra(ref)  # podman:POD means its infra container's namespace
        if len(found) != 1:
            raise EngineUnavailable(f"podman: malformed answer: {len(found)} containers "
                                    f"for {ref!r}")
        return self._name_pods(found)[0]

    def _pod_infra(self, ref):
        """The infra container of pod ``ref`` (which holds the namespaces its containers
        share), standing for the pod; NoSuchContainer when there is no such pod either."""
        rc, out, error = self._run("pod", "inspect", "--format", "json", "--", ref)
        if rc != 0:
            if "no such pod" in error:
                raise NoSuchContainer(f'podman: no such container "{ref}"')
            from ._text import printable
            raise EngineUnavailable(f"podman: {printable(error) or f'exit status {rc}'}")
        try:
            pod = _jsonc.loads(out)
        except ValueError:
            pod = None
        if isinstance(pod, list) and len(pod) == 1:  # podman 5 prints a list, 4 an object
            pod = pod[0]
        if not (isinstance(pod, dict) and valid_id(pod.get("Id"))
                and isinstance(pod.get("Name"), str)):
            raise EngineUnavailable("podman: malformed answer: pod inspect printed no pod "
                                    "with an Id and a Name")
        infra_id = pod.get("InfraContainerID")
        if not infra_id:
            raise ContainerError(f'podman pod "{ref}" has no infra container: name one of '
                                 "its containers")
        found = self._inspect_all([infra_id]) if valid_id(infra_id) else []
        if len(found) != 1 or not found[0].infra or found[0].pod != pod["Id"]:
            raise EngineUnavailable(f"podman: malformed answer: pod {ref!r} has no infra "
                                    "container of its own")
        found[0].pod_name = pod["Name"]
        return found[0]

    def _name_pods(self, found):
        """Give the infra containers among ``found`` their pods' names (`podman pod ps`,
        asked only when there is one)."""
        infra = [c for c in found if c.infra]
        if not infra:
            return found
        rc, out, error = self._run("pod", "ps", "--no-trunc", "--format", "json")
        if rc != 0:
            raise EngineUnavailable(f"podman: {error or f'exit status {rc}'}")
        try:
            pods = _jsonc.loads(out)
        except ValueError:
            pods = None
        if not isinstance(pods, list):
            raise EngineUnavailable("podman: malformed answer: pod ps printed no list")
        names = {p.get("Id"): p.get("Name") for p in pods if isinstance(p, dict)}
        for c in infra:
            name = names.get(c.pod)
            if isinstance(name, str):
                c.pod_name = name
        return found

    def running(self):
        rc, out, error = self._run("ps", "--quiet", "--no-trunc")
        if rc != 0:
            raise EngineUnavailable(f"podman: {error or f'exit status {rc}'}")
        ids = out.decode(errors="replace").split()
        if not all(map(valid_id, ids)):
            raise EngineUnavailable("podman: malformed answer: ps printed something other "
                                    "than container IDs")
        if not ids:
            return []
        try:
            return self._name_pods([c for c in self._inspect_all(ids) if c.id in ids])
        except NoSuchContainer:
            return []  # every one of them was removed since the listing

    def listed(self):
        rc, out, error = self._run("ps", "--no-trunc", "--pod", "--format", "json")
        if rc != 0:
            raise EngineUnavailable(f"podman: {error or f'exit status {rc}'}")
        try:
            data = _jsonc.loads(out or b"[]")
        except ValueError:
            data = None
        if not isinstance(data, list) or not all(
                isinstance(item, dict) and valid_id(item.get("Id")) for item in data):
            raise EngineUnavailable("podman: malformed answer: ps printed no list of "
                                    "containers with IDs")
        # A pod's infra container is offered as the pod, as podman:POD names it.
        return [(item["PodName"] if item.get("IsInfra") is True and isinstance(
                    item.get("PodName"), str) and item["PodName"] else name, item["Id"])
                for item in data for name in _names(item.get("Names"))[:1]]


_CLIENTS: dict[str, type[Engine]] = {c.name: c for c in (Docker, Podman)}
ENGINES = tuple(_CLIENTS)  # in the order a bare container name is looked up


def engine(name, seconds=None):
    """A client for engine ``name`` whose requests each end within ``seconds`` (default:
    Deadline's); EngineUnavailable when it cannot be used at all. (Pods are cri.py's,
    which builds on this module: cri.Runtime.)"""
    return _CLIENTS[name](seconds)


def split_spec(word):
    """'docker:web' → ('docker', 'web'); a word without an engine prefix → (None, word)."""
    prefix, sep, ref = word.partition(":")
    if sep and prefix in _CLIENTS:
        return prefix, ref
    return None, word


def inspect(engine_name, ref, pods=True):
    return engine(engine_name).inspect(ref, pods)


def find(word):
    """The container ``word`` names: 'docker:REF', 'podman:REF', or a bare REF that exactly
    one engine knows. Several → ContainerError naming them; none → NoSuchContainer; an
    installed engine that did not answer → its error, since it may hold REF as well."""
    engine_name, ref = split_spec(word)
    if engine_name:
        return inspect(engine_name, ref)
    found = []
    unknown: list[ContainerError] = []
    failed: list[ContainerError] = []
    for name in ENGINES:
        try:
            found.append(inspect(name, ref, pods=False))  # a bare name is a container's
        except NoSuchContainer as e:
            unknown.append(e)
        except EngineUnavailable as e:
            (failed if e.installed else unknown).append(e)
        except ContainerError as e:  # an answer other than "no such container"
            failed.append(e)
    if len(found) > 1:
        which = " and ".join(f"{c.engine} ({c.name}, {c.short_id})" for c in found)
        raise ContainerError(f'"{ref}" is a container in {which}: say '
                             + " or ".join(f"{c.engine}:{ref}" for c in found))
    if found and failed:
        c = found[0]
        raise ContainerError(f'"{ref}" is {c}, but {failed[0]}: it may know "{ref}" too; '
                             f"say {c.engine}:{ref} to use the {c.engine} one")
    if failed:
        raise failed[0]
    if not found:
        raise NoSuchContainer("; ".join(map(str, unknown)))
    return found[0]


def known_as(ref, seconds=QUICK):
    """'ENGINE:REF' for each engine that knows a container ``ref`` (not a pod: one request
    an engine), each asked within ``seconds``; an engine that cannot answer is left out:
    this is for hints, never to act."""
    found = []
    for name in ENGINES:
        try:
            engine(name, seconds).inspect(ref, pods=False)
        except ContainerError:
            continue
        found.append(f"{name}:{ref}")
    return found


def running_everywhere():
    """Running containers of every engine that answers, and the errors of the others."""
    found, errors = [], []
    for name in ENGINES:
        try:
            found.extend(engine(name).running())
        except EngineUnavailable as e:
            errors.append(e)
    return found, errors


def network_holder(container, force=False):
    """The running container whose network namespace ``container`` uses, plus notes for the
    user. Refuses stopped containers, and --network host unless ``force``."""
    require_running(container)
    notes = []
    if container.paused:
        notes.append(f"{container} is paused: its network namespace is there all the same")
    seen = {container.id}
    while container.shares_with:
        client = getattr(container, "client", None) or engine(container.engine)  # rootless
        owner = client.inspect(container.shares_with)
        if owner.id in seen:
            raise ContainerError(f"{container}: --network container: loops back to itself")
        seen.add(owner.id)
        notes.append(f"{container} uses the network namespace of {owner} "
                     f"(--network container:{owner.name}): using that one")
        container = owner
        require_running(container)
    if container.network_mode == "host" and not force:
        raise Unsafe(
            f"{container} runs with --network host: its namespace is the host's; "
            "use --force to name it anyway")
    return container, notes


def require_running(container):
    if not container.running:
        raise ContainerError(f"{container} is not running "
                             f"(status: {container.status or 'unknown'})")


def identity_of(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino


def host_owner(identity, kind="net"):
    """'this process' or 'PID 1' when ``identity`` is that one's namespace of ``kind``,
    else None: whatever an engine says, naming or entering those is never routine."""
    for pid, who in (("thread-self", "this process"), ("1", "PID 1")):
        try:
            if identity_of(f"/proc/{pid}/ns/{kind}") == identity:
                return who
        except OSError:
            pass
    return None


def refuse_host(identity, what, kind="net", force=False):
    """Unsafe unless ``force`` when ``identity`` is the caller's or PID 1's namespace."""
    who = None if force else host_owner(identity, kind)
    if who:
        noun = {"net": "network", "pid": "PID"}[kind]
        raise Unsafe(f"{what}: its {noun} namespace is the host's (that of {who}); "
                     "use --force to use it anyway")


class Pinned:
    """A process held by a pidfd, with its network (and, if asked, PID) namespace open.

    The pidfd is checked after the namespace files were opened: still alive, it proves they
    are those of the process that had the PID when it was pinned, not of a successor.
    """

    def __init__(self, pid, pid_ns=False):
        self.pid = pid
        self.pidfd = self.net_fd = self.pidns_fd = -1
        try:
            self.pidfd = os.pidfd_open(pid)
            self.net_fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            if pid_ns:
                self.pidns_fd = os.open(f"/proc/{pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        except BaseException:
            self.close()
            raise

    def alive(self):
        import select
        poller = select.poll()
        poller.register(self.pidfd, select.POLLIN)
        return not poller.poll(0)  # a pidfd turns readable when its process exits

    @property
    def identity(self):
        st = os.fstat(self.net_fd)
        return st.st_dev, st.st_ino

    @property
    def pidns_identity(self):
        st = os.fstat(self.pidns_fd)
        return st.st_dev, st.st_ino

    def cgroups(self):
        with open(f"/proc/{self.pid}/cgroup") as f:
            return f.read()

    def close(self):
        for fd in (self.pidns_fd, self.net_fd, self.pidfd):
            if fd >= 0:
                os.close(fd)
        self.pidfd = self.net_fd = self.pidns_fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def sandbox_identity(container):
    """(dev, ino) of the namespace at the container's SandboxKey; None when this mount
    namespace sees none there (no key, a file without its mount, or nothing)."""
    from .ns import nsfs_device
    try:
        st = os.stat(container.sandbox_key) if container.sandbox_key else None
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st and st.st_dev == nsfs_device() else None


def in_cgroup_of(cgroups, cid, engines=None):
    """Does a line of /proc/PID/cgroup put the process in container ``cid``'s cgroup? Its
    path has a component that is the ID itself (cgroupfs: /docker/ID) or ENGINE-ID or
    ENGINE-ID.scope (libpod-ID, systemd's docker-ID.scope): equal, not merely containing.
    ``engines``: those words (default: every engine's Engine.cgroup)."""
    if engines is None:
        engines = [c.cgroup for c in _CLIENTS.values()]
    names = {cid, *(f"{e}-{cid}{s}" for e in engines for s in ("", ".scope"))}
    return any(not names.isdisjoint(line.split(":", 2)[-1].split("/"))
               for line in cgroups.splitlines())


def _not_the_containers(container, pinned):
    """Why the pinned process cannot be proved to be the container's, or None."""
    pid = pinned.pid
    try:
        ok = in_cgroup_of(pinned.cgroups(), container.id)
    except OSError:
        ok = False
    if not ok:
        try:
            foreign = identity_of(f"/proc/{pid}/ns/user") != identity_of("/proc/self/ns/user")
        except OSError:
            foreign = False
        if foreign:
            return (f"its process {pid} is in another user namespace (a rootless "
                    "container?), where its cgroup does not name the container: its "
                    "identity cannot be proved that way, so it is not used (a rootless "
                    "Podman container is podman:USER@NAME)")
        return (f"process {pid} is not in the container's cgroup: it is not the "
                "container's process (the container restarted, or the engine's answer "
                "is wrong)")
    expected = sandbox_identity(container)
    if expected is not None and expected != pinned.identity:
        return (f"process {pid} is not in the network namespace at its SandboxKey "
                f"{container.sandbox_key}")
    return None


def pin(container, pid_ns=False, force=False):
    """Pin the container's process and open its namespaces, after proving they are the
    container's: the process sits in the container's cgroup and, where the SandboxKey
    shows a namespace, has that one. The host's namespace is refused unless ``force``."""
    proof = getattr(type(container), "problem", _not_the_containers)  # rootless.Container
    return pin_proved(container, proof, "it stopped or restarted", pid_ns, force)


def pin_proved(owner, problem_of, went, pid_ns=False, force=False):
    """Pin ``owner.pid`` (a container's or a pod sandbox's) and open its namespaces; then
    ``problem_of(owner, pinned)`` says why they are not the owner's, or None. Checked while
    pinned, and the process still alive after: ``went`` says how it may have gone."""
    gone = ContainerError(f"{owner}: its process {owner.pid} is gone ({went}); try again")
    try:
        pinned = Pinned(owner.pid, pid_ns)
    except (ProcessLookupError, FileNotFoundError):
        raise gone from None
    except OSError as e:
        raise ContainerError(f"{owner}: cannot open the namespaces of its process "
                             f"{owner.pid}: {e.strerror}", errno=e.errno) from None
    try:
        problem = problem_of(owner, pinned)
        if not pinned.alive():
            raise gone
        if problem:
            raise ContainerError(f"{owner}: {problem}")
        refuse_host(pinned.identity, str(owner), force=force)
    except BaseException:
        pinned.close()
        raise
    return pinned
