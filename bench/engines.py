"""The container verbs of bench/run.py, each raced against the shell recipe it replaces, for
Docker and for Podman when that engine is up with the test image (scripts/engines.sh up).

One container per engine (`--network none`: no firewall rule, no bridge), made and removed
in the mount namespace run.py was started in (podman mounts a container's root in the
namespace it runs in, and run.py's private one dies with it): run.py passes a descriptor of
it in $PYNETNS_BENCH_HOST_MNT. The entries are made in run.py's private /run/netns (and
records in its /run/pynetns) and deleted, untimed, after each run.
"""
import os
import shutil
import subprocess

import run

HOST_MNT = "PYNETNS_BENCH_HOST_MNT"
IMAGE = os.environ.get("PYNETNS_TEST_IMAGE", "pynetns-busybox:latest")
ENTRY = "pynetns-bench-attach"
RECIPE = ("pid=$(%s inspect -f '{{.State.Pid}}' \"$0\"); mkdir -p /run/netns; "
          "touch /run/netns/%s; mount --bind /proc/$pid/ns/net /run/netns/%s")
NSENTER = "nsenter -t \"$(%s inspect -f '{{.State.Pid}}' \"$0\")\" -n -p true"
MANY = "pynetns-bench-many"
# attach --all-containers's recipe: a loop over the containers, named after them.
LOOP = ("for c in $(%s ps -q --filter label=%s); do "
        "set -- $(%s inspect -f '{{.State.Pid}} {{.Name}}' \"$c\"); n=${2#/}; "
        "touch /run/netns/$n; mount --bind /proc/$1/ns/net /run/netns/$n; done")


def _cli(engine):
    exe = shutil.which(engine, path=run.ENV["PATH"])
    if exe is None:
        return None
    image = IMAGE if engine == "docker" else f"localhost/{IMAGE}"
    probe = [exe, "image", "inspect", image]
    if subprocess.run(probe, capture_output=True, env=run.ENV).returncode:
        return None
    return exe, image


def _deleting(t, entrant):
    """The entrant, then (untimed) `pynetns delete` of the entry it made."""
    def go():
        result = entrant()
        subprocess.run([t.pynetns, "delete", ENTRY], env=run.ENV, check=True)
        return result
    return go


def _all_deleted(t, entrant):
    """The entrant, then (untimed) `pynetns -all delete` of the entries it made (run.py's
    /run/netns is a private one)."""
    def go():
        result = entrant()
        subprocess.run([t.pynetns, "-all", "delete"], env=run.ENV, check=True)
        return result
    return go


def many_rows(t, args, host, fd):
    """attach --all-containers with args.engine_many Docker containers vs the loop."""
    exe = host[-1]
    names = [f"{MANY}-{os.getpid()}-{i}" for i in range(args.engine_many)]
    try:
        for name in names:
            subprocess.run([*host, "run", "-d", "--rm", "--network", "none", "--name", name,
                            "--label", MANY, IMAGE, "sleep", "3600"], check=True,
                           env=run.ENV, stdout=subprocess.DEVNULL, pass_fds=(fd,))
        sh = shutil.which("sh", path=run.ENV["PATH"])
        # Docker's containers only, as the loop: no podman on PATH (whose containers, made
        # elsewhere, this private /run/netns would not show).
        docker_only = dict(run.ENV, PATH="/nonexistent")
        attach_all = [t.pynetns, "attach", "--all-containers"]
        s = run.race(args.engine_runs, [
            _all_deleted(t, lambda: [("py", run.timed(attach_all, env=docker_only))]),
            _all_deleted(t, run.command("recipe", [sh, "-c", LOOP % (exe, MANY, exe)]))])
        yield dict(case=f"attach --all-containers, {len(names)} Docker containers, vs a "
                        "loop of the recipe", py=s["py"], ip=s["recipe"], target="≤ 1.0× loop",
                   limit=1.0, against=s["recipe"])
    finally:
        subprocess.run([*host, "rm", "-f", *names], env=run.ENV, capture_output=True,
                       pass_fds=(fd,))


def rows(t, args):
    """The rows of every engine that is up, a note for one that is not."""
    sh = shutil.which("sh", path=run.ENV["PATH"])
    for engine in ("docker", "podman"):
        found = _cli(engine)
        if found is None:
            yield dict(case=f"{engine}: not up with {IMAGE} (scripts/engines.sh up), no rows",
                       py=None)
            continue
        exe, image = found
        name = f"pynetns-bench-{os.getpid()}"
        fd = int(os.environ[HOST_MNT])
        host = [shutil.which("nsenter", path=run.ENV["PATH"]), f"--mount=/proc/self/fd/{fd}",
                exe]
        subprocess.run([*host, "run", "-d", "--rm", "--network", "none", "--name", name,
                        "--label", "pynetns-bench", image, "sleep", "3600"], check=True,
                       env=run.ENV, stdout=subprocess.DEVNULL, pass_fds=(fd,))
        try:
            passing = run.command("pass", [t.python, "-c", "pass"])
            recipe = [sh, "-c", RECIPE % (exe, ENTRY, ENTRY), name]
            s = run.race(args.engine_runs, [
                _deleting(t, run.command("py", [t.pynetns, "attach", ENTRY,
                                                f"{engine}:{name}"])),
                _deleting(t, run.command("recipe", recipe)), passing])
            yield dict(case=f"attach NAME {engine}:C vs `pid=$({engine} inspect -f "
                            "...); touch; mount --bind`", py=s["py"], ip=s["recipe"],
                       base=s["pass"], target="≤ 1.0× recipe", limit=1.0, against=s["recipe"])
            nsenter = [sh, "-c", NSENTER % exe, name]
            s = run.race(args.engine_runs, [
                run.command("py", [t.pynetns, "exec", "--pid", f"{engine}:{name}", "true"]),
                run.command("recipe", nsenter), passing])
            yield dict(case=f"exec --pid {engine}:C true vs `nsenter -t $({engine} inspect "
                            "...) -n -p true`", py=s["py"], ip=s["recipe"], base=s["pass"],
                       target="≤ 1.0× recipe", limit=1.0, against=s["recipe"])
        finally:
            subprocess.run([*host, "rm", "-f", name], env=run.ENV, capture_output=True,
                           pass_fds=(fd,))
        if engine == "docker":
            yield from many_rows(t, args, host, fd)
