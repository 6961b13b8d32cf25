"""`inventory` and `which` in a world of their own: a PID, mount and network namespace made
for the module (its network namespace plays the host), where the only network namespaces are
those the test made: two named ones joined to the "host" and to each other by veth pairs,
one held only by a bind mount outside /run/netns, one held only by a process. Its /proc shows
only its own processes, so every row is known and the output is asserted in full."""
import json
import subprocess

import pytest

from conftest import IP, PYNETNS, Result

WORLD = r"""
set -e
# Only this world's namespaces: drop the copies of the machine's nsfs mounts; and no
# engine (their sockets and state are under /run, and pynetns runs without PATH).
# (A mount may be gone already: one under another that went first.)
# (The fstype follows the "-" that ends a varying number of optional fields.)
for m in $(awk '{for (i = 7; $i != "-"; i++); if ($(i + 1) == "nsfs") print $5}' \
         /proc/self/mountinfo); do
    umount -l "$m" 2>/dev/null || true
done
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /tmp/pynetns-inventory
mount -t tmpfs tmpfs /tmp/pynetns-inventory
$IP netns add a
$IP netns add b
$IP link add hv type veth peer name eth0 netns a
$IP -n a link add x type veth peer name y netns b
$IP addr add 10.9.0.1/24 dev hv
$IP -n a addr add 10.9.0.2/24 dev eth0
$IP -n a addr add 2001:db8::2/64 dev eth0
$IP -n b addr add 10.9.1.2/24 dev y
touch /tmp/pynetns-inventory/held
unshare --net=/tmp/pynetns-inventory/held true
unshare -n sleep 600 &
sleeper=$!
echo "sleeper $sleeper"
$IP netns exec a python3 -c '
import socket, time
t = socket.socket()
t.bind(("0.0.0.0", 8080))
t.listen()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind(("::", 5353))
print("ready", flush=True)
time.sleep(600)' >/tmp/pynetns-inventory/ready &
echo "listener $!"
for i in $(seq 200); do [ -s /tmp/pynetns-inventory/ready ] && break; sleep 0.05; done
for ns in /proc/self/ns/net /run/netns/a /run/netns/b /tmp/pynetns-inventory/held \
          /proc/$sleeper/ns/net; do stat -L -c %i $ns; done | tr '\n' ' '; echo
exec sleep 600
"""


class World:
    def __init__(self):
        self.holder = subprocess.Popen(
            ["unshare", "-m", "-p", "-f", "--mount-proc", "-n", "--propagation", "private",
             "bash", "-c", WORLD], stdout=subprocess.PIPE,
            env={"IP": IP, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        self.pids = {}
        for _ in range(2):
            what, pid = self.holder.stdout.readline().split()
            self.pids[what.decode()] = int(pid)
        inodes = [int(i) for i in self.holder.stdout.readline().split()]
        assert len(inodes) == 5, inodes
        self.host, self.a, self.b, self.held, self.proc = inodes
        # `unshare -f` forks the world's PID 1 (bash, now sleep): a child of the holder.
        with open(f"/proc/{self.holder.pid}/task/{self.holder.pid}/children") as f:
            self.init = int(f.read().split()[0])

    def run(self, *args, tool=PYNETNS, as_nobody=False, path="/nonexistent", click=False):
        nobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        proc = subprocess.run(["/usr/bin/nsenter", "-t", str(self.init), "-m", "-n", "-p",
                               *(nobody if as_nobody else []), tool, *args],
                              capture_output=True, timeout=60,
                              env={"PATH": path, **({"PYNETNS_CLICK": "1"} if click else {})})
        return Result(proc)

    def close(self):
        self.holder.kill()
        self.holder.wait()
        self.holder.stdout.close()


@pytest.fixture(scope="module")
def world():
    w = World()
    try:
        yield w
    finally:
        w.close()


def table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n"
                   for r in rows).encode()


def nsid_of_a(world):
    """What `ip netns list` says a's nsid is (the oracle for the NSID column)."""
    listing = world.run("netns", "list", tool=IP).out.decode()
    assert listing == "b\na (id: 0)\n" or listing == "a (id: 0)\nb\n", listing
    return "0"


def rows(world):
    return sorted([
        [str(world.host), "-", "-", "2", "1", "sleep", "host", "lo, hv@if2 10.9.0.1/24"],
        [str(world.a), nsid_of_a(world), "a", "1", str(world.pids["listener"]), "python3", "-",
         "lo, eth0@if2 10.9.0.2/24 2001:db8::2/64, x@if2"],
        [str(world.b), "-", "b", "0", "-", "-", "-", "lo, y@if3 10.9.1.2/24"],
        [str(world.held), "-", "-", "0", "-", "-", "-", "lo"],
        [str(world.proc), "-", "-", "1", str(world.pids["sleeper"]), "sleep", "-", "lo"],
    ], key=lambda r: int(r[0]))


HEADER = ["NS", "NSID", "NAMES", "NPROCS", "PID", "COMMAND", "OWNER", "INTERFACES"]


def test_inventory_lists_every_namespace_of_the_world(world):
    r = world.run("inventory")
    assert (r.rc, r.err) == (0, b"")
    assert r.out == table([HEADER] + rows(world))


def test_columns_as_lsns(world):
    r = world.run("inventory", "-o", "ns,NSFS,listen")
    assert (r.rc, r.err) == (0, b"")
    listen = {world.a: "tcp:0.0.0.0:8080,udp:[::]:5353"}
    nsfs = {world.held: "/tmp/pynetns-inventory/held"}
    assert r.out == table([["NS", "NSFS", "LISTEN"]] + [
        [row[0], nsfs.get(int(row[0]), "-"), listen.get(int(row[0]), "-")]
        for row in rows(world)])
    added = world.run("inventory", "--output", "+NSFS")
    assert added.out.decode().splitlines()[0].split() == HEADER + ["NSFS"]


def test_json_has_the_same_rows(world):
    r = world.run("inventory", "-j")
    assert (r.rc, r.err) == (0, b"")
    got = json.loads(r.out)
    assert [row["ns"] for row in got] == [int(row[0]) for row in rows(world)]
    by_ns = {row["ns"]: row for row in got}
    a = by_ns[world.a]
    assert {k: a[k] for k in ("nsid", "names", "nprocs", "pid", "command", "owner")} == {
        "nsid": 0, "names": ["a"], "nprocs": 1, "pid": world.pids["listener"],
        "command": "python3", "owner": None}
    assert a["interfaces"][1] == {
        "name": "eth0", "index": 2, "kind": "veth", "state": "DOWN", "link": 2,
        "link_netnsid": a["interfaces"][1]["link_netnsid"],
        "peer": {"ns": world.host, "interface": "hv", "index": 2},
        "addresses": ["10.9.0.2/24", "2001:db8::2/64"]}
    assert by_ns[world.host]["owner"] == "host"
    assert world.run("-j", "inventory").out == r.out


def test_json_of_chosen_columns(world):
    r = world.run("inventory", "-j", "-o", "NS,NAMES,LISTEN")
    assert json.loads(r.out)[[int(x[0]) for x in rows(world)].index(world.a)] == {
        "ns": world.a, "names": ["a"], "listen": [
            {"proto": "tcp", "address": "0.0.0.0", "port": 8080},
            {"proto": "udp", "address": "::", "port": 5353}]}


WHICH = ["NS", "OWNER", "NAMES", "MATCH"]


@pytest.mark.parametrize("target", ["hv", "2"])
def test_which_host_veth_names_both_ends(world, target):
    r = world.run("which", target)
    assert (r.rc, r.err) == (0, b"")
    assert r.out == table([WHICH, [str(world.host), "host", "-", "hv@if2 (veth)"],
                           [str(world.a), "-", "a", "eth0@if2 (veth), peer of hv"]])


def test_which_far_end_in_other_namespaces(world):
    # No eth0 in the caller's namespace: every namespace is searched.
    assert world.run("which", "eth0").out == table([
        WHICH, [str(world.a), "-", "a", "eth0@if2 (veth)"],
        [str(world.host), "host", "-", "hv@if2 (veth), peer of eth0"]])
    assert world.run("which", "y").out == table([
        WHICH, [str(world.b), "-", "b", "y@if3 (veth)"],
        [str(world.a), "-", "a", "x@if2 (veth), peer of y"]])


def test_which_address(world):
    assert world.run("which", "10.9.1.2").out == table([
        WHICH, [str(world.b), "-", "b", "10.9.1.2/24 on y@if3"]])
    assert world.run("which", "2001:db8::2").out == table([
        WHICH, [str(world.a), "-", "a", "2001:db8::2/64 on eth0@if2"]])


def test_which_port(world):
    pid = world.pids["listener"]
    tcp = [str(world.a), "-", "a", f"tcp 0.0.0.0:8080 (pid {pid})"]
    udp = [str(world.a), "-", "a", f"udp [::]:5353 (pid {pid})"]
    assert world.run("which", ":8080").out == table([WHICH, tcp])
    assert world.run("which", "tcp:8080").out == table([WHICH, tcp])
    assert world.run("which", ":5353").out == table([WHICH, udp])
    assert world.run("which", "udp:8080").rc == 1
    j = json.loads(world.run("which", "-j", "udp:5353").out)
    assert j == [{"ns": world.a, "nsid": 0, "names": ["a"], "owner": None, "containers": [],
                  "proto": "udp", "address": "::", "port": 5353, "pids": [pid]}]


def test_which_json_of_a_veth(world):
    r = world.run("which", "--json", "hv")
    assert r.rc == 0
    host, a = json.loads(r.out)
    assert host == {"ns": world.host, "nsid": None, "names": [], "owner": "host",
                    "containers": [], "interface": "hv", "index": 2, "kind": "veth",
                    "peer": {"ns": world.a, "interface": "eth0", "index": 2}, "peer_of": None}
    assert a["ns"] == world.a and a["peer_of"] == "hv" and a["interface"] == "eth0"


@pytest.mark.parametrize("target, rc, message", [
    ("nope0", 1, 'nothing has "nope0" in any network namespace'),
    ("10.99.99.99", 1, 'nothing has "10.99.99.99" in any network namespace'),
    (":99", 1, 'nothing has ":99" in any network namespace'),
    (":0", 255, 'Invalid port "0" in ":0": a number from 1 to 65535 is expected'),
    ("tcp:http", 255, 'Invalid port "http" in "tcp:http": a number from 1 to 65535 is expected'),
    (":65536", 255, 'Invalid port "65536" in ":65536": a number from 1 to 65535 is expected'),
    ("sctp:80", 255, '"sctp:80" is not an interface name or index, an IP address or '
                     "[tcp|udp]:PORT"),
    ("a/b", 255, '"a/b" is not an interface name or index, an IP address or [tcp|udp]:PORT'),
    ("0", 255, 'Invalid interface index "0"'),
])
def test_which_bad_or_unknown_target(world, target, rc, message):
    r = world.run("which", target)
    assert r.triple() == (rc, b"", message.encode() + b"\n")


@pytest.mark.parametrize("args, message", [
    (("which",), "Usage: pynetns which [-j] NAME|INDEX|ADDRESS|[tcp|udp]:PORT"),
    (("which", "a", "b"), "Usage: pynetns which [-j] NAME|INDEX|ADDRESS|[tcp|udp]:PORT"),
    (("inventory", "-o", "NS,BOGUS"), "unknown column: BOGUS"),
    (("inventory", "extra"), 'inventory takes no argument, not "extra"'),
])
def test_bad_usage_is_one_line(world, args, message):
    r = world.run(*args)
    assert r.rc != 0 and r.out == b"" and r.err == message.encode() + b"\n"


def test_caller_is_left_where_it_was():
    """The library reads every namespace from a throw-away thread: the caller's threads
    end in the namespace they began in."""
    script = ("import os, threading\nfrom pynetns import inventory\n"
              "before = os.readlink('/proc/thread-self/ns/net')\n"
              "inv = inventory.collect(owners=False)\n"
              "assert len(inv.namespaces) > 1\n"
              "print(before == os.readlink('/proc/thread-self/ns/net'), threading.active_count())")
    from conftest import VENV_BIN
    r = subprocess.run([str(VENV_BIN / "python"), "-c", script], capture_output=True)
    assert (r.returncode, r.stdout) == (0, b"True 1\n"), r.stderr


def test_what_an_unprivileged_caller_is_told(world):
    """nobody sees its own namespace in full; the named and mounted ones it may not enter
    are listed with why; the processes it may not look at are counted."""
    r = world.run("inventory", "-o", "NS,NAMES,NPROCS,INTERFACES", as_nobody=True)
    assert r.rc == 0
    assert r.err == (b"warning: the network namespace of 3 processes cannot be read "
                     b"(Permission denied): run as root to see them\n")
    denied = "? (cannot enter it: Operation not permitted)"
    assert r.out == table([["NS", "NAMES", "NPROCS", "INTERFACES"]] + sorted([
        [str(world.host), "-", "1", "lo, hv@if2 10.9.0.1/24"], [str(world.a), "a", "0", denied],
        [str(world.b), "b", "0", denied], [str(world.held), "-", "0", denied]],
        key=lambda row: int(row[0])))
    assert world.run("which", "hv", as_nobody=True).out == table([
        WHICH, [str(world.host), "-", "-", "hv@if2 (veth)"]])


def test_completion_offers_the_interfaces_here(world):
    assert world.run("__complete", "1", "which", "").out == b"words\nhv\nlo\n"
    assert world.run("__complete", "2", "which", "-j", "h").out == b"words\nhv\nlo\n"


FAKE_PODMAN = """#!/bin/sh
case "$1" in
    ps) echo {ids} ;;
    container) {inspect} ;;
esac
"""


def fake_podman(tmp_path, ids, inspect):
    (tmp_path / "podman").write_text(FAKE_PODMAN.format(ids=ids, inspect=inspect))
    (tmp_path / "podman").chmod(0o755)
    return str(tmp_path)


def container(cid, pid, sandbox=""):
    return {"Id": cid, "Name": "fake", "State": {"Pid": pid, "Status": "running"},
            "NetworkSettings": {"SandboxKey": sandbox}, "HostConfig": {"NetworkMode": "bridge"}}


def owners(world, path):
    r = world.run("inventory", "-j", "-o", "NS,OWNER", path=path)
    assert (r.rc, r.err) == (0, b""), r
    return {row["ns"]: row["owner"] for row in json.loads(r.out)}


def test_containers_gone_before_their_inspect(world, tmp_path):
    """podman ps names a container that is gone when it is inspected: no owners from
    podman, not a failed inventory."""
    path = fake_podman(tmp_path, "ab" * 32, "echo 'Error: no such container abab' >&2; exit 125")
    assert owners(world, path)[world.a] is None


@pytest.mark.parametrize("sandbox, owner", [("", None), ("/run/netns/a", "podman:fake")])
def test_an_engine_pid_is_not_proof_enough(world, tmp_path, sandbox, owner):
    """An engine's PID seen from another PID namespace is some other process: a container
    owns a namespace when its SandboxKey is that namespace, or its ID is in the cgroup of
    the process with its PID."""
    cid = "cd" * 32
    answer = json.dumps([container(cid, world.pids["listener"], sandbox)])
    path = fake_podman(tmp_path, cid, f"echo '{answer}'")
    assert owners(world, path)[world.a] == owner


def test_an_interface_name_cannot_forge_output(world):
    """The kernel allows control characters in interface names: the table shows them
    escaped, so a name can neither send escape sequences nor fake a row."""
    ip_b = ["/usr/bin/nsenter", "-t", str(world.init), "-m", "-n", "-p", IP, "-n", "b"]
    subprocess.run([*ip_b, "link", "add", "\x1b[2Jz\x85", "type", "veth", "peer", "name",
                    "q"], check=True)
    try:
        r = world.run("inventory", "-o", "NS,INTERFACES")
        line = next(ln for ln in r.out.splitlines() if ln.startswith(str(world.b).encode()))
        assert line.endswith(b"  lo, y@if3 10.9.1.2/24, q@\\x1b[2Jz\\x85, \\x1b[2Jz\\x85@q")
        assert world.run("which", "q").out.count(b"\\x1b[2Jz") == 2
    finally:
        subprocess.run([*ip_b, "link", "del", "q"], check=True)


@pytest.mark.parametrize("args", [("inventory", "-o", "NS,NAMES"), ("inventory", "--output", "x"),
                                  ("which", "-j", "hv"), ("which", "a/b"), ("inventory", "-o")])
def test_click_path_agrees(world, args):
    assert world.run(*args, click=True).triple() == world.run(*args).triple()


def test_which_veth_with_both_ends_here(world):
    """Both ends in the caller's namespace: the link `which` reads alone names its peer by
    IFLA_LINK, which is read too."""
    ip_host = ["/usr/bin/nsenter", "-t", str(world.init), "-m", "-n", "-p", IP]
    subprocess.run([*ip_host, "link", "add", "p1", "type", "veth", "peer", "name", "p2"],
                   check=True)
    try:
        host = str(world.host)
        for target, near, far in (("p1", "p1@p2", "p2@p1"), ("p2", "p2@p1", "p1@p2")):
            assert world.run("which", target).out == table([
                WHICH, [host, "host", "-", f"{near} (veth)"],
                [host, "host", "-", f"{far} (veth), peer of {target}"]])
    finally:
        subprocess.run([*ip_host, "link", "del", "p1"], check=True)


def test_which_lo_here(world):
    assert world.run("which", "lo").out == table([WHICH, [str(world.host), "host", "-", "lo"]])


def test_which_finds_a_far_end_held_by_a_mount_or_a_process(world):
    """The far end of a host veth in a namespace that only a bind mount outside /run/netns
    holds, or only a process: `which` looks past /run/netns (our mount table, then every
    process) until it finds the namespace with that nsid."""
    enter = ["/usr/bin/nsenter", "-t", str(world.init), "-m", "-n", "-p"]
    made = subprocess.run([*enter, "bash", "-c", """
        set -e
        touch /tmp/pynetns-inventory/m2
        unshare --net=/tmp/pynetns-inventory/m2 true
        unshare -n sleep 600 >/dev/null 2>&1 &
        for i in $(seq 200); do
            [ "$(stat -L -c %i /proc/$!/ns/net)" != "$(stat -L -c %i /proc/self/ns/net)" ] \\
                && break
            sleep 0.01
        done
        echo $!"""], capture_output=True, text=True, check=True)
    pid = made.stdout.split()[-1]
    ip = [*enter, IP]
    try:
        for host_end, far_end, where in (("hm", "em", "/tmp/pynetns-inventory/m2"),
                                         ("hp", "ep", pid)):
            subprocess.run([*ip, "link", "add", host_end, "type", "veth", "peer", "name",
                            far_end, "netns", where], check=True)
            index = json.loads(subprocess.run([*ip, "-j", "link", "show", host_end],
                                              capture_output=True, check=True).stdout)
            inode = subprocess.run([*enter, "stat", "-L", "-c", "%i",
                                    where if where.startswith("/") else f"/proc/{where}/ns/net"],
                                   capture_output=True, text=True, check=True).stdout.strip()
            r = world.run("which", host_end)
            assert (r.rc, r.err) == (0, b""), r
            assert r.out == table([
                WHICH, [str(world.host), "host", "-", f"{host_end}@if2 (veth)"],
                [inode, "-", "-", f"{far_end}@if{index[0]['ifindex']} (veth), peer of "
                                  f"{host_end}"]])
    finally:
        subprocess.run([*ip, "link", "del", "hm"], stderr=subprocess.DEVNULL)
        subprocess.run([*ip, "link", "del", "hp"], stderr=subprocess.DEVNULL)
        subprocess.run([*enter, "kill", pid])
        subprocess.run([*enter, "umount", "/tmp/pynetns-inventory/m2"])
