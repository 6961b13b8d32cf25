"""Scripts written the way real clients of `ip netns` are (kernel net selftests, iproute2's
tests, pipework, CNI's priv-net-run.sh, bash-completion) run unchanged with pynetns as
`ip netns`: each runs twice, first with the real ip first on PATH, then with the `ip` shim
(./ip) that routes the netns object to pynetns; both runs must succeed with the same output
once their random names are normalised, and leave /run/netns and the mount table as found.

Scripts that list everything, use -all or name namespaces after PIDs run in a private mount
namespace with a fresh, shared tmpfs on /run/netns (conftest.in_private_run_dir), some also
in a network namespace of their own; the others use the machine's /run/netns with names of
their own under $NS_PREFIX. Each script declares the pynetns verbs it must reach through the
shim, so that a shim that stopped routing (and so passed trivially) fails.
"""
import os
import re
import shlex
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from conftest import IP, PREFIX, RUN_DIR, in_private_run_dir, run, unique
from pynetns.cli.grammar import match_global, match_verb, words_after_globals

pytestmark = [pytest.mark.root, pytest.mark.ip]

HERE = Path(__file__).resolve().parent
Ran = namedtuple("Ran", "rc out err")


class Client:
    def __init__(self, verbs, private=False, net=False, etc=False, needs=(), differs=None):
        self.verbs = set(verbs)  # pynetns verbs the shim run must reach ("batch" for -b)
        self.private = private  # a fresh tmpfs on /run/netns in a private mount namespace
        self.net = net  # and a network namespace of its own
        self.etc = etc  # and /etc under an overlay there, to write /etc/netns
        self.needs = needs  # commands and files without which the script cannot run
        self.differs = differs  # a known difference of pynetns's that breaks the script


CLIENTS = {
    "selftest_veth.sh": Client({"add", "list", "exec", "pids", "identify", "delete"},
                               needs=["ping"]),
    "iproute2_nsid.sh": Client({"add", "set", "list", "list-id", "delete", "batch"},
                               private=True, net=True),
    "selftest_all.sh": Client({"add", "exec", "list", "set", "list-id", "attach", "identify",
                               "pids", "delete"}, private=True, net=True),
    "pipework.sh": Client({"list", "identify", "pids", "exec"}, private=True, net=True,
                          needs=["ping"]),
    "cni_priv_net_run.sh": Client({"add", "exec", "pids", "delete"}, private=True, net=True,
                                  needs=["ping"] + [f"/usr/lib/cni/{p}" for p in
                                                    ("bridge", "host-local", "loopback")]),
    "netns_etc.sh": Client({"add", "exec", "delete"}, private=True, net=True, etc=True),
    "stale_sweep.sh": Client({"list", "exec", "delete"}, private=True, net=True, differs=(
        "pynetns list leaves broken entries (dangling symlinks, plain files) out of its "
        "stdout, which ip 6.1 lists: a sweeper that enumerates with `ip netns list` never "
        "sees, so never deletes, the stale entries")),
    "bash_completion.sh": Client({"add", "set", "list", "delete"}, private=True, net=True,
                                 needs=["/usr/share/bash-completion/completions/ip"]),
}


def _normalise(text, prefix):
    """The run's names (NS_PREFIX and what follows) as N1, N2… in order of appearance."""
    seen: dict[str, str] = {}
    return re.sub(re.escape(prefix) + r"[\w.-]*",
                  lambda m: seen.setdefault(m.group(), f"<N{len(seen) + 1}>"), text)


def _shared_state(prefix):
    """What of the machine's /run/netns a run may touch: its entries and mounts, and the
    mount of /run/netns itself."""
    with open("/proc/self/mountinfo") as f:
        mounts = sorted(line for line in f
                        if prefix in line.split()[4] or line.split()[4] == RUN_DIR)
    return sorted(n for n in os.listdir(RUN_DIR) if n.startswith(prefix)), mounts


@pytest.fixture(scope="module")
def run_dir_ready():
    """ip's first add makes /run/netns a shared mount point once and for all (on a fresh
    machine): done before the scripts, so that their before and after states compare."""
    name = unique("clients-")
    assert run([IP, "netns", "add", name]).rc == 0
    assert run([IP, "netns", "delete", name]).rc == 0


def _run_shared(script, env):
    """Run in the machine's /run/netns: the state is what has the run's prefix."""
    before = _shared_state(env["NS_PREFIX"])
    result = run(["bash", str(script)], env=env, timeout=60)
    return result, before, _shared_state(env["NS_PREFIX"])


def _run_private(script, env, client, tmp):
    """Run in a private /run/netns: the state is all of it and the mounts on it."""
    exports = "".join(f"export {k}={shlex.quote(env[k])}\n"
                      for k in ("PATH", "NS_PREFIX", "PYNETNS"))
    t = shlex.quote(str(tmp))
    # The overlay's upper layer on a tmpfs: /tmp may itself be an overlay, which cannot be.
    etc = "" if not client.etc else f"""
mkdir {t}/etc && mount -t tmpfs tmpfs {t}/etc && mkdir {t}/etc/upper {t}/etc/work
mount -t overlay overlay -o lowerdir=/etc,upperdir={t}/etc/upper,workdir={t}/etc/work /etc
"""
    wrapper = f"""
mount --make-shared {RUN_DIR}  # as ip's first add would: the scripts' runs then compare
{etc}{exports}
state() {{ ls -A {RUN_DIR} >{t}/$1.ls; cat /proc/self/mountinfo >{t}/$1.mounts; }}
state before
set +e
bash {shlex.quote(str(script))} >{t}/out 2>{t}/err
echo $? >{t}/rc
state after
"""
    outer = in_private_run_dir(wrapper, timeout=60, net=client.net)
    assert outer.rc == 0, outer
    result = Ran(int((tmp / "rc").read_text()), (tmp / "out").read_bytes(),
                 (tmp / "err").read_bytes())
    before, after = (((tmp / f"{when}.ls").read_text(),
                      (tmp / f"{when}.mounts").read_text().splitlines())
                     for when in ("before", "after"))
    # Mounts of the host's can vanish from the copy meanwhile (the host unlinking a mount
    # point detaches it in every namespace): the rest of the table is checked for additions.
    # podman (which attach asks for a PID that is missing: its did-you-mean hint) makes its
    # storage a mount point of whatever mount namespace it runs in.
    added = {m for m in set(after[1]) - set(before[1]) if " /var/lib/containers/" not in m}
    assert not added, f"the script left mounts: {added}"
    return result, (before[0], _below_run_dir(before[1])), (after[0], _below_run_dir(after[1]))


def _below_run_dir(lines):
    """The private tmpfs's mount line (the last on /run/netns) and every mount below it."""
    ours = [ln for ln in lines if ln.split()[4] == RUN_DIR][-1:]
    ids = {ln.split()[0] for ln in ours}
    while below := [ln for ln in lines if ln.split()[1] in ids and ln.split()[0] not in ids]:
        ids |= {ln.split()[0] for ln in below}
        ours += below
    return ours


def _verbs(calls):
    """The verbs of pynetns command lines ("batch" for -batch)."""
    verbs = set()
    for argv in calls:
        words = words_after_globals(argv)
        options = (match_global(w) for w in argv[:len(argv) - len(words)])
        if any(o is not None and o.key == "batch" for o in options):
            verbs.add("batch")
        elif words:
            verb = match_verb(words[0])
            verbs.add(verb.name if verb else words[0])
        else:
            verbs.add("list")
    return verbs


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=CLIENTS[name].differs))
    if CLIENTS[name].differs else name for name in sorted(CLIENTS)])
def test_client_runs_the_same_on_pynetns(name, tmp_path, logged_pynetns, run_dir_ready):
    client = CLIENTS[name]
    missing = [p for p in client.needs
               if not (os.path.exists(p) if "/" in p else shutil.which(p))]
    if missing:  # scripts/test installs them all: in CI a missing one is a failure
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(
            f"needs {', '.join(missing)} (./scripts/test installs it)")
    script = HERE / name
    outputs = []
    for tag, first in (("ip", os.path.dirname(IP)), ("pn", str(HERE))):
        prefix = f"{PREFIX}{tag}-{script.stem}-"
        env = dict(os.environ, PATH=f"{first}:{os.environ['PATH']}", NS_PREFIX=prefix,
                   PYNETNS=str(logged_pynetns.path))
        if client.private:
            work = tmp_path / tag
            work.mkdir()
            result, before, after = _run_private(script, env, client, work)
        else:
            result, before, after = _run_shared(script, env)
        out = _normalise(result.out.decode(), prefix)
        err = _normalise(result.err.decode(), prefix)
        assert result.rc == 0, f"{tag} run failed (rc {result.rc}):\n{out}\n{err}"
        assert after == before, f"{tag} run changed /run/netns or the mounts"
        outputs.append((out, err))
        if tag == "ip":
            assert logged_pynetns.calls() == [], "the real ip run reached pynetns"
    assert outputs[1] == outputs[0]
    reached = _verbs(logged_pynetns.calls())
    assert client.verbs <= reached, f"the shim never ran pynetns {client.verbs - reached}"
