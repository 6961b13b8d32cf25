"""Differential runs: the same argv through `ip netns` and `pynetns`, each in its own private
mount and network namespace with a fresh /run/netns, and what each left behind.

Each run gets an identical setup script (written with ip, so both start from the same state),
then the command under test; the result carries rc/stdout/stderr plus the /run/netns entries
(readdir order) and a normalised view of the mounts under /run/netns. The private network
namespace keeps nsids deterministic: the ones a run assigns or lists are its own.
"""
import re
import shlex
import tempfile

from conftest import IP, PYNETNS, in_private_run_dir

# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
_NS_ROOT = re.compile(r"^(\w+):\[\d+\]$")


def mount_shape(mountinfo, under="/run/netns"):
    """The visible mount at ``under`` and every mount below it, as comparable tuples.

    Only the topmost mount at ``under`` counts (a private run's tmpfs hides the host's
    /run/netns, whose mounts still show in mountinfo). Mount ids, namespace inodes and peer
    group numbers differ from run to run: parents are named by their mount point,
    ``net:[4026532...]`` becomes ``net:[]`` and peer groups are numbered in order of first
    appearance.
    """
    rows = [line.split() for line in mountinfo.splitlines() if line]
    by_id = {r[0]: r for r in rows}
    points = {r[0]: r[4] for r in rows}
    children = {}
    for r in rows:
        children.setdefault(r[1], []).append(r)

    def covered(r):
        """Another mount on the same parent hides r: over the parent's root or above r."""
        parent = by_id.get(r[1])
        return any(o is not r and ((parent and o[4] == parent[4] != r[4])
                                   or r[4].startswith(o[4].rstrip("/") + "/"))
                   for o in children.get(r[1], []))

    def visible(r):
        while r is not None:
            if covered(r):
                return False
            r = by_id.get(r[1])
        return True

    tops = [r for r in rows if r[4] == under and visible(r)
            and not any(c[4] == under for c in children.get(r[0], []))]
    picked = set()
    todo = tops[-1:]
    while todo:
        r = todo.pop()
        picked.add(r[0])
        todo.extend(children.get(r[0], []))
    groups = {}
    shape = []
    for r in rows:
        if r[0] not in picked:
            continue
        sep = r.index("-")
        optional = []
        for field in r[6:sep]:
            kind, _, number = field.partition(":")
            optional.append(f"{kind}:{groups.setdefault(number, len(groups))}")
        root = _NS_ROOT.sub(r"\1:[]", r[3])
        shape.append((points.get(r[1], "?"), root, r[4], r[5], tuple(optional),
                      r[sep + 1], r[sep + 2]))
    return shape


class Raw(str):
    """An argv word left to the shell (e.g. Raw("$$")): expanded, not quoted."""


def _word(arg):
    return str(arg) if isinstance(arg, Raw) else shlex.quote(arg)


class Run:
    """rc/out/err of the command, entries and mount shape after it, raw mountinfo."""

    def __init__(self, rc, out, err, entries, mounts, mountinfo, extra):
        self.rc, self.out, self.err = rc, out, err
        self.entries = entries
        self.mounts = mounts
        self.mountinfo = mountinfo
        self.extra = extra

    def triple(self):
        return self.rc, self.out, self.err

    def state(self):
        return self.entries, self.mounts

    def __repr__(self):
        return (f"Run(rc={self.rc}, out={self.out!r}, err={self.err!r}, "
                f"entries={self.entries!r})")


def private(commands, setup="", stdin=b"", after="", teardown=""):
    """Run each argv of ``commands`` in turn, in one private mount namespace with a fresh
    tmpfs /run/netns; a Run for each.

    ``setup`` (bash, $IP and $PYNETNS set, $T a scratch directory) prepares the state;
    ``after`` runs after each command and its output is the Run's ``extra``; ``teardown``
    runs last (stop what setup started: processes outlive the mount namespace).
    """
    with tempfile.TemporaryDirectory(prefix="pynetns-diff-") as tmp:
        with open(f"{tmp}/in", "wb") as f:
            f.write(stdin)
        script = [f"T={shlex.quote(tmp)}", f"trap {shlex.quote(teardown or ':')} EXIT", setup]
        for i, argv in enumerate(commands):
            cmd = " ".join(_word(a) for a in argv)
            script.append(
                f'rc=0; {cmd} <"$T/in" >"$T/out{i}" 2>"$T/err{i}" || rc=$?\n'
                f'echo "$rc" >"$T/rc{i}"\n'
                f'if [ -d /run/netns ]; then ls -U -A /run/netns >"$T/entries{i}"; fi\n'
                f'cat /proc/self/mountinfo >"$T/mountinfo{i}"\n'
                f'{{ {after or ":"} ; }} >"$T/extra{i}" 2>&1 || true')
        proc = in_private_run_dir("\n".join(script) + "\n", net=True)
        assert proc.rc == 0, f"private run failed: {proc}"

        def read(name):
            try:
                with open(f"{tmp}/{name}", "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return b""

        runs = []
        for i in range(len(commands)):
            mountinfo = read(f"mountinfo{i}").decode("utf-8", "surrogateescape")
            entries = read(f"entries{i}").decode("utf-8", "surrogateescape").split("\n")[:-1]
            runs.append(Run(int(read(f"rc{i}")), read(f"out{i}"), read(f"err{i}"), entries,
                            mount_shape(mountinfo), mountinfo, read(f"extra{i}")))
        return runs


def argvs(args, globals=()):
    """The ip and the pynetns argv for the same words."""
    return [IP, *globals, "netns", *args], [PYNETNS, *globals, *args]


def both(args, setup="", globals=(), stdin=b"", after="", shared=False, teardown=""):
    """(ip run, pynetns run) of ``ip [globals] netns args`` / ``pynetns [globals] args``.

    Each tool gets its own private /run/netns with the same setup, unless ``shared``: then
    both run one after the other on the same one (for read-only verbs whose output depends
    on things a separate setup would not reproduce, such as PIDs).
    """
    ip_argv, py_argv = argvs(args, globals)
    if shared:
        return tuple(private([ip_argv, py_argv], setup, stdin, after, teardown))
    return (private([ip_argv], setup, stdin, after, teardown)[0],
            private([py_argv], setup, stdin, after, teardown)[0])


def assert_same(args, setup="", globals=(), stdin=b"", after="", shared=False, teardown="",
                state=True):
    """Both tools give identical rc, stdout, stderr (and entries/mounts); returns pynetns's."""
    ip, py = both(args, setup, globals, stdin, after, shared, teardown)
    assert py.triple() == ip.triple(), f"argv {args!r}: ip {ip!r} vs pynetns {py!r}"
    if state:
        assert py.state() == ip.state(), (
            f"argv {args!r}: state differs\nip: {ip.state()}\npynetns: {py.state()}")
    assert py.extra == ip.extra, f"argv {args!r}: ip {ip.extra!r} vs pynetns {py.extra!r}"
    return py
