"""A fake container engine API for tests: a unix-socket HTTP server that answers GET PATH
from a table. tests/security makes hostile Docker daemons of it (and a CRI runtime over its
socket), tests/shell an engine with fixed containers for completion."""
import json
import os
import socket
import threading


class FakeEngine:
    """Answers GET PATH from ``routes``: PATH → (status, JSON-able body or raw bytes), or a
    function that gets the connection and answers by itself; anything else is a 404. Each
    connection has a thread of its own. Without ``answer`` it listens and never accepts:
    an engine that hangs."""

    def __init__(self, path, routes, answer=True):
        self.path = str(path)
        self.routes = routes
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.server = None
        if answer:
            self.server = threading.Thread(target=self._serve, daemon=True)
            self.server.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            path = request.split()[1].decode()
            reply = self.routes.get(path, (404, {"message": "No such container"}))
            try:
                if callable(reply):
                    reply(conn)
                    return
                status, body = reply
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            except OSError:
                pass  # the client gave up

    def close(self):
        if self.server is not None:
            # shutdown wakes the accept(): a closed fd number, reused by the next test's
            # server, must not be accepted on by this one
            self.sock.shutdown(socket.SHUT_RDWR)
            self.server.join(10)
        self.sock.close()
        os.unlink(self.path)
