"""A hostile or broken Kubernetes runtime (a fake CRI server: gRPC over HTTP/2 on a unix
socket): whatever it answers, pod: names no namespace it cannot prove is the pod's, says in
one line what was wrong, and gives up by one deadline."""
import os
import socket
import struct
import subprocess
import time

import pytest

from conftest import PYNETNS, RUN_DIR, Result

from .test_engine_docker import FakeDocker

from pynetns._grpc import (DATA, END_HEADERS, END_STREAM, GOAWAY, HEADERS, PING, SETTINGS,
                           Decoder, field, frame, literal, string_map)

ID, OTHER = "ab" * 32, "cd" * 32
LABELS = {"io.kubernetes.pod.namespace": "ns", "io.kubernetes.pod.name": "web"}
OK_HEADERS = b"\x88" + literal("content-type", "application/grpc")  # :status 200 indexed


def listing(sid=ID, labels=LABELS):
    return field(1, field(1, sid) + field(3, 0) + string_map(5, labels))


def status(pid, path, sid=ID):
    import json
    meta = field(1, "web") + field(2, "uid-1") + field(3, "ns")
    info = json.dumps({"pid": pid, "runtimeSpec": {"linux": {"namespaces": [
        {"type": "network", "path": path}]}}})
    return field(1, field(1, sid) + field(2, meta)) + string_map(2, {"info": info})


def answer(message):
    """Frames of an OK answer on stream ``sid``: headers, the message, trailers."""
    def send(conn, sid):
        conn.sendall(frame(HEADERS, END_HEADERS, sid, OK_HEADERS) +
                     frame(DATA, 0, sid, b"\0" + struct.pack(">I", len(message)) + message) +
                     frame(HEADERS, END_HEADERS | END_STREAM, sid, literal("grpc-status", "0")))
    return send


class FakeCRI(FakeDocker):
    """Answers each call by ``routes``: method name → a function of (connection, stream)
    that writes the answer's frames; an unknown method gets UNIMPLEMENTED. It greets with
    SETTINGS, or with the bytes of route "greeting". (FakeDocker's socket and threads, a
    connection answered in HTTP/2.)"""

    def __init__(self, directory, routes):
        self.pings = []
        super().__init__(directory, routes)

    def _answer(self, conn):
        buf, hpack, paths = b"", Decoder(), {}
        try:
            with conn:
                conn.sendall(self.routes.get("greeting", frame(SETTINGS, 0, 0)))
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                    if buf.startswith(b"PRI"):
                        if len(buf) < 24:
                            continue
                        buf = buf[24:]
                    while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
                        size = int.from_bytes(buf[:3], "big")
                        kind, flags = buf[3], buf[4]
                        sid = int.from_bytes(buf[5:9], "big")
                        payload, buf = buf[9:9 + size], buf[9 + size:]
                        if kind == HEADERS:
                            paths[sid] = dict(hpack.decode(payload))[":path"]
                        elif kind == PING:
                            self.pings.append(payload)
                        elif kind == DATA and flags & END_STREAM:
                            method = paths[sid].rsplit("/", 1)[-1]
                            self.routes.get(method, unimplemented)(conn, sid)
        except OSError:
            pass  # the client gave up

    @property
    def env(self):
        return {"CONTAINER_RUNTIME_ENDPOINT": f"unix://{self.path}"}


def unimplemented(conn, sid):
    conn.sendall(frame(HEADERS, END_HEADERS | END_STREAM, sid, OK_HEADERS +
                       literal("grpc-status", "12") + literal("grpc-message", "unknown")))


@pytest.fixture
def fake(tmp_path):
    made = []

    def make(routes):
        directory = tmp_path / str(len(made))  # one socket a fake
        directory.mkdir()
        made.append(FakeCRI(directory, routes))
        return made[-1]

    yield make
    for f in made:
        f.close()


def run(*args, env=None, timeout=30):
    proc = subprocess.run([PYNETNS, *args], capture_output=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    return Result(proc)


@pytest.fixture
def holder():
    """A process in a network namespace of its own: what a lying runtime calls the pod's."""
    proc = subprocess.Popen(["unshare", "-n", "sleep", "60"])
    try:
        for _ in range(1000):
            if os.stat(f"/proc/{proc.pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino:
                break
            time.sleep(0.005)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_a_process_not_of_the_sandbox_is_refused(fake, holder, netns_name):
    """The runtime names a process and its namespace file: both agree, but the process is
    not in the sandbox's cgroup, so nothing is named."""
    pid = holder.pid
    f = fake({"ListPodSandbox": answer(listing()),
              "PodSandboxStatus": answer(status(pid, f"/proc/{pid}/ns/net"))})
    for args, rc in ((("attach", netns_name, "pod:ns/web"), 1),
                     (("exec", "pod:ns/web", "true"), 255),
                     (("exec", "--pid", "pod:ns/web", "true"), 255)):
        r = run(*args, env=f.env)
        assert r.triple() == (rc, b"", f'pod "ns/web": process {pid} is not its sandbox\'s '
                              "(not in its cgroup and network namespace): the pod was "
                              "re-created or the runtime's answer is wrong\n".encode()), args
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_a_netns_path_that_is_no_namespace(fake, holder, netns_name):
    f = fake({"ListPodSandbox": answer(listing()),
              "PodSandboxStatus": answer(status(holder.pid, "/etc/hostname"))})
    r = run("attach", netns_name, "pod:ns/web", env=f.env)
    assert r.triple() == (1, b"", b'pod "ns/web": its network namespace path /etc/hostname '
                                  b"is not a namespace file\n")
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def _trailers_only(code, message_block):
    def send(conn, sid):
        conn.sendall(frame(HEADERS, END_HEADERS | END_STREAM, sid, OK_HEADERS +
                           literal("grpc-status", code) + message_block))
    return send


def test_runtime_errors_in_one_line(fake, netns_name):
    # grpc-message as a Huffman-coded literal with an indexed... new name: "no-cache"
    # (RFC 7541 C.4.2's bytes), then percent-encoding of a newline, which must not pass
    huffman = b"\x00\x0cgrpc-message\x86\xa8\xeb\x10\x64\x9c\xbf"
    f = fake({"ListPodSandbox": _trailers_only("13", huffman)})
    r = run("attach", netns_name, "pod:ns/web", env=f.env)
    assert r.triple() == (1, b"", f"pod: the container runtime at unix://{f.path} failed: "
                                  "INTERNAL: no-cache\n".encode())
    f = fake({"ListPodSandbox": _trailers_only("2", literal("grpc-message", "a%0Ab%zz"))})
    r = run("attach", netns_name, "pod:ns/web", env=f.env)
    assert r.err == f"pod: the container runtime at unix://{f.path} failed: UNKNOWN: " \
                    "a\\x0ab%zz\n".encode()
    f = fake({})  # a containerd without its CRI plugin
    r = run("attach", netns_name, "pod:ns/web", env=f.env)
    assert r.err == f"pod: unix://{f.path} is no Kubernetes runtime: UNIMPLEMENTED: " \
                    "unknown\n".encode()


@pytest.mark.parametrize("routes, problem", [
    ({"ListPodSandbox": answer(b"\x0b")}, "protobuf wire type 3 is not supported"),
    ({"ListPodSandbox": answer(listing(labels={**LABELS, "io.kubernetes.pod.name": "db"}))},
     "it listed a sandbox the filter does not select"),
    ({"ListPodSandbox": answer(listing(sid="x" * 64))}, "a sandbox id is not 64 hex digits"),
    ({"ListPodSandbox": answer(listing()),
      "PodSandboxStatus": answer(status(1, "/x", sid=OTHER))}, None),
    ({"ListPodSandbox": lambda conn, sid: conn.sendall(frame(GOAWAY, 0, 0, b"\0" * 4 +
                                                             b"\0\0\0\x02bye"))},
     "HTTP/2: the server went away (error code 2): bye"),
    ({"ListPodSandbox": lambda conn, sid: conn.sendall(frame(HEADERS, END_HEADERS, sid,
                                                             b"\xbf"))},
     "HPACK: index 63 is beyond the tables"),
    ({"greeting": b"HTTP/1.1 400 Bad Request\r\n\r\n"},
     "not an HTTP/2 server (it did not start with SETTINGS)"),
    ({"ListPodSandbox": lambda conn, sid: conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")},
     "HTTP/2: a frame of 4740180 bytes, above the 16384 allowed"),
    ({"ListPodSandbox": lambda conn, sid: conn.sendall(frame(DATA, 0, sid, b"\0" * 20000))},
     "HTTP/2: a frame of 20000 bytes, above the 16384 allowed"),
    ({"ListPodSandbox": lambda conn, sid: conn.shutdown(socket.SHUT_WR)},
     "the server closed the connection mid-answer"),
])
def test_malformed_answers(fake, netns_name, routes, problem):
    f = fake(routes)
    r = run("attach", netns_name, "pod:ns/web", env=f.env)
    if problem is None:
        message = (f"pod: asked about sandbox {ID[:12]}, the runtime answered about "
                   f"{OTHER[:12]}")
    else:
        message = f"pod: malformed answer from unix://{f.path}: {problem}"
    assert r.triple() == (1, b"", f"{message}\n".encode())
    assert not os.path.lexists(f"{RUN_DIR}/{netns_name}")


def test_one_deadline_and_a_size_cap(fake, netns_name):
    def trickle(conn, sid):  # a PING, then one byte at a time, never the whole answer
        conn.sendall(frame(PING, 0, 0, b"12345678"))
        try:
            for _ in range(100):
                conn.sendall(b"\0")
                time.sleep(0.05)
        except OSError:
            pass
    f = fake({"ListPodSandbox": trickle})
    start = time.monotonic()
    r = run("attach", netns_name, "pod:ns/web", env={**f.env, "PYNETNS_ENGINE_TIMEOUT": "0.5"})
    assert r.triple() == (1, b"", f"pod: no complete answer from unix://{f.path} within "
                                  "0.5 s\n".encode())
    assert time.monotonic() - start < 3
    for _ in range(100):  # the fake reads the answer once it stops trickling
        if f.pings:
            break
        time.sleep(0.05)
    assert f.pings == [b"12345678"]  # answered, as HTTP/2 requires

    def flood(conn, sid):
        chunk = frame(DATA, 0, sid, b"\0" * (1 << 14))
        try:
            conn.sendall(frame(HEADERS, END_HEADERS, sid, OK_HEADERS))
            for _ in range(1100):
                conn.sendall(chunk)
        except OSError:
            pass
    f = fake({"ListPodSandbox": flood})
    r = run("attach", netns_name, "pod:ns/web", env=f.env)
    assert r.triple() == (1, b"", f"pod: malformed answer from unix://{f.path}: the answer "
                                  "is larger than 16 MiB\n".encode())
