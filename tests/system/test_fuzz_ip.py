"""A randomized differential test: hypothesis draws a pre-state of /run/netns and a few
command lines (verbs and their prefixes, global options in any order, -n values, -all,
-batch files with quoting, continuations, comments and -force, bogus numbers, environments),
runs them through `ip` and through pynetns, each in its own private mount and network
namespace (netns_diff.private), and compares rc, stdout, stderr, the /run/netns listing
and the mount table after every step.

Where README's "Differences from ip netns" documents that pynetns differs, documented()
says which fields not to compare, citing the difference. Anything else that differs is a
failure: fix it or document it.

Bounded in CI; PYNETNS_FUZZ_EXAMPLES=5000 runs it longer. With PYNETNS_FUZZ_REPORT=FILE
a difference is appended to FILE (with a count of scenarios and steps) instead of failing,
so that a long run surveys every difference rather than stopping at the first.
"""
import os
import re
import shlex

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import IP, PYNETNS
from netns_diff import Raw, private

EXAMPLES = int(os.environ.get("PYNETNS_FUZZ_EXAMPLES", "40"))
REPORT = os.environ.get("PYNETNS_FUZZ_REPORT")
LONG = "n" * 256

# Entry kinds of a pre-state, and how setup (with ip and coreutils) makes each.
GOOD = ("a", "b", "c")
BROKEN = {
    "plain": "touch /run/netns/plain",
    "dir": "mkdir /run/netns/dir",
    "dangle": "ln -s /nonexistent /run/netns/dangle",
    "uts": "touch /run/netns/uts && mount --bind /proc/self/ns/uts /run/netns/uts",
    "fifo": "mkfifo /run/netns/fifo",  # ip blocks opening it: the run times out
}
SLOW = ("fifo",)  # drawn rarely: every ip step that opens it waits for the timeout
NAMES = [*GOOD, "x", "y", *BROKEN, "", ".", "..", "a/b", "x/y", "../netns/a", "../netns/x",
         "./a", LONG, "sp ace", "-j", "--exist-ok"]
NUMBERS = ["0", "1", "5", "7", "-1", "abc", "0x10", "010", "2147483648", "4294967295",
           "4294967296", "-18446744073709551615", "18446744073709551616", "", " 3", "3 "]
PIDS = [Raw("$$"), "0", "abc", "999999", "-1", "1"]
COMMANDS = [["true"], ["false"], ["echo", "hi"], ["sh", "-c", "exit 3"], ["cat"],
            ["nosuchcmd"], ["printenv", "LC_CTYPE"], ["ip", "-o", "link", "show", "lo"]]
VERB_WORDS = {
    "list": ["list", "show", "lst", "l", "s", "sh", "ls", "li"],
    "list-id": ["list-id", "list-i", "list-"],
    "help": ["help", "h", "he"],
    "add": ["add", "a", "ad"],
    "set": ["set", "se"],
    "delete": ["delete", "d", "del"],
    "identify": ["identify", "i", "id"],
    "pids": ["pids", "p", "pid"],
    "exec": ["exec", "e", "ex"],
    "attach": ["attach", "at", "att"],
    "unknown": ["foo", "netns", "x", "-j", "monx"],
}


@st.composite
def verb_words(draw):
    """A verb (as some prefix) and arguments that make sense for it, or nonsense."""
    verb = draw(st.sampled_from(sorted(VERB_WORDS)))
    word = draw(st.sampled_from(VERB_WORDS[verb]))
    name = st.sampled_from(NAMES)
    if verb in ("add", "delete", "pids", "identify"):
        args = draw(st.lists(name if verb != "identify" else st.sampled_from(PIDS + NAMES),
                             max_size=2))
        if verb == "add" and draw(st.booleans()):
            args = ["--exist-ok", *args][:2]
    elif verb == "set":
        args = draw(st.lists(st.one_of(name, st.sampled_from(NUMBERS + ["auto"])),
                             max_size=3))
    elif verb == "attach":
        args = [draw(name), draw(st.sampled_from(PIDS))][:draw(st.integers(0, 2))]
    elif verb == "exec":
        args = [draw(name), *draw(st.sampled_from(COMMANDS))][:draw(st.integers(0, 3))]
    elif verb == "list-id":
        args = draw(st.lists(st.sampled_from(["target-nsid", "nsid", *NUMBERS]), max_size=4))
    else:
        args = draw(st.lists(name, max_size=2))
    return [word, *args]


GLOBAL_FLAGS = ["-j", "-p", "-json", "-pretty", "-4", "-6", "-0", "-s", "-r", "-o", "-t",
                "-ts", "-force", "-all", "-a", "-N", "-iec", "-br", "-echo", "-c",
                "-color=never", "-h", "-human", "--json", "--all", "-zzz", "-V", "-he",
                "-M", "-B"]
GLOBAL_VALUES = {"-n": NAMES, "-netns": ["a", "", "nope", "../netns/b", "plain"],
                 "-rcvbuf": NUMBERS, "-rc": NUMBERS, "-f": ["inet", "inet6", "bogus", "link"],
                 "-family": ["mpls", "help"], "-l": ["1", "x"], "-loops": ["3"]}


@st.composite
def global_options(draw):
    opts = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.integers(0, 2)) == 0:
            key = draw(st.sampled_from(sorted(GLOBAL_VALUES)))
            opts += [key, draw(st.sampled_from(GLOBAL_VALUES[key]))]
        else:
            opts.append(draw(st.sampled_from(GLOBAL_FLAGS)))
    return opts


@st.composite
def batch_text(draw):
    """A batch file: lines with or without the `netns` object, quoted words, comments,
    blank lines, continuations."""
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        shape = draw(st.integers(0, 9))
        if shape == 0:
            lines.append("")
        elif shape == 1:
            lines.append("# a comment")
        else:
            words = draw(verb_words())
            words = [w if isinstance(w, str) else "$$" for w in words]
            if draw(st.integers(0, 3)):
                words = ["netns", *words]
            quoted = []
            for w in words:
                q = draw(st.sampled_from(["", "", '"', "'"])) if " " not in w else '"'
                quoted.append(f"{q}{w}{q}" if w or q else '""')
            line = " ".join(quoted)
            if shape == 2:
                line += " # trailing comment"
            if shape == 3 and len(quoted) > 1:
                line = quoted[0] + " \\\n" + " ".join(quoted[1:])
            lines.append(line)
    text = "\n".join(lines)
    if lines and draw(st.booleans()):
        text += "\n"
    return text


@st.composite
def steps(draw):
    """One command line: (globals, words, batch text or None, stdin, env prefix)."""
    globals = draw(global_options())
    batch = None
    kind = draw(st.integers(0, 5))
    if kind == 0:
        batch = draw(batch_text())
        globals += [draw(st.sampled_from(["-batch", "-b"])),
                    draw(st.sampled_from(["-", Raw('"$T/batch"')]))]
        if draw(st.booleans()):
            globals.insert(0, "-force")
        words = []
    elif kind == 1:
        globals += ["-batch", Raw('"$T"')]  # a directory as the batch file
        words = []
    else:
        words = draw(verb_words())
    if draw(st.integers(0, 5)) == 0:
        globals.append("--")  # ends the options (after it, ip would read an object)
    stdin = draw(st.sampled_from([b"", b"from-stdin\n", b"netns list\n"]))
    env = draw(st.sampled_from([[], ["env", "LANG=C"], ["env", "-u", "LANG", "LC_ALL=C"]]))
    return globals, words, batch, stdin, env


@st.composite
def scenarios(draw):
    kinds = [*GOOD, *(b for b in BROKEN if b not in SLOW)]
    pre = draw(st.lists(st.sampled_from(kinds), unique=True, max_size=5))
    if draw(st.integers(0, 29)) == 0:
        pre.insert(draw(st.integers(0, len(pre))), draw(st.sampled_from(SLOW)))
    nsids = {n: draw(st.sampled_from([None, "3", "7", "auto"])) for n in pre if n in GOOD}
    return pre, nsids, draw(st.lists(steps(), min_size=1, max_size=3))


def setup_script(pre, nsids, batch):
    lines = []
    for n in pre:
        lines.append(BROKEN.get(n) or f"$IP netns add {n}")
        if nsids.get(n):
            lines.append(f"$IP netns set {n} {nsids[n]} 2>/dev/null || true")  # 3 twice
    if batch is not None:
        lines.append(f"printf %s {shlex.quote(batch)} >\"$T/batch\"")
    return "\n".join(lines) + "\n"


def argv_of(tool, step):
    globals, words, _, _, env = step
    # `timeout`: ip blocks on some inputs (a FIFO entry); a hung run shows as rc 137.
    head = [*env, "timeout", "-s", "KILL", "4"]
    if tool == "ip":
        return [*head, IP, *globals, "netns", *words]
    if words[:1] and words[0].startswith("-") and "--" not in globals:
        globals = [*globals, "--"]  # a verb word ip reads after `netns`, not an option
    return [*head, PYNETNS, *globals, *words]


def _words_of(step):
    globals, words, batch, _, _ = step
    text = " ".join(str(w) for w in [*globals, *words]) + " " + (batch or "")
    return text


def documented(pre, step):
    """The fields a documented difference (README "Differences from ip netns") leaves
    uncompared for this step: a subset of {"rc", "out", "err", "state"}."""
    skip = set()
    globals, words, batch, _, _ = step
    text = _words_of(step)
    tokens = set(text.replace('"', " ").replace("'", " ").split())
    broken = [n for n in pre if n in BROKEN]
    if "-zzz" in globals:
        skip.add("err")  # the hint names pynetns --help
    if "-he" in globals or "help" in globals:
        skip.add("err")  # a -help prefix prints the netns usage, not ip's whole usage
    if words and words[0] in VERB_WORDS["list"] and \
            {"-j", "--json", "-p", "--pretty", "-d", "--details"} & set(words[1:]):
        skip.add("out")  # list's own -j, -p, -d (ip ignores the words after list)
    if "--exist-ok" in words or "--exist-ok" in (batch or ""):
        return {"rc", "out", "err", "state"}  # pynetns's option, a name only after --
    if batch is not None and _omits_the_object(batch):
        return {"rc", "out", "err", "state"}  # a batch line may omit `netns`
    if broken:
        # Broken entries are not listed and are named on stderr; exec, pids, set refuse
        # them with a message saying what they are; delete removes a directory entry.
        skip |= {"err", "out"}
        if tokens & set(broken) or "-all" in tokens or "-a" in tokens or "--all" in tokens \
                or batch is not None or "dir" in pre:
            skip |= {"rc", "out", "state"}
        if any(w in tokens for w in ("identify", "i", "id")):
            skip.add("out")
    if any("/" in n and n in tokens for n in NAMES) and ({"-all", "-a", "--all"} & tokens):
        skip.add("err")  # -all add ../netns/x: the message shows the resolved path
    if ({"-all", "-a", "--all"} & tokens) and ({"set", "se"} & tokens):
        skip |= {"rc", "err"}  # -all set with an invalid name is refused
    if any(str(p) == "/proc/self/ns/net" for p in words):
        skip |= {"rc", "err", "state"}
    if batch is not None and ("exec" in tokens or "e" in tokens or "ex" in tokens):
        # ip's forked child of a failed exec carries on with the rest of the batch.
        skip |= {"out", "err", "state", "rc"}
    if batch is not None and ({"delete", "d", "del"} & tokens) and \
            ({"list-id", "list-i", "list-"} & tokens):
        skip.add("out")  # ip's stale nsid names within one batch
    return skip


def _omits_the_object(batch):
    for line in batch.replace("\\\n", " ").splitlines():
        words = line.split("#", 1)[0].replace('"', " ").replace("'", " ").split()
        if words and words[0] not in ("net", "netn", "netns"):
            return True
    return False


_TMP = re.compile(rb"/tmp/pynetns-diff-[^/]+/")


def _same_text(a, b):
    """Equal once each run's scratch directory ($T, named in batch messages) is named alike."""
    return _TMP.sub(b"$T/", a) == _TMP.sub(b"$T/", b)


def _label(step):
    argv = argv_of("pynetns", step)
    return " ".join(shlex.quote(str(w)) for w in argv[argv.index(PYNETNS):])


@settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
          suppress_health_check=list(HealthCheck), database=None)
@given(scenarios())
def test_pynetns_behaves_as_ip(scenario):
    pre, nsids, all_steps = scenario
    batch = next((s[2] for s in all_steps if s[2] is not None), "")
    setup = setup_script(pre, nsids, batch)
    # One stdin for the whole scenario (private() gives each step the same one).
    stdin = all_steps[0][3]
    ip_runs = private([argv_of("ip", s) for s in all_steps], setup, stdin,
                      after="timeout -s KILL 4 $IP netns list 2>/dev/null")
    py_runs = private([argv_of("pynetns", s) for s in all_steps], setup, stdin,
                      after="timeout -s KILL 4 $IP netns list 2>/dev/null")
    _count("scenarios")
    for step, ip, py in zip(all_steps, ip_runs, py_runs):
        _count("steps")
        if ip.rc == 137:
            return  # ip hung (a FIFO, a blocking read): nothing to compare from here on
        skip = documented(pre, step)
        where = f"pre-state {pre} nsids {nsids}, step: {_label(step)!r}, batch {step[2]!r}"
        if "rc" not in skip:
            _check(py.rc == ip.rc, f"{where}: rc ip {ip!r} vs pynetns {py!r}")
        if "out" not in skip:
            _check(_same_text(py.out, ip.out), f"{where}: stdout ip {ip!r} vs pynetns {py!r}")
        if "err" not in skip:
            _check(_same_text(py.err, ip.err), f"{where}: stderr ip {ip!r} vs pynetns {py!r}")
        _check(b"Traceback" not in py.err, f"{where}: {py!r}")
        # The listing after the step shows nsids; with a FIFO entry ip's never finishes.
        same_after = "fifo" in pre or py.extra == ip.extra
        if "state" in skip or not _check(
                py.state() == ip.state() and same_after,
                f"{where}: state ip {ip.state()} {ip.extra!r} vs {py.state()} {py.extra!r}"):
            return  # the states may differ from here on


_COUNTS = {"scenarios": 0, "steps": 0, "differences": 0}


def _count(key):
    _COUNTS[key] += 1
    if REPORT and key == "scenarios" and _COUNTS[key] % 100 == 0:
        _note(f"# {_COUNTS}")


def _note(line):
    with open(REPORT, "a") as f:
        f.write(line + "\n")


def _check(ok, message):
    """Fail with ``message`` unless ``ok`` (with a report: note it); returns ``ok``."""
    if not ok:
        if not REPORT:
            raise AssertionError(message)
        _COUNTS["differences"] += 1
        _note(message)
    return ok
