"""Completion asks the engines through the clients attach uses (containers.Docker/Podman):
the same hosts refused, the same answers checked, within containers.QUICK. Fake engines (a
Docker API server, a `podman` script); no root needed."""
import http.server
import json
import socketserver
import threading
import time

import pytest

from pynetns import containers
from pynetns.cli import completion

ID = "0123456789abcdef" * 4
LISTING = [{"Id": ID, "Names": ["/web"]}]


class Listing(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the server's ``body`` as JSON."""

    def do_GET(self):
        body = json.dumps(self.server.body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True


@pytest.fixture
def docker_api(tmp_path, monkeypatch):
    """make(body, tcp=False): a Docker API answering ``body``, named by DOCKER_HOST."""
    made = []

    def make(body, tcp=False):
        if tcp:
            server = TCPServer(("127.0.0.1", 0), Listing)
            host = f"tcp://127.0.0.1:{server.server_address[1]}"
        else:
            server = UnixServer(str(tmp_path / f"docker{len(made)}.sock"), Listing)
            host = f"unix://{server.server_address}"
        server.body = body
        threading.Thread(target=server.serve_forever, daemon=True).start()
        made.append(server)
        monkeypatch.setenv("DOCKER_HOST", host)
    yield make
    for server in made:
        server.shutdown()
        server.server_close()


@pytest.fixture
def podman_cli(tmp_path, monkeypatch):
    def make(script):
        (tmp_path / "podman").write_text(f"#!/bin/sh\n{script}\n")
        (tmp_path / "podman").chmod(0o755)
        monkeypatch.setenv("PATH", str(tmp_path))
    return make


def offered(*words):
    return completion.complete(list(words), len(words) - 1).candidates


def test_docker_containers_from_its_api(docker_api):
    docker_api(LISTING)
    assert offered("attach", "x", "docker:") == [("docker:web", "docker container 0123456789ab")]
    assert offered("exec", "docker:") == [("docker:web", "docker container 0123456789ab")]


def test_a_tcp_host_attach_refuses_is_not_asked_either(docker_api):
    docker_api(LISTING, tcp=True)
    assert offered("attach", "x", "docker:") == []


@pytest.mark.parametrize("body", [
    [{"Id": "0123456789abcdef", "Names": ["/web"]}],  # not an ID attach would take
    {"Id": ID}, [ID], [{"Names": ["/web"]}]])
def test_answers_attach_refuses_offer_nothing(docker_api, body):
    docker_api(body)
    assert offered("attach", "x", "docker:") == []


def test_podman_through_its_command(podman_cli):
    podman_cli("echo '" + json.dumps([{"Id": ID, "Names": ["web"]}]) + "'")
    assert offered("attach", "x", "podman:") == [("podman:web", "podman container 0123456789ab")]
    podman_cli("echo 'not json'")
    assert offered("attach", "x", "podman:") == []


def test_a_hung_podman_costs_the_quick_deadline(podman_cli):
    podman_cli("exec sleep 30")
    start = time.monotonic()
    assert offered("attach", "x", "podman:") == []
    assert time.monotonic() - start < containers.QUICK + 1
