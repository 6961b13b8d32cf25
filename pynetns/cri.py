"""Kubernetes pods: pod:NAMESPACE/NAME → the pod sandbox's process and network namespace,
through the CRI API of the node's runtime (containerd, CRI-O), proved and pinned as
containers are.

The lookup is kubelet's own view: ListPodSandbox by the labels kubelet puts on every
sandbox (io.kubernetes.pod.namespace, .name) in state READY, then PodSandboxStatus
(verbose) for the sandbox's PID and the netns path of its runtime spec. The endpoint is
found as crictl finds it: CONTAINER_RUNTIME_ENDPOINT, else the default sockets. Only the
pod: paths import this module (and _grpc).
"""
import os
import time

from . import _jsonc as json  # not the json package: it imports re
from . import containers
from .errors import ContainerError, EngineUnavailable, NoSuchContainer, Unsafe

SERVICE = "/runtime.v1.RuntimeService/"
SOCKETS = ("/run/containerd/containerd.sock", "/run/crio/crio.sock")
NS_LABEL, NAME_LABEL, UID_LABEL = (f"io.kubernetes.pod.{k}" for k in ("namespace", "name",
                                                                      "uid"))
MODES = {0: "pod", 1: "container", 2: "node", 3: "target"}  # NamespaceMode
NODE = 2
SEPARATOR = "_"  # in no Kubernetes namespace or pod name (DNS-1123): names cannot collide


def endpoint():
    """(the endpoint as the user knows it, its socket path)."""
    value = os.environ.get("CONTAINER_RUNTIME_ENDPOINT")
    if value:
        path = value[len("unix://"):] if value.startswith("unix://") else value
        if "://" in path or not path.startswith("/"):
            from ._text import printable
            raise EngineUnavailable(f"pod: CONTAINER_RUNTIME_ENDPOINT={printable(value)} is "
                                    "not supported: only a local unix:// socket can name a "
                                    "namespace on this machine")
        return value, path
    for path in SOCKETS:
        if os.path.exists(path):
            return f"unix://{path}", path
    raise EngineUnavailable("pod: no container runtime: none of " + ", ".join(SOCKETS)
                            + " exists (set CONTAINER_RUNTIME_ENDPOINT)", installed=False)


class Pod:
    """A pod sandbox as PodSandboxStatus(verbose) describes it, checked."""

    __slots__ = ("id", "namespace", "pod_name", "uid", "attempt", "ready", "network_mode",
                 "pid_mode", "pid", "netns_path")
    engine = "pod"

    def __init__(self, answer):
        from ._grpc import ProtocolError
        status = answer.message(1)
        meta = status.message(2)
        self.id = status.str(1)
        self.pod_name, self.uid, self.namespace = meta.str(1), meta.str(2), meta.str(3)
        self.attempt = meta.int(4)
        self.ready = status.int(3) == 0
        options = status.message(6).message(1).message(2)
        self.network_mode, self.pid_mode = options.int(1), options.int(2)
        if not containers.valid_id(self.id):
            raise ProtocolError("the sandbox id is not 64 hex digits")
        try:
            info = json.loads(answer.string_map(2).get("info") or "{}")
            pid = info.get("pid", 0)
            spec = (info.get("runtimeSpec") or {}).get("linux") or {}
            paths = [n.get("path") for n in spec.get("namespaces") or []
                     if n.get("type") == "network"]
        except (ValueError, AttributeError, TypeError):
            raise ProtocolError("the sandbox's verbose info is not the JSON expected") \
                from None
        if type(pid) is not int or not 0 <= pid < containers.PID_MAX:
            raise ProtocolError("the sandbox's pid is not a PID")
        if not all(isinstance(p, str) for p in paths) or len(paths) > 1:
            raise ProtocolError("the sandbox's network namespace path is not one string")
        self.pid = pid
        self.netns_path = paths[0] if paths else ""

    @property
    def name(self):
        return f"{self.namespace}/{self.pod_name}"

    @property
    def entry_name(self):
        """The entry attach --all-pods makes: NAMESPACE_NAME, cut to 255 bytes with a hash
        of the UID when longer (a second '_' marks it, so it equals no other's name)."""
        name = f"{self.namespace}{SEPARATOR}{self.pod_name}"
        if len(os.fsencode(name)) <= 255:
            return name
        import hashlib
        digest = hashlib.sha256(self.uid.encode()).hexdigest()[:10]
        return os.fsencode(name)[:244].decode(errors="ignore") + SEPARATOR + digest

    @property
    def short_id(self):
        return self.id[:12]

    @property
    def status(self):
        return "ready" if self.ready else "notready"

    @property
    def running(self):
        return self.ready and self.pid > 0

    def answers(self, ref):
        return bool(ref) and self.id.startswith(ref)

    def __str__(self):
        from ._text import printable
        return f'pod "{printable(self.name)}"'

    def as_json(self):
        return {"engine": "pod", "name": self.name, "namespace": self.namespace,
                "pod": self.pod_name, "uid": self.uid, "id": self.id}


class Runtime:
    """The node's CRI runtime: one connection, one deadline a call."""

    name = "pod"

    def __init__(self, seconds=None):
        self.endpoint, self.socket = endpoint()
        self.connection = None
        self.deadline = None
        self.seconds = seconds  # a call's time limit; None: containers.Deadline's

    def _left(self, what):
        assert self.deadline is not None  # call() sets it before any read
        return self.deadline.left(f"pod: {self.endpoint}")

    def call(self, method, request):
        from . import _grpc
        from ._text import printable
        self.deadline = containers.Deadline()
        if self.seconds is not None:
            self.deadline.seconds = self.seconds
            self.deadline.end = min(self.deadline.end, time.monotonic() + self.seconds)
        connecting = self.connection is None
        try:
            if self.connection is None:
                self.connection = _grpc.Connection(self.socket, self._left,
                                                   containers.MAX_ANSWER)
            return _grpc.Message(self.connection.call(SERVICE + method, request))
        except _grpc.GrpcError as e:
            if e.status == 5:  # NOT_FOUND
                raise NoSuchContainer(f"pod: {printable(e.message)}") from None
            if e.status == 12:  # UNIMPLEMENTED: a containerd without its CRI plugin
                raise EngineUnavailable(f"pod: {self.endpoint} is no Kubernetes runtime: "
                                        f"{printable(str(e))}", installed=False) from None
            raise ContainerError(f"pod: the container runtime at {self.endpoint} failed: "
                                 f"{printable(str(e))}") from None
        except _grpc.ProtocolError as e:
            self.close()
            raise EngineUnavailable(f"pod: malformed answer from {self.endpoint}: "
                                    f"{printable(str(e))}") from None
        except TimeoutError:
            self.close()
            raise EngineUnavailable(f"pod: no complete answer from {self.endpoint} within "
                                    f"{self.deadline.seconds:g} s") from None
        except OSError as e:
            self.close()
            reason = e.strerror or str(e) or type(e).__name__
            what = "cannot connect to" if connecting else "lost the connection to"
            raise EngineUnavailable(f"pod: {what} the container runtime at {self.endpoint}: "
                                    f"{reason}") from None

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def listed(self, labels, ready=True):
        """(namespace, name, id) of the sandboxes with these labels (READY ones only, or
        all), checked against what the runtime answered about each."""
        from ._grpc import ProtocolError, field, string_map
        state = field(2, b"") if ready else b""  # state READY is 0: present, empty
        request = field(1, state + string_map(3, labels))
        found = []
        try:
            for item in self.call("ListPodSandbox", request).messages(1):
                got = item.string_map(5)
                if (ready and item.int(3) != 0) or \
                        any(got.get(k) != v for k, v in labels.items()):
                    raise ProtocolError("it listed a sandbox the filter does not select")
                sid = item.str(1)
                if not containers.valid_id(sid):
                    raise ProtocolError("a sandbox id is not 64 hex digits")
                found.append((got.get(NS_LABEL, ""), got.get(NAME_LABEL, ""), sid))
        except ProtocolError as e:
            raise EngineUnavailable(f"pod: malformed answer from {self.endpoint}: {e}") \
                from None
        return found

    def inspect(self, sid):
        """The sandbox ``sid`` (an id or unique prefix); NoSuchContainer when unknown."""
        from ._grpc import ProtocolError, field
        answer = self.call("PodSandboxStatus", field(1, sid) + field(2, True))
        try:
            pod = Pod(answer)
        except ProtocolError as e:
            raise EngineUnavailable(f"pod: malformed answer from {self.endpoint}: {e}") \
                from None
        if not pod.answers(sid):
            raise EngineUnavailable(f"pod: asked about sandbox {sid[:12]}, the runtime "
                                    f"answered about {pod.short_id}")
        return pod

    def find(self, namespace, name):
        """The ready pod NAMESPACE/NAME; with no namespace, the one in "default", else
        the only one of that name."""
        labels = {NAME_LABEL: name, NS_LABEL: namespace or "default"}
        found = self.listed(labels)
        what = f"{namespace}/{name}" if namespace else name
        if not found and not namespace:
            del labels[NS_LABEL]
            found = self.listed(labels)
            if len(found) > 1:
                spaces = sorted({ns for ns, _, _ in found})
                raise ContainerError(f'pod: "{what}" is a pod in namespaces '
                                     + ", ".join(spaces) + ": say "
                                     + " or ".join(f"pod:{ns}/{name}" for ns in spaces))
        if not found:
            raise NoSuchContainer(f'pod: no ready pod "{what}" at {self.endpoint}')
        if len(found) > 1:
            raise ContainerError(f'pod: {len(found)} ready sandboxes for "{what}": the '
                                 "runtime should have one")
        pod = self.inspect(found[0][2])
        if (pod.pod_name, pod.namespace) != (name, namespace or found[0][0]):
            raise EngineUnavailable(f"pod: the runtime at {self.endpoint} described sandbox "
                                    f"{pod.short_id} as {pod}, not as \"{what}\"")
        return pod

    def running(self, ready=True):
        """Every ready pod sandbox, or every one (one gone since the listing is left
        out, and so is a sandbox not ready that cannot be described: a stopped sandbox
        must not take the owners of all the others away from list -d)."""
        found = []
        for _, _, sid in self.listed({}, ready):
            try:
                found.append(self.inspect(sid))
            except NoSuchContainer:
                pass
            except ContainerError:  # e.g. UNKNOWN: failed to get sandbox (being removed)
                if ready:
                    raise
        return found


def sandboxes():
    """Every pod sandbox of the node's runtime, ready or not."""
    runtime = Runtime()
    try:
        return runtime.running(ready=False)
    finally:
        runtime.close()


def verdict(owner, identity, identity_of_pid):
    """(the pod as JSON, why an entry made from it is stale, or None) for the pod of a
    record (``owner``) and the entry's namespace ``identity``."""
    runtime = Runtime()
    try:
        try:
            pod = runtime.inspect(owner["id"])
        except NoSuchContainer:
            pod = None
        if pod is not None and pod.running:
            if identity_of_pid(pod.pid) == identity:
                return pod.as_json(), None
            return pod.as_json(), "its sandbox has another network namespace now"
        try:
            now = runtime.find(owner.get("namespace") or "default", owner.get("pod") or "")
        except NoSuchContainer:
            now = None
    finally:
        runtime.close()
    seen = pod.as_json() if pod is not None else owner
    if now is not None and now.id != owner["id"]:
        return seen, "pod re-created (a new sandbox)"
    return seen, "pod gone" if pod is None else "pod not ready"


def split(spec):
    """'pod:NS/NAME' → (NS, NAME); 'pod:NAME' → (None, NAME)."""
    from ._text import printable
    ref = spec[len("pod:"):]
    namespace, sep, name = ref.rpartition("/")
    if not name or (sep and not namespace) or "/" in namespace:
        raise NoSuchContainer(f'pod: "{printable(ref)}" is not NAME or NAMESPACE/NAME')
    return namespace or None, name


def find(spec, force=False):
    """The ready pod ``spec`` ('pod:NS/NAME', 'pod:NAME') names. A pod on the node's
    network (hostNetwork) is refused unless ``force``."""
    runtime = Runtime()
    try:
        pod = runtime.find(*split(spec))
    finally:
        runtime.close()
    if pod.network_mode == NODE and not force:
        raise Unsafe(f"{pod} uses the node's network namespace (hostNetwork), not one "
                     "of its own; use --force to use it anyway")
    return pod


def _netns_file_identity(pod):
    """(dev, ino) of the nsfs file at the pod's netns path; ContainerError otherwise."""
    from .ns import nsfs_device
    try:
        st = os.stat(pod.netns_path)
    except OSError as e:
        raise ContainerError(f"{pod}: its network namespace {pod.netns_path}: "
                             f"{e.strerror}") from None
    if st.st_dev != nsfs_device():
        raise ContainerError(f"{pod}: its network namespace path {pod.netns_path} is not a "
                             "namespace file")
    return st.st_dev, st.st_ino


def pin(pod, pid_ns=False, force=False):
    """Pin the sandbox's process and open its namespaces, after proving they are the
    pod's: the process sits in the sandbox's cgroup and has the namespace of the nsfs file
    the runtime names. The host's namespaces are refused unless ``force``."""
    if not pod.running:
        raise ContainerError(f"{pod}: its sandbox has no process (it is {pod.status}); "
                             "pods whose runtime keeps none (CRI-O without an infra "
                             "container) are not supported")
    if not pod.netns_path and pod.network_mode != NODE:
        raise ContainerError(f"{pod}: the runtime names no network namespace for it")
    return containers.pin_proved(pod, _not_the_sandboxs, "the pod stopped or was "
                                 "re-created", pid_ns, force)


def _not_the_sandboxs(pod, pinned):
    """Why the pinned process cannot be proved to be the pod sandbox's, or None."""
    try:
        # cgroupfs: .../k8s.io/ID; systemd: cri-containerd-ID.scope, crio-ID.scope
        mine = containers.in_cgroup_of(pinned.cgroups(), pod.id, ("cri-containerd", "crio"))
    except OSError:
        mine = False
    if pod.netns_path and _netns_file_identity(pod) != pinned.identity:
        mine = False
    return None if mine else (f"process {pod.pid} is not its sandbox's (not in its cgroup "
                              "and network namespace): the pod was re-created or the "
                              "runtime's answer is wrong")


def pid_note(pod):
    """What exec --pid should say about the PID namespace it enters, or None."""
    if pod.pid_mode == 1:  # CONTAINER: shareProcessNamespace is off
        return (f"note: {pod} shares no PID namespace between its containers "
                "(shareProcessNamespace is off): entering its sandbox's, where only its "
                "pause process runs")
    return None
