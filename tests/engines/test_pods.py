"""pod:NAMESPACE/NAME against a real containerd with its CRI plugin (scripts/cri.sh): attach,
exec, exec --pid, hostNetwork pods, unknown pods, a runtime that is not there, list -d."""
import json
import os
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import PREFIX, PYNETNS, ROOT, RUN_DIR, unique

from .support import cli, etc_netns_file, identity, is_mount

pytestmark = pytest.mark.engine

CRI = str(ROOT / "scripts" / "cri.sh")
NS = PREFIX.rstrip("-")  # one Kubernetes namespace for the session's pods


def _cri(*args, timeout=180):
    return subprocess.run([CRI, *args], capture_output=True, timeout=timeout, text=True)


@pytest.fixture(scope="session")
def cri_env():
    """KEY=VALUE lines of `cri.sh env`, once cri.sh up has brought containerd up (skip, or
    fail under CI, when it cannot). After the session, no pod of the suite is left (any
    that is, is removed, and the session fails)."""
    up = _cri("up", timeout=900)
    if up.returncode != 0:
        message = "scripts/cri.sh up failed: " + (up.stderr.strip().splitlines() or ["?"])[-1]
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield dict(line.split("=", 1) for line in _cri("env").stdout.split())
    left = [line.split() for line in _cri("pods").stdout.splitlines()]
    left = [(sid, pod) for sid, pod, *_ in left if pod.startswith(NS)]
    for sid, _ in left:
        _cri("pod-rm", sid)
    assert not left, f"tests left pods: {left}"


class Pods:
    """Pod sandboxes made through CRI by cri.sh pod-run, removed after the test."""

    def __init__(self, env):
        self.env = env
        self.endpoint = {"CONTAINER_RUNTIME_ENDPOINT": env["CONTAINER_RUNTIME_ENDPOINT"]}
        self.made = []

    def run(self, name=None, namespace=NS, node=False, opts=""):
        """(namespace, name, sandbox id, netns path, pid, ip) of a new ready pod; ``opts``
        as cri.sh pod-run takes them (hostpid, sharedpid)."""
        name = name or unique("pod").lower()
        opts = ",".join(filter(None, ["node" if node else "", opts]))
        r = _cri("pod-run", namespace, name, *([opts] if opts else []))
        assert r.returncode == 0, r.stderr
        sid, path, pid, ip = r.stdout.split()
        self.made.append(sid)
        return namespace, name, sid, path, int(pid), ip

    def remove(self, sid):
        _cri("pod-rm", sid)
        self.made.remove(sid)

    def __call__(self, *args, env=None, **kw):
        return cli(*args, env={**self.endpoint, **(env or {})}, **kw)


@pytest.fixture
def pods(cri_env):
    p = Pods(cri_env)
    try:
        yield p
    finally:
        for sid in list(p.made):
            p.remove(sid)


def test_attach_by_namespace_and_name(pods, netns_name):
    ns, name, sid, path, pid, _ = pods.run()
    r = pods("attach", netns_name, f"pod:{ns}/{name}")
    assert r.triple() == (0, b"", b""), r
    entry = f"{RUN_DIR}/{netns_name}"
    assert is_mount(entry) and not os.path.islink(entry)
    assert identity(entry) == identity(path) == identity(f"/proc/{pid}/ns/net")
    rows = json.loads(pods("-j", "list", "-d").out)
    row = next(r for r in rows if r["name"] == netns_name)
    assert row["container"] == {"engine": "pod", "name": f"{ns}/{name}", "namespace": ns,
                                "pod": name, "uid": row["container"]["uid"], "id": sid}
    assert len(row["container"]["uid"]) == 36 and row["stale"] is None
    text = pods("list", "-d").out.decode()
    line = next(ln for ln in text.splitlines() if ln.startswith(netns_name + " "))
    assert f"pod:{ns}/{name}" in line and line.endswith(" ok")


def test_symlink(pods, netns_name):
    ns, name, _, path, pid, _ = pods.run()
    assert pods("attach", "--symlink", netns_name, f"pod:{ns}/{name}").rc == 0
    entry = f"{RUN_DIR}/{netns_name}"
    assert os.readlink(entry) == f"/proc/{pid}/ns/net" and identity(entry) == identity(path)


def test_bare_name_default_namespace_first_and_ambiguity(pods, netns_name):
    name = unique("twin").lower()
    other = pods.run(name, namespace=f"{NS}-b")
    # one pod of that name, in a namespace other than "default": it is the one
    assert pods("attach", netns_name, f"pod:{name}").rc == 0
    assert identity(f"{RUN_DIR}/{netns_name}") == identity(other[3])
    pods.run(name, namespace=f"{NS}-c")
    r = pods("attach", netns_name.another(), f"pod:{name}")
    assert r.rc == 1 and r.out == b""
    assert r.err.decode() == (f'pod: "{name}" is a pod in namespaces {NS}-b, {NS}-c: say '
                              f"pod:{NS}-b/{name} or pod:{NS}-c/{name}\n")
    default = pods.run(name, namespace="default")
    third = netns_name.another()
    assert pods("attach", third, f"pod:{name}").rc == 0
    assert identity(f"{RUN_DIR}/{third}") == identity(default[3])


def test_exec_in_the_pod(pods):
    ns, name, _, _, _, ip = pods.run()
    r = pods("exec", f"pod:{ns}/{name}", "ip", "-o", "-4", "addr", "show", "dev", "eth0")
    assert r.rc == 0, r
    assert f" inet {ip}/24 ".encode() in r.out
    # as exec NAME: a /sys of the pod's namespace, in a mount namespace of its own
    r = pods("exec", f"pod:{ns}/{name}", "ls", "/sys/class/net")
    assert r.triple() == (0, b"eth0\nlo\n", b""), r
    r = pods("exec", f"pod:{ns}/{name}", "readlink", "/proc/self/ns/mnt")
    assert r.rc == 0 and r.out.strip() != os.readlink("/proc/self/ns/mnt").encode()
    # and the files of /etc/netns/NAMESPACE_NAME, the name attach --all-pods gives it
    with etc_netns_file(f"{ns}_{name}", "resolv.conf", "nameserver 192.0.2.53\n"):
        r = pods("exec", f"pod:{ns}/{name}", "cat", "/etc/resolv.conf")
        assert r.triple() == (0, b"nameserver 192.0.2.53\n", b"")


def test_exec_pod_in_a_batch_and_with_netns(pods):
    """pod: wherever exec takes a name: a -batch line, the -netns global option."""
    ns, name, _, path, _, _ = pods.run()
    ino = f"{identity(path)[1]}\n".encode()
    with tempfile.NamedTemporaryFile("w", prefix="pynetns-test-", suffix=".batch") as f:
        f.write(f"exec pod:{ns}/{name} stat -L -c %i /proc/self/ns/net\n"
                "exec pod:nosuch/pod true\n")
        f.flush()
        r = pods("-batch", f.name)
    assert (r.rc, r.out) == (1, ino), r
    assert r.err.decode() == (f'pod: no ready pod "nosuch/pod" at '
                              f'{pods.endpoint["CONTAINER_RUNTIME_ENDPOINT"]}\n'
                              f"Command failed {f.name}:2\n")
    r = pods("-netns", f"pod:{ns}/{name}", "list")
    assert r.rc == 0, r


def test_exec_tcpdump_sees_traffic_from_the_node(pods):
    """The issue's goal: tcpdump in a pod's namespace with the node's tool."""
    ns, name, _, _, _, ip = pods.run()
    dump = subprocess.Popen([PYNETNS, "exec", f"pod:{ns}/{name}",
                             "tcpdump", "-lni", "eth0", "-c", "1", "udp", "port", "9"],
                            env=dict(os.environ, **pods.endpoint),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while dump.poll() is None and time.monotonic() < deadline:
            # from the node's network namespace, where the pod's bridge is
            subprocess.run(["nsenter", f"--net={pods.env['PYNETNS_CRI_NODE_NETNS']}", "bash",
                            "-c", f"echo hello > /dev/udp/{ip}/9"], check=False)
            time.sleep(0.2)
        out, errs = dump.communicate(timeout=5)
    finally:
        if dump.poll() is None:
            dump.kill()
            dump.wait()
    assert dump.returncode == 0, errs
    assert f"> {ip}.9: UDP".encode() in out, out


def test_exec_pid_enters_the_sandbox_pid_namespace(pods):
    ns, name, _, _, pid, _ = pods.run()
    r = pods("exec", "--pid", f"pod:{ns}/{name}", "cat", "/proc/1/cmdline")
    assert r.rc == 0, r
    assert r.out.split(b"\0")[0] == b"/pause"
    # cri.sh makes pods as kubelet does without shareProcessNamespace: PID mode CONTAINER
    assert r.err.decode() == (f'note: pod "{ns}/{name}" shares no PID namespace between its '
                              "containers (shareProcessNamespace is off): entering its "
                              "sandbox's, where only its pause process runs\n")
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"/pause"


def test_exec_pid_shared_and_host_pid_namespaces(pods):
    """shareProcessNamespace: no note; hostPID: the host's PID namespace, refused."""
    ns, name, *_ = pods.run(opts="sharedpid")
    r = pods("exec", "--pid", f"pod:{ns}/{name}", "cat", "/proc/1/cmdline")
    assert (r.rc, r.out.split(b"\0")[0], r.err) == (0, b"/pause", b""), r
    ns, name, *_ = pods.run(opts="hostpid")
    r = pods("exec", "--pid", f"pod:{ns}/{name}", "true")
    assert r.triple() == (255, b"", f'pod:{ns}/{name}: its PID namespace is the host\'s '
                          "(that of this process); use --force to use it anyway\n".encode())


def test_host_network_pod_needs_force(pods, netns_name):
    ns, name, _, path, pid, _ = pods.run(node=True)
    assert path == "-"
    for args in (("attach", netns_name, f"pod:{ns}/{name}"),
                 ("exec", f"pod:{ns}/{name}", "true")):
        r = pods(*args)
        assert (r.rc, r.out) == ({"attach": 1, "exec": 255}[args[0]], b""), r
        assert r.err.decode() == (f'pod "{ns}/{name}" uses the node\'s network namespace '
                                  "(hostNetwork), not one of its own; use --force to use "
                                  "it anyway\n")
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")
    assert pods("attach", "--force", netns_name, f"pod:{ns}/{name}").rc == 0
    node = identity(pods.env["PYNETNS_CRI_NODE_NETNS"])
    assert identity(f"{RUN_DIR}/{netns_name}") == identity(f"/proc/{pid}/ns/net") == node
    r = pods("exec", "--force", f"pod:{ns}/{name}", "stat", "-L", "-c", "%i",
             "/proc/self/ns/net")
    assert r.triple() == (0, f"{node[1]}\n".encode(), b"")


def test_unknown_pod_and_bad_specs(pods, netns_name):
    endpoint = pods.endpoint["CONTAINER_RUNTIME_ENDPOINT"]
    for spec, message in (
            (f"pod:{NS}/nosuchpod", f'pod: no ready pod "{NS}/nosuchpod" at {endpoint}'),
            ("pod:nosuchpod", f'pod: no ready pod "nosuchpod" at {endpoint}'),
            ("pod:a/b/c", 'pod: "a/b/c" is not NAME or NAMESPACE/NAME'),
            ("pod:", 'pod: "" is not NAME or NAMESPACE/NAME')):
        r = pods("attach", netns_name, spec)
        assert r.triple() == (1, b"", f"{message}\n".encode()), spec
        r = pods("exec", spec, "true")
        assert r.triple() == (255, b"", f"{message}\n".encode()), spec
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_removed_pod(pods, netns_name):
    """A pod removed after the lookup is no pod; an entry made from it goes stale."""
    ns, name, sid, _, _, _ = pods.run()
    assert pods("attach", netns_name, f"pod:{ns}/{name}").rc == 0
    pods.remove(sid)
    r = pods("exec", f"pod:{ns}/{name}", "true")
    assert r.rc == 255 and b"no ready pod" in r.err
    rows = json.loads(pods("-j", "list", "-d").out)
    row = next(r for r in rows if r["name"] == netns_name)
    assert row["container"]["id"] == sid and row["stale"] == "pod gone"
    # made again under the same NAMESPACE/NAME: a new sandbox, a new namespace
    sid2 = pods.run(name, namespace=ns)[2]
    text = pods("list", "-d").out.decode()
    line = next(ln for ln in text.splitlines() if ln.startswith(netns_name + " "))
    assert line.endswith(f"pod:{ns}/{name}  stale: pod re-created (a new sandbox)"), line
    assert sid2 != sid


def test_list_names_the_pod_of_each_cni_entry(pods):
    """The issue's other goal: `pynetns -d list` says which pod each cni-… entry is."""
    ns, name, sid, path, pid, _ = pods.run()
    rows = json.loads(pods("-j", "list", "-d").out)
    row = next(r for r in rows if r["name"] == os.path.basename(path))
    assert row["container"]["id"] == sid and row["container"]["name"] == f"{ns}/{name}"
    assert row["pids"] == [pid] and row["stale"] is None
    text = pods("-d", "list").out.decode()
    line = next(ln for ln in text.splitlines() if ln.startswith(os.path.basename(path)))
    assert line.split()[-2:] == [f"pod:{ns}/{name}", "ok"]


def test_runtime_not_there(pods, netns_name):
    with tempfile.TemporaryDirectory(prefix="pynetns-test-") as d:
        dead = f"{d}/dead.sock"
        s = socket.socket(socket.AF_UNIX)
        s.bind(dead)
        s.close()  # a socket file nothing listens on: ECONNREFUSED
        for value, message in (
                (f"unix://{d}/none.sock", f"pod: cannot connect to the container runtime at "
                                          f"unix://{d}/none.sock: No such file or directory"),
                (dead, f"pod: cannot connect to the container runtime at {dead}: "
                       "Connection refused"),
                ("tcp://127.0.0.1:10010", "pod: CONTAINER_RUNTIME_ENDPOINT=tcp://127.0.0.1:"
                                          "10010 is not supported: only a local unix:// "
                                          "socket can name a namespace on this machine")):
            r = pods("attach", netns_name, "pod:x/y",
                     env={"CONTAINER_RUNTIME_ENDPOINT": value})
            assert r.triple() == (1, b"", f"{message}\n".encode()), value
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def _bind_back(private, path, pid):
    """The pod's cni-… file, hidden by the private tmpfs on /run/netns, bound back there."""
    inside = f"/run/netns/{os.path.basename(path)}"
    subprocess.run(["nsenter", "-m", "-t", str(private.holder.pid), "sh", "-c",
                    f'touch "{inside}" && mount --bind /proc/{pid}/ns/net "{inside}"'],
                   check=True)


def test_all_pods(pods, private):
    """attach --all-pods names every ready pod NAMESPACE_NAME; again, nothing changes; a
    re-created pod (new UID, same name) is replaced; hostNetwork pods are skipped."""
    env = pods.endpoint
    made = [pods.run(), pods.run(), pods.run(node=True)]
    long_ns, long_name = f"{NS}-" + "n" * (63 - len(NS) - 1), "p" * 253
    made.append(pods.run(long_name, namespace=long_ns))
    for _, _, _, path, pid, _ in made:
        if path != "-":
            _bind_back(private, path, pid)
    r = private("-j", "attach", "--all-pods", env=env)
    assert r.rc == 0, r
    got = {o["name"]: o for o in json.loads(r.out)}
    for ns, name, sid, path, pid, _ in made:
        o = got[f"{ns}/{name}"]
        assert o["id"] == sid and len(o["uid"]) == 36
        if path == "-":
            assert o["action"] == "skipped" and "hostNetwork" in o["reason"]
            continue
        assert o["action"] == "attached", o
        entry = o.get("entry", f"{ns}_{name}")
        assert identity(private.path(entry)) == identity(f"/proc/{pid}/ns/net")
    long = got[f"{long_ns}/{long_name}"]["entry"]
    assert len(long) == 255 and long.startswith(f"{long_ns}_ppp") and long.count("_") == 2
    r = private("-j", "attach", "--all-pods", env=env)
    assert {o["name"]: o["action"] for o in json.loads(r.out)} == {
        f"{ns}/{name}": "skipped" if path == "-" else "unchanged"
        for ns, name, _, path, _, _ in made}
    # re-created: the same NAMESPACE/NAME, a new sandbox and UID
    ns, name, sid = made[0][:3]
    pods.remove(sid)
    _, _, sid2, path, pid, _ = pods.run(name, namespace=ns)
    _bind_back(private, path, pid)
    r = private("-j", "attach", "--all-pods", env=env)
    again = {o["name"]: o for o in json.loads(r.out)}[f"{ns}/{name}"]
    assert again["action"] == "replaced" and again["id"] == sid2
    assert identity(private.path(f"{ns}_{name}")) == identity(f"/proc/{pid}/ns/net")
    r = private("attach", "--all-pods", env=env)
    assert ["unchanged", f"{ns}_{name}", "pod", sid2[:12]] in [
        line.split() for line in r.out.decode().splitlines()], r


def test_all_pods_without_runtime(private):
    r = private("attach", "--all-pods", "x")
    assert r.triple() == (1, b"", b"attach --all-pods takes no NAME: entries are named after "
                                  b"pods\n")
    r = private("attach", "--all-pods", env={"CONTAINER_RUNTIME_ENDPOINT": "/nonexistent"})
    assert r.triple() == (1, b"", b"pod: cannot connect to the container runtime at "
                                  b"/nonexistent: No such file or directory\n")


def test_list_marks_the_cni_entry_of_a_dead_sandbox(pods):
    """The pause process killed: the sandbox is not ready, its cni-… file is still there
    (until kubelet stops the pod), and list -d names the pod and says so."""
    ns, name, sid, path, pid, _ = pods.run()
    os.kill(pid, 9)
    for _ in range(100):
        if f"{sid} {ns}/{name} SANDBOX_NOTREADY" in _cri("pods").stdout:
            break
        time.sleep(0.05)
    rows = json.loads(pods("-j", "list", "-d").out)
    row = next(r for r in rows if r["name"] == os.path.basename(path))
    assert (row["container"]["id"], row["pids"]) == (sid, [])
    assert row["stale"] == "pod not ready (its sandbox process is gone)"


def test_completion_offers_pods(pods):
    ns, name, sid, _, _, _ = pods.run()
    want = f"pod:{ns}/{name}\tpod {sid[:12]}"
    for words in (("2", "attach", "x", "pod:"), ("1", "exec", "pod:"),
                  ("2", "exec", "--pid", "pod:")):
        r = pods("__complete", *words)
        assert r.rc == 0 and want in r.out.decode().splitlines(), (words, r)
    r = pods("__complete", "2", "attach", "x", "")
    assert "pod:\ta Kubernetes pod" in r.out.decode().splitlines()
    r = pods("__complete", "1", "exec", "pod:", env={"CONTAINER_RUNTIME_ENDPOINT": "/none"})
    assert r.triple() == (0, b"words\n", b"")


def test_exec_pod_imports_nothing_heavy(pods):
    """The CRI client is pynetns's own: exec pod: loads no gRPC, HTTP/2, TLS or click."""
    import sys
    ns, name, *_ = pods.run()
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "pynetns", "exec",
                        f"pod:{ns}/{name}", "true"], capture_output=True, timeout=30,
                       env=dict(os.environ, **pods.endpoint))
    assert r.returncode == 0, r.stderr[-300:]
    names = {line.rsplit("|", 1)[1].strip().split(".")[0]
             for line in r.stderr.decode().splitlines()[1:] if line.startswith("import time:")}
    assert "pynetns" in names
    assert not names & {"click", "pyroute2", "grpc", "h2", "hpack", "google", "ssl", "http",
                        "asyncio", "hashlib"}, names
