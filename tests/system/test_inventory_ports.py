"""Ports over sock_diag: inventory's LISTEN column and `which [tcp|udp]:PORT`, against
`ss -N NAME -tuln`, in a namespace made here that holds every kind of socket (listening
and connected TCP, IPv4, IPv6-only and dual-stack, bound and connected UDP); the request
bytes and the decoded sockets against pyroute2's; the /proc/net fallback against
sock_diag."""
import json
import random
import subprocess
import sys

import pytest

from conftest import IP, pynetns, remove_entry, unique

SOCKETS = r"""
import json, socket, sys, time
base = int(sys.argv[1])
held = []
def bound(family, kind, address, port, v6only=None):
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((address, port))
    held.append(s)
    return s
T, U, V4, V6 = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.AF_INET, socket.AF_INET6
bound(V4, T, "0.0.0.0", base).listen()
bound(V6, T, "::", base + 1, v6only=1).listen()
bound(V6, T, "::", base + 2, v6only=0).listen()
bound(V4, T, "127.0.0.1", base + 3).listen()
held.append(socket.create_connection(("127.0.0.1", base + 3)))  # ESTAB: not listed
bound(V4, U, "127.0.0.1", base + 4)
bound(V6, U, "::", base + 5, v6only=0)
bound(V6, U, "::1", base + 6, v6only=1)
bound(V4, U, "0.0.0.0", 0).connect(("127.0.0.1", base + 4))  # connected UDP: not listed
print(json.dumps({f"{s.fileno()}": s.getsockname()[1] for s in held}), flush=True)
time.sleep(120)
"""


@pytest.fixture(scope="module")
def world():
    """(namespace name, base port, pid of the process holding the sockets)."""
    name = unique("ports")
    base = random.randrange(20000, 60000, 10)
    subprocess.run([IP, "netns", "add", name], check=True)
    proc = None
    try:
        subprocess.run([IP, "-n", name, "link", "set", "lo", "up"], check=True)
        proc = subprocess.Popen([IP, "netns", "exec", name, sys.executable, "-c", SOCKETS,
                                 str(base)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip(), "the socket holder did not start"
        yield name, base, proc.pid
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        remove_entry(name)


def _ss(name):
    """{(proto, address, port)} of `ss -N NAME -tuln`: a dual-stack socket's "*" is "::"
    (ss shows it so when IPV6_V6ONLY is off), brackets dropped."""
    out = subprocess.run(["ss", "-N", name, "-tulnH"], capture_output=True, text=True,
                         check=True).stdout
    found = set()
    for line in out.splitlines():
        proto, _, _, _, local = line.split()[:5]
        address, _, port = local.rpartition(":")
        address = "::" if address == "*" else address.strip("[]")
        found.add((proto, address, int(port)))
    return found


def _row(name):
    r = pynetns("-j", "inventory", "-o", "NS,NAMES,LISTEN", timeout=60)
    assert r.rc == 0, r
    rows = [row for row in json.loads(r.out) if name in row["names"]]
    assert len(rows) == 1, rows
    return rows[0]


def test_listen_column_is_what_ss_lists(world):
    name, base, _ = world
    theirs = _ss(name)
    assert {(p, port - base) for p, _, port in theirs} == {
        ("tcp", 0), ("tcp", 1), ("tcp", 2), ("tcp", 3), ("udp", 4), ("udp", 5), ("udp", 6)}
    ours = {(s["proto"], s["address"], s["port"]) for s in _row(name)["listen"]}
    assert ours == theirs


def test_listen_column_text(world):
    name, base, _ = world
    r = pynetns("inventory", "-o", "NAMES,LISTEN", timeout=60)
    assert r.rc == 0, r
    line = next(ln for ln in r.out.decode().splitlines() if ln.startswith(name + " "))
    # TCP, then UDP; IPv4, then IPv6; by port.
    assert line.split()[1] == ",".join([
        f"tcp:0.0.0.0:{base}", f"tcp:127.0.0.1:{base + 3}", f"tcp:[::]:{base + 1}",
        f"tcp:[::]:{base + 2}", f"udp:127.0.0.1:{base + 4}", f"udp:[::]:{base + 5}",
        f"udp:[::1]:{base + 6}"])


@pytest.mark.parametrize("spec, offset, want", [
    ("tcp:{}", 0, ["tcp 0.0.0.0:{}"]), (":{}", 2, ["tcp [::]:{}"]),
    ("udp:{}", 5, ["udp [::]:{}"]), (":{}", 6, ["udp [::1]:{}"]),
    ("udp:{}", 0, []), ("tcp:{}", 4, []),
])
def test_which_port_names_the_namespace_and_the_process(world, spec, offset, want):
    name, base, pid = world
    port = base + offset
    r = pynetns("which", spec.format(port), timeout=60)
    ours = [ln.split(None, 3)[3] for ln in r.out.decode().splitlines()[1:]
            if ln.split()[2] == name]
    assert ours == [f"{w.format(port)} (pid {pid})" for w in want], r
    if want:
        assert r.rc == 0, r


def test_which_port_json(world):
    name, base, pid = world
    r = pynetns("-j", "which", f"tcp:{base + 1}", timeout=60)
    assert r.rc == 0, r
    mine = [m for m in json.loads(r.out) if name in m["names"]]
    assert [(m["proto"], m["address"], m["port"], m["pids"]) for m in mine] == [
        ("tcp", "::", base + 1, [pid])]


def _inside(name, code):
    """What ``code`` prints (JSON) run by this interpreter inside namespace ``name``."""
    out = subprocess.run([IP, "netns", "exec", name, sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_proc_net_fallback_reads_the_same_sockets(world):
    name, _, _ = world
    got = _inside(name, """
import json, socket
from pynetns import _procnet, _sockdiag
key = lambda s: [s.proto, s.address, s.port, s.inode]
diag = [key(s) for s in _sockdiag.listeners()]
proc = [key(s) for p in ("tcp", "udp") for f in (socket.AF_INET, socket.AF_INET6)
        for s in _procnet.listeners_of(p, f)]
print(json.dumps([diag, proc]))
""")
    assert len(got[0]) == 7
    assert sorted(got[0]) == sorted(got[1])


def test_codec_against_pyroute2(world):
    name, _, _ = world
    got = _inside(name, """
import json, socket
from pyroute2.netlink.diag import DiagSocket, inet_diag_req
from pynetns import _sockdiag
bodies = []
for proto, protocol, state in _sockdiag.QUERIES:
    for family, _ in _sockdiag.FAMILIES:
        req = inet_diag_req()
        req.update(sdiag_family=family, sdiag_protocol=protocol, idiag_states=1 << state)
        req.encode()
        bodies.append([bytes(req.data[16:]).hex(),
                       _sockdiag.request_body(family, protocol, state).hex()])
theirs = []
with DiagSocket() as ds:
    ds.bind()
    for proto, protocol, state in _sockdiag.QUERIES:
        for family, _ in _sockdiag.FAMILIES:
            for m in ds.get_sock_stats(family=family, protocol=protocol, states=1 << state):
                theirs.append([proto, m["idiag_src"], m["idiag_sport"], m["idiag_inode"]])
ours = [[s.proto, s.address, s.port, s.inode] for s in _sockdiag.listeners()]
print(json.dumps([bodies, theirs, ours]))
""")
    bodies, theirs, ours = got
    for pyroute2_bytes, our_bytes in bodies:
        assert our_bytes == pyroute2_bytes
    assert len(ours) == 7
    assert sorted(ours) == sorted(theirs)

