"""`inventory` and `which` on the machine's real Docker and Podman containers: each
container's namespace is a row owned by it, its interfaces are what `ip` sees in there, and
`which` goes from the container's host-side veth (on docker0, or on podman's bridge in the
engines' firewall namespace) to the container."""
import json
import os
import subprocess

import pytest

from .support import FWNS, cli

pytestmark = pytest.mark.engine


def ip_json(pid_or_netns, *args):
    """`ip -j ARGS` in a process's network namespace (an int) or a namespace file."""
    net = f"--net=/proc/{pid_or_netns}/ns/net" if isinstance(pid_or_netns, int) else \
        f"--net={pid_or_netns}"
    r = subprocess.run(["nsenter", net, "ip", "-j", *args], capture_output=True, check=True)
    return json.loads(r.stdout)


def warnings_only(err):
    """Nothing on stderr but the count of processes even root may not read (PID 1 of
    some sandboxes)."""
    return all(ln.startswith(b"warning: the network namespace of ") for ln in err.splitlines())


def table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n"
                   for r in rows).encode()


def container_ns(engine, c):
    data = engine.inspect(c)
    pid = data["State"]["Pid"]
    return data, pid, os.stat(f"/proc/{pid}/ns/net").st_ino


def test_inventory_row_of_a_container(engine):
    c = engine.start("inv")
    data, pid, ino = container_ns(engine, c)
    r = cli("inventory", "-j", "-o", "+NSFS")
    assert r.rc == 0, r
    row = {x["ns"]: x for x in json.loads(r.out)}[ino]
    assert row["owner"] == f"{engine.name}:{c}"
    assert row["pid"] == pid and row["nprocs"] == 1 and row["command"] == "sleep"
    key = data["NetworkSettings"]["SandboxKey"]
    if engine.name == "podman":  # podman's bridge namespaces are /run/netns entries
        assert row["names"] == [os.path.basename(key)] and row["nsfs"] == []
    else:
        # The mount table names the mount point with /var/run resolved.
        assert row["names"] == [] and row["nsfs"] == [os.path.realpath(key)]
    # The interfaces and addresses are those `ip` shows in the container's namespace.
    expected = [(x["ifname"], [f"{a['local']}/{a['prefixlen']}" for a in x["addr_info"]])
                for x in ip_json(pid, "addr", "show")]
    assert [(x["name"], x["addresses"]) for x in row["interfaces"]] == expected
    address = next(iter(data["NetworkSettings"]["Networks"].values()))["IPAddress"]
    assert any(a.startswith(address + "/") for _, addrs in expected for a in addrs)
    line = next(ln for ln in cli("inventory").out.decode().splitlines()
                if ln.startswith(f"{ino} "))
    assert f"  {engine.name}:{c}  " in line and "  sleep  " in line


def test_which_host_veth_names_the_container(engine):
    c = engine.start("which")
    data, pid, ino = container_ns(engine, c)
    eth0 = next(x for x in ip_json(pid, "link", "show") if x["ifname"] == "eth0")
    # The host end: on docker0 in the host's namespace, on podman's bridge in the
    # firewall namespace the suite runs podman in.
    host_ns = "/proc/self/ns/net" if engine.name == "docker" else FWNS
    veth = next(x for x in ip_json(host_ns, "link", "show")
                if x["ifindex"] == eth0["link_index"])
    host_ino = os.stat(host_ns).st_ino
    host_owner = "host" if engine.name == "docker" else "-"
    names = "-" if engine.name == "docker" else \
        os.path.basename(data["NetworkSettings"]["SandboxKey"])
    owner = f"{engine.name}:{c}"
    r = cli("which", veth["ifname"])
    assert (r.rc, warnings_only(r.err)) == (0, True), r
    assert r.out == table([
        ["NS", "OWNER", "NAMES", "MATCH"],
        [str(host_ino), host_owner, "-", f"{veth['ifname']}@if{eth0['ifindex']} (veth)"],
        [str(ino), owner, names,
         f"eth0@if{veth['ifindex']} (veth), peer of {veth['ifname']}"]])
    address = next(iter(data["NetworkSettings"]["Networks"].values()))["IPAddress"]
    found = json.loads(cli("which", "-j", address).out)
    assert [(m["ns"], m["owner"], m["interface"]) for m in found] == [(ino, owner, "eth0")]
    assert found[0]["containers"] == [{"engine": engine.name, "name": c, "id": data["Id"]}]


def test_containers_sharing_a_namespace(engine):
    """--network container:X: one row, the holder named first, then who shares it."""
    holder = engine.start("holder")
    guest = engine.start("guest", network=f"container:{holder}")
    _, _pid, ino = container_ns(engine, holder)
    assert os.stat(f"/proc/{engine.pid(guest)}/ns/net").st_ino == ino
    rows = [x for x in json.loads(cli("inventory", "-j", "-o", "NS,NPROCS,OWNER").out)
            if x["ns"] == ino]
    assert rows == [{"ns": ino, "nprocs": 2,
                     "owner": f"{engine.name}:{holder},{engine.name}:{guest}"}]
