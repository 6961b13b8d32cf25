"""list -d, prune and attach --all-containers. The last two act on every entry, so they run
in a private /run/netns (the `private` fixture), never in the machine's."""
import json
import os
import subprocess

import pytest

from conftest import ip_netns, unique

from .support import cli, identity

pytestmark = pytest.mark.engine


def _rows(result):
    assert result.rc == 0, result
    return {row["name"]: row for row in json.loads(result.out)}


def test_details(engine, netns_name):
    c = engine.start("details")
    pid, cid = engine.pid(c), engine.id(c)
    bound, linked, by_ip = netns_name, netns_name.another(), netns_name.another()
    assert cli("attach", bound, f"{engine.name}:{c}").rc == 0
    assert cli("attach", "--symlink", linked, f"{engine.name}:{c}").rc == 0
    assert ip_netns("attach", by_ip, str(pid)).rc == 0
    ino = os.stat(f"/proc/{pid}/ns/net").st_ino
    owner = {"engine": engine.name, "name": c, "id": cid}
    rows = _rows(cli("-j", "list", "-d"))
    for name, kind, target in ((bound, "bind", None), (linked, "symlink", f"/proc/{pid}/ns/net"),
                               (by_ip, "bind", None)):
        row = rows[name]
        assert pid in row.pop("pids")
        nsid = row.pop("id", None)
        assert nsid is None or isinstance(nsid, int)
        assert row == {"name": name, "inode": ino, "kind": kind, "target": target,
                       "container": owner, "stale": None}
    text = {ln.split()[0]: ln for ln in cli("list", "-d").out.decode().splitlines()}
    assert text[bound].split()[1] == str(ino)
    assert "  bind  " in text[bound] and f"  {engine.name}:{c}  " in text[bound]
    assert f"  symlink->/proc/{pid}/ns/net  " in text[linked]
    assert text[bound].endswith("  ok")

    engine.remove(c)
    rows = _rows(cli("-j", "list", "-d"))
    assert rows[bound]["stale"] == "container gone" and rows[bound]["container"] == owner
    assert rows[bound]["pids"] == []
    assert linked not in rows  # dangling now: a broken entry, reported on stderr
    assert rows[by_ip]["container"] is None and rows[by_ip]["stale"] is None
    assert text[bound].split()[0] == bound
    assert cli("list", "-d").out.decode().count("stale: container gone") >= 1


def test_prune(docker, private):
    c = docker.start("prune")
    healthy, link, fresh, plain, young, dangling, to_file, directory = (
        unique(t) for t in ("healthy", "link", "fresh", "plain", "young", "dangling",
                            "tofile", "dir"))
    assert private("attach", healthy, f"docker:{c}").rc == 0
    assert private("attach", "--symlink", link, f"docker:{c}").rc == 0
    assert private("add", fresh).rc == 0
    for name in (plain, young):
        open(private.path(name), "w").close()
    os.utime(private.path(plain), (0, 0))
    os.symlink("/proc/999999/ns/net", private.path(dangling))  # above any pid_max
    os.symlink("/etc/hostname", private.path(to_file))
    os.mkdir(private.path(directory))
    broken = {plain: "a plain file", young: "a plain file",
              dangling: "a dangling symlink to /proc/999999/ns/net",
              to_file: "a symlink to /etc/hostname, a plain file"}

    only = "prune removes plain files and broken symlinks only"
    dry = json.loads(private("-j", "prune", "--dry-run").out)
    assert {r["name"]: r["problem"] for r in dry} == {**broken, directory: "a directory"}
    assert not any(r["removed"] for r in dry)
    assert sorted(r["name"] for r in dry if "reason" in r) == sorted([young, directory])
    r = private("prune", "--dry-run")
    assert r.rc == 0 and f"would remove {plain}: a plain file\n".encode() in r.out
    assert all(os.path.lexists(private.path(n)) for n in broken)

    r = private("prune")
    assert r.rc == 1  # the young file is kept: an add may be about to mount on it
    assert sorted(r.out.decode().splitlines()) == sorted(
        f"removed {n}: {p}" for n, p in broken.items() if n != young)
    assert sorted(r.err.decode().splitlines()) == sorted([
        f"kept {young}: a plain file (made just now: an add may be in progress)",
        f"kept {directory}: a directory ({only})"])
    left = set(os.listdir(private.path("")))
    assert left == {healthy, link, fresh, young, directory}
    assert private("-j", "prune", "--dry-run").out == \
        json.dumps([{"name": young, "problem": "a plain file", "removed": False,
                     "reason": "made just now: an add may be in progress"},
                    {"name": directory, "problem": "a directory", "removed": False,
                     "reason": only}],
                   separators=(",", ":")).encode() + b"\n"


def _process_with_pid(pid):
    """A new process (in a network namespace of its own) that gets PID ``pid``: set
    ns_last_pid just below it and fork, until no other fork on the machine comes first."""
    for _ in range(2000):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        p = subprocess.Popen(["unshare", "-n", "sleep", "120"])
        if p.pid == pid:
            return p
        p.kill()
        p.wait()
    pytest.fail(f"could not get PID {pid} back for the test")


def test_symlink_to_a_reused_pid(docker, private):
    c = docker.start("reuse")
    pid = docker.pid(c)
    link, bound = unique("link"), unique("bound")
    assert private("attach", "--symlink", link, f"docker:{c}").rc == 0
    assert private("attach", bound, f"docker:{c}").rc == 0
    docker.stop(c)
    stranger = _process_with_pid(pid)
    try:
        assert identity(private.path(link)) != identity(private.path(bound))
        problem = (f"a symlink to /proc/{pid}/ns/net, whose process now holds another "
                   "network namespace")
        # It resolves, and looks healthy to ip; its record says it went stale (issue 11).
        listed = private("list")
        assert link.encode() not in listed.out and problem.encode() in listed.err
        rows = _rows(private("-j", "list", "-d"))
        assert link not in rows
        assert rows[bound]["stale"] == "container exited"
        pins = f"its bind mount pins that namespace: `pynetns delete {bound}` frees it"
        assert json.loads(private("-j", "prune", "--dry-run").out) == [
            {"name": link, "problem": problem, "removed": False},
            {"name": bound, "problem": "container exited", "removed": False, "reason": pins}]
        r = private("prune")
        assert r.triple() == (0, f"removed {link}: {problem}\n".encode(),
                              f"kept {bound}: container exited ({pins})\n".encode())
        assert not os.path.lexists(private.path(link))
        assert os.path.exists(private.path(bound))
    finally:
        stranger.kill()
        stranger.wait()


def test_all_containers(docker, podman, private):
    d1, d2 = docker.start("all"), docker.start("all")
    host = docker.start("allhost", network="host")
    guest = docker.start("allguest", network=f"container:{d1}")
    p1 = podman.start("all")
    taken = podman.start("alltaken", network="none")
    assert private("add", taken).rc == 0
    ours = {d1, d2, host, guest, p1, taken}

    def run(*extra):
        r = private("-j", "attach", "--all-containers", *extra)
        assert r.rc == 1, r  # `taken` is another namespace's name
        return {o["name"]: (o["action"], o.get("reason")) for o in json.loads(r.out)
                if o["name"] in ours}

    assert run() == {
        d1: ("attached", None), d2: ("attached", None), p1: ("attached", None),
        host: ("skipped", "runs with --network host (--force names it)"),
        guest: ("skipped", f'shares the network namespace of docker container "{d1}"'),
        taken: ("failed", f"{taken} is taken by another namespace")}
    for engine, name in ((docker, d1), (docker, d2), (podman, p1)):
        assert identity(private.path(name)) == identity(f"/proc/{engine.pid(name)}/ns/net")
    again = run()
    assert {n: a for n, (a, _) in again.items()} == {
        d1: "unchanged", d2: "unchanged", p1: "unchanged", host: "skipped",
        guest: "skipped", taken: "failed"}
    docker("restart", "-t", "0", d2)
    assert run()[d2] == ("replaced", None)
    assert identity(private.path(d2)) == identity(f"/proc/{docker.pid(d2)}/ns/net")
    assert run("--force")[host] == ("attached", None)
    r = private("attach", "--all-containers")
    line = [ln for ln in r.out.decode().splitlines() if ln.split()[1] == d1]
    assert line and line[0].split() == ["unchanged", d1, "docker", docker.id(d1)[:12]]


def test_all_containers_without_engines(private):
    r = private("attach", "--all-containers",
                env={"PATH": "/nonexistent", "DOCKER_HOST": "unix:///nonexistent.sock"})
    assert r.rc == 1 and r.out == b"" and r.err.count(b"\n") == 1
    assert r.err.startswith(b"no container engine answers: docker: cannot connect")


def test_all_containers_as_symlinks(docker, private):
    names = [docker.start("alllink"), docker.start("alllink")]
    r = private("-j", "attach", "--all-containers", "--symlink")
    assert {o["name"]: o["action"] for o in json.loads(r.out) if o["name"] in names} == \
        dict.fromkeys(names, "attached")
    for name in names:
        assert os.readlink(private.path(name)) == f"/proc/{docker.pid(name)}/ns/net"
