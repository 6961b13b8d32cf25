"""Container engines: a Docker or Podman container → its process, pinned against PID reuse.

Docker is asked over its Engine API socket (DOCKER_HOST, default /var/run/docker.sock) with
http.client; Podman through its own CLI, which honours CONTAINER_HOST by itself. Both answer
in the same inspect format. Only the container verbs import this module.
"""
import json
import os

from .errors import ContainerError, EngineUnavailable, NoSuchContainer

TIMEOUT = 30  # seconds for one engine request; a hung daemon must not hang pynetns


class Container:
    """What an engine says about a container (its inspect data, trimmed)."""

    __slots__ = ("engine", "id", "name", "pid", "status", "paused", "network_mode",
                 "sandbox_key")

    def __init__(self, engine, data):
        state = data.get("State") or {}
        self.engine = engine
        self.id = data["Id"]
        self.name = data.get("Name", "").lstrip("/")
        self.pid = state.get("Pid") or 0
        self.status = state.get("Status", "")
        self.paused = bool(state.get("Paused"))
        self.network_mode = (data.get("HostConfig") or {}).get("NetworkMode") or ""
        self.sandbox_key = (data.get("NetworkSettings") or {}).get("SandboxKey") or ""

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

    def __str__(self):
        return f'{self.engine} container "{self.name}"'

    def as_json(self):
        return {"engine": self.engine, "name": self.name, "id": self.id}


class Docker:
    name = "docker"

    def __init__(self):
        host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        if not host.startswith("unix://"):
            raise EngineUnavailable(
                f"docker: DOCKER_HOST={host} is not supported: only a local unix:// socket "
                "can name a namespace on this machine")
        self.host = host
        self.socket = host[len("unix://"):]

    def _get(self, path):
        import http.client
        import socket

        class Connection(http.client.HTTPConnection):
            def connect(conn):
                conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.sock.settimeout(TIMEOUT)
                conn.sock.connect(self.socket)

        conn = Connection("localhost", timeout=TIMEOUT)
        try:
            conn.request("GET", path, headers={"Accept": "application/json"})
            reply = conn.getresponse()
            body = reply.read()
        except OSError as e:
            reason = e.strerror or str(e) or type(e).__name__
            installed = not isinstance(e, FileNotFoundError) or "DOCKER_HOST" in os.environ
            raise EngineUnavailable(f"docker: cannot connect to the Docker daemon at "
                                    f"{self.host}: {reason}", installed=installed) from None
        except http.client.HTTPException as e:
            raise EngineUnavailable(f"docker: bad answer from {self.host}: {e!r}") from None
        finally:
            conn.close()
        try:
            data = json.loads(body) if body else None
        except ValueError:
            raise EngineUnavailable(f"docker: {self.host} did not answer in JSON") from None
        return reply.status, data

    def inspect(self, ref):
        from urllib.parse import quote
        status, data = self._get(f"/containers/{quote(ref, safe='')}/json")
        if status == 404:
            raise NoSuchContainer(f'docker: no such container "{ref}"')
        if status != 200:
            message = data.get("message") if isinstance(data, dict) else data
            raise ContainerError(f"docker: {message or f'HTTP {status}'}")
        return Container("docker", data)

    def running(self):
        status, data = self._get("/containers/json")
        if status != 200:
            raise EngineUnavailable(f"docker: listing containers failed: HTTP {status}")
        found = []
        for item in data:
            try:
                found.append(self.inspect(item["Id"]))
            except NoSuchContainer:
                pass  # removed since the listing
        return found


class Podman:
    name = "podman"

    def __init__(self):
        import shutil
        self.exe = shutil.which("podman")
        if self.exe is None:
            raise EngineUnavailable("podman: not installed (no podman in PATH)",
                                    installed=False)

    def _run(self, *args):
        """(returncode, stdout, the last 'Error:' line or the last line of stderr)."""
        import subprocess
        try:
            proc = subprocess.run([self.exe, *args], capture_output=True, timeout=TIMEOUT,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise EngineUnavailable(f"podman: no answer within {TIMEOUT} s") from None
        except OSError as e:
            raise EngineUnavailable(f"podman: cannot run {self.exe}: {e.strerror}") from None
        lines = proc.stderr.decode(errors="replace").strip().splitlines() or [""]
        errors = [ln for ln in lines if ln.startswith("Error:")]
        return proc.returncode, proc.stdout, (errors or lines)[-1]

    def _inspect(self, refs):
        rc, out, error = self._run("container", "inspect", "--format", "json", *refs)
        try:
            found = [Container("podman", d) for d in json.loads(out or b"[]")]
        except (ValueError, KeyError, TypeError):
            found = []
        if rc != 0 and not found:
            if "no such container" in error:
                raise NoSuchContainer(f'podman: no such container "{refs[0]}"')
            raise EngineUnavailable(f"podman: {error or f'exit status {rc}'}")
        return found

    def inspect(self, ref):
        return self._inspect([ref])[0]

    def running(self):
        rc, out, error = self._run("ps", "--quiet", "--no-trunc")
        if rc != 0:
            raise EngineUnavailable(f"podman: {error or f'exit status {rc}'}")
        ids = out.decode().split()
        return self._inspect(ids) if ids else []


_CLIENTS = {"docker": Docker, "podman": Podman}
ENGINES = tuple(_CLIENTS)  # in the order a bare container name is looked up


def engine(name):
    """A client for engine ``name``; EngineUnavailable when it cannot be used at all."""
    return _CLIENTS[name]()


def split_spec(word):
    """'docker:web' → ('docker', 'web'); a word without an engine prefix → (None, word)."""
    prefix, sep, ref = word.partition(":")
    if sep and prefix in _CLIENTS:
        return prefix, ref
    return None, word


def inspect(engine_name, ref):
    if not ref:
        raise NoSuchContainer(f"{engine_name}: no container named")
    return engine(engine_name).inspect(ref)


def find(word):
    """The container ``word`` names: 'docker:REF', 'podman:REF', or a bare REF that exactly
    one engine knows (ContainerError naming them when several do, NoSuchContainer when none)."""
    engine_name, ref = split_spec(word)
    if engine_name:
        return inspect(engine_name, ref)
    found, reasons = [], []
    for name in ENGINES:
        try:
            found.append(inspect(name, ref))
        except ContainerError as e:
            reasons.append(str(e))
    if not found:
        raise NoSuchContainer("; ".join(reasons))
    if len(found) > 1:
        which = " and ".join(f"{c.engine} ({c.name}, {c.short_id})" for c in found)
        raise ContainerError(f'"{ref}" is a container in {which}: say '
                             + " or ".join(f"{c.engine}:{ref}" for c in found))
    return found[0]


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
        owner = engine(container.engine).inspect(container.shares_with)
        if owner.id in seen:
            raise ContainerError(f"{container}: --network container: loops back to itself")
        seen.add(owner.id)
        notes.append(f"{container} uses the network namespace of {owner} "
                     f"(--network container:{owner.name}): using that one")
        container = owner
        require_running(container)
    if container.network_mode == "host" and not force:
        raise ContainerError(
            f"{container} runs with --network host: its namespace is the host's; "
            "use --force to name it anyway")
    return container, notes


def require_running(container):
    if not container.running:
        raise ContainerError(f"{container} is not running "
                             f"(status: {container.status or 'unknown'})")


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


def _sandbox_identity(container):
    """(dev, ino) of the namespace at the container's SandboxKey; None when this mount
    namespace sees none there (no key, a file without its mount, or nothing)."""
    from .ns import nsfs_device
    try:
        st = os.stat(container.sandbox_key) if container.sandbox_key else None
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st and st.st_dev == nsfs_device() else None


def pin(container, pid_ns=False):
    """Pin the container's process and open its namespaces, after proving they are the
    container's: the network namespace is the one at its SandboxKey or, without one, the
    process sits in the container's cgroup."""
    gone = ContainerError(f"{container}: its process {container.pid} is gone or is no longer "
                          "the container's (it stopped or restarted); try again")
    try:
        pinned = Pinned(container.pid, pid_ns)
    except OSError:
        raise gone from None
    try:
        expected = _sandbox_identity(container)
        if expected is not None:
            ok = expected == pinned.identity
        else:
            try:
                ok = container.id in pinned.cgroups()
            except OSError:
                ok = False
        if not ok or not pinned.alive():
            raise gone
    except BaseException:
        pinned.close()
        raise
    return pinned
