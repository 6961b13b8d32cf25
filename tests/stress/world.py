"""A private world for the stress tests: a server process in its own mount and PID namespace
with a fresh tmpfs on /run, running the commands the tests send it.

/run/netns starts absent there, as on a freshly booted host. Nothing mounted or created
under /run reaches the host, and every process started in the world dies with it (the
server is PID 1 of its PID namespace). The host's /etc is visible but never written.

Run as a script (`world.py serve`) it is the server: one JSON request per line on stdin,
one JSON reply per line on stdout.
"""
import base64
import json
import os
import subprocess
import sys


def _b64(data):
    return base64.b64encode(data).decode()


def _unb64(text):
    return base64.b64decode(text)


def _bytes(arg):
    return arg if isinstance(arg, bytes) else os.fsencode(str(arg))


class Result:
    def __init__(self, rc, out, err, timed_out=False):
        self.rc, self.out, self.err, self.timed_out = rc, out, err, timed_out

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out!r}, err={self.err!r})"

    def triple(self):
        return self.rc, self.out, self.err

    def json(self):
        return json.loads(self.out)


class World:
    """``with World() as w: w.run([...])``. ``env`` adds to the server's environment."""

    def __init__(self, env=None):
        self.env = dict(os.environ, **(env or {}))
        self.proc = subprocess.Popen(
            ["unshare", "-m", "-p", "-f", "--mount-proc", "--propagation", "private",
             sys.executable, os.path.abspath(__file__), "serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env)
        ready = self.proc.stdout.readline()
        if ready != b"ready\n":
            raise RuntimeError(f"world did not start: {ready!r}")

    def run(self, argv, *, env=None, input=None, timeout=60):
        request = {"argv": [_b64(_bytes(a)) for a in argv], "env": env,
                   "input": None if input is None else _b64(input), "timeout": timeout}
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        return Result(reply["rc"], _unb64(reply["out"]), _unb64(reply["err"]),
                      reply["timed_out"])

    def sh(self, script, **kw):
        """bash -e in the world; $PYNETNS and $IP are set."""
        return self.run(["bash", "-ec", script], **kw)

    def py(self, code, *args, **kw):
        """A Python snippet in the world, with the suite's interpreter (pynetns importable)."""
        return self.run([sys.executable, "-c", code, *args], **kw)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _serve():
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run"], check=True)
    sys.stdout.buffer.write(b"ready\n")
    sys.stdout.buffer.flush()
    for line in sys.stdin.buffer:
        req = json.loads(line)
        env = None if req["env"] is None else dict(os.environ, **req["env"])
        argv = [_unb64(a) for a in req["argv"]]
        data = None if req["input"] is None else _unb64(req["input"])
        timed_out = False
        try:
            p = subprocess.run(argv, capture_output=True, env=env, input=data,
                               stdin=None if data is not None else subprocess.DEVNULL,
                               timeout=req["timeout"])
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err, timed_out = -9, e.stdout or b"", e.stderr or b"", True
        except OSError as e:  # as a shell says it, and the world goes on
            rc, out, err = 127, b"", f"{argv[0]!r}: {e.strerror}\n".encode()
        reply = {"rc": rc, "out": _b64(out), "err": _b64(err), "timed_out": timed_out}
        sys.stdout.buffer.write(json.dumps(reply).encode() + b"\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    _serve()
