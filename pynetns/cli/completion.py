"""What a shell should offer at the cursor: the one brain behind completions/*.

The scripts run `pynetns __complete INDEX WORD...` on every TAB, with the words after
`pynetns` and the index of the word under the cursor. The answer's first line says what to
do, the rest are candidates (`VALUE<TAB>DESCRIPTION`; the shell filters by the prefix):

    words         offer the candidates that follow
    files         complete file names
    command N     complete WORD[N:] as a command line of its own (exec's command)

It reads grammar.py, so new verbs and options need no change to the scripts, and imports
nothing else heavy: a TAB press must answer in a few tens of milliseconds.
"""
import os

from . import grammar
from .output import out

# The completion script of each shell, as packaged (completions/ in the source tree).
SCRIPTS = {"bash": "pynetns.bash", "zsh": "_pynetns", "fish": "pynetns.fish"}
SHELLS = tuple(SCRIPTS)


class Answer:
    """``kind`` is words, files or command; ``offset`` is where exec's command starts."""

    def __init__(self, kind="words", candidates=(), offset=0):
        self.kind = kind
        self.candidates = list(candidates)
        self.offset = offset

    def lines(self):
        head = f"command {self.offset}" if self.kind == "command" else self.kind
        return [head] + [f"{value}\t{help}" if help else value
                         for value, help in self.candidates]


def _words(values):
    return Answer("words", [(v, "") for v in values])


def _listable(name):
    # The answer is line-based; a name with a tab or newline cannot be carried (or typed).
    return "\n" not in name and "\t" not in name


def names():
    """Network namespaces under /run/netns that really are ones, not broken entries."""
    from .. import store
    from ..errors import NetnsError
    try:
        entries = store.entries(with_nsid=False)
    except (NetnsError, OSError):
        return []  # /run/netns unreadable, or not a directory: nothing to offer
    return sorted(e.name for e in entries if e.ok and _listable(e.name))


KTHREADD = 2


def pids(prefix=""):
    """(PID, command name) of the user processes whose PID starts with ``prefix``.

    Kernel threads (kthreadd and its children) all sit in the initial namespace: naming
    one is never what the user is after. Reading /proc/PID/stat is most of the cost on a
    busy host, so only the PIDs the typed prefix still allows are read.
    """
    from .._proc import proc_pids
    found = []
    for entry in proc_pids():
        if not entry.startswith(prefix):
            continue
        try:
            fd = os.open(f"/proc/{entry}/stat", os.O_RDONLY | os.O_CLOEXEC)
            try:
                stat = os.read(fd, 1024)
            finally:
                os.close(fd)
        except OSError:
            continue  # gone since listdir
        # "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
        end = stat.rfind(b")")
        comm = stat[stat.find(b"(") + 1:end].decode("utf-8", "replace")
        ppid = int(stat[end + 2:].split()[1])
        pid = int(entry)
        if pid != KTHREADD and ppid != KTHREADD:
            found.append((pid, comm))
    return [(str(pid), comm) for pid, comm in sorted(found)]


def containers(engine):
    """(name, short ID) of the running containers of engine ``engine``, asked through the
    client attach uses (containers.py) within containers.QUICK; [] when it cannot answer."""
    from .. import containers as engines
    from ..errors import ContainerError
    try:
        found = engines.engine(engine, engines.QUICK).listed()
    except ContainerError:
        return []
    return sorted((name, cid[:12]) for name, cid in found if _listable(name))


def _engine_prefix(word):
    """The engine of a word 'ENGINE:...', else None (containers is imported only then)."""
    if ":" not in word:
        return None
    from .. import containers as engines
    return engines.split_spec(word)[0]


def _prefixes():
    """What a container or pod target may start with, as attach offers them."""
    from .. import containers as engines
    return [(f"{e}:", f"a {e} container") for e in engines.ENGINES] + \
        [("pod:", "a Kubernetes pod")]


def _container_answer(engine):
    return Answer("words", [(f"{engine}:{name}", f"{engine} container {cid}".rstrip())
                            for name, cid in containers(engine)])


def pods():
    """(pod:NAMESPACE/NAME, sandbox ID) of the node's ready Kubernetes pods, asked within
    containers.QUICK; [] when no runtime answers."""
    from ..errors import ContainerError
    try:
        from .. import containers as engines
        from .. import cri
        runtime = cri.Runtime(seconds=engines.QUICK)
        try:
            found = runtime.listed({})
        finally:
            runtime.close()
    except ContainerError:
        return []
    return sorted((f"pod:{ns}/{name}", f"pod {sid[:12]}") for ns, name, sid in found
                  if _listable(ns + name))


def _name_or_container(cur, pid):
    """exec's target: a name, docker:C, podman:C or pod:NAMESPACE/NAME. The prefixes are
    offered as attach offers them with --pid, else once a word is typed (a bare TAB lists
    the names)."""
    if cur.startswith("pod:"):
        return Answer("words", pods())
    engine = _engine_prefix(cur)
    if engine:
        return _container_answer(engine)
    return Answer("words", [(n, "") for n in names()] + (_prefixes() if pid or cur else []))


def _process(cur):
    """attach's source: a PID, docker:/podman: CONTAINER, or a namespace file."""
    engine = _engine_prefix(cur)
    if engine:
        return _container_answer(engine)
    if cur.startswith("pod:"):
        return Answer("words", pods())
    if cur.startswith(("/", ".")):
        return Answer("files")
    return Answer("words", pids(cur) + _prefixes())


def _deletable():
    """delete's NAME: the namespaces, and the broken entries list says delete removes."""
    from .. import store
    from ..errors import NetnsError
    from .commands import suggests_delete
    try:
        entries = store.entries(with_nsid=False)
    except (NetnsError, OSError):
        return Answer()
    return Answer("words", sorted(
        (e.name, "" if e.ok else f"broken: {e.problem}") for e in entries
        if _listable(e.name) and (e.ok or (not e.unknown and suggests_delete(e)))))


# What an option's value is, by its metavar in grammar.py.
_VALUES = {"NAME": lambda cur: _words(names()), "PID": lambda cur: Answer("words", pids(cur)),
           "FILE": lambda cur: Answer("files")}


def _option_value(option, cur):
    value = _VALUES.get(option.arg)
    return value(cur) if value else Answer()


def _arguments(verb, position, cur, seen):
    """The verb's POSITIONth argument (after its options); ``seen``: option keys given."""
    name = verb.name
    if name == "exec":
        if "all" in seen:
            return Answer("command", offset=0)
        if position > 0:
            return Answer("command", offset=1)
        return _name_or_container(cur, "pid" in seen)
    if name == "delete" and position == 0 and "all" not in seen:
        return _deletable()
    if name in ("pids", "exists") and position == 0 and "all" not in seen:
        return _words(names())
    if name == "set":
        return _words(names() if position == 0 else ["auto"] if position == 1 else [])
    if name == "identify" and position == 0:
        return Answer("words", pids(cur))
    if name == "attach" and position == 1:
        return _process(cur)
    if name == "list-id" and position % 2 == 0:
        return _words(["target-nsid", "nsid"])
    if name == "which" and position == 0:  # the interfaces here; addresses are typed
        import socket
        return _words(sorted(n for _, n in socket.if_nameindex() if _listable(n)))
    if name == "completion" and position == 0:
        return _words(SHELLS)
    return Answer()


def _shown(option):
    return not option.help.startswith("ignored")


def _brief(text, width=60):
    """A help text cut to fit a completion menu: its first sentence, in ``width`` columns."""
    text = text.split(". ", 1)[0]
    return text if len(text) <= width else \
        text[:width - 3].rsplit(" ", 1)[0].rstrip(",;:") + "..."


def complete(words, index):
    """The Answer for the word at ``index`` of ``words`` (the command line after pynetns)."""
    words = list(words[:index + 1]) + [""] * (index + 1 - len(words))
    cur = words[index]
    found, i, _ = grammar.scan_options(words[:index], grammar.match_global, help_words=())
    if found and found[-1][1] is None:  # the cursor is on a global option's value
        return _option_value(found[-1][0], cur)
    seen = {o.key for o, _, _ in found}
    if i == index:
        if cur.startswith("-"):
            dash = "-" if cur.startswith("--") else ""  # ip takes --json for -json
            return Answer("words", [(dash + n, _brief(o.help)) for o in grammar.GLOBALS
                                    if _shown(o) and o.key not in seen for n in o.names])
        return Answer("words", [(v.name, _brief(v.help)) for v in grammar.VERBS])

    verb = grammar.match_verb(words[i])
    if verb is None:
        return Answer()
    known = grammar.verb_option_table(verb)
    found, j, _ = grammar.scan_options(words[i + 1:index], known.get, help_words=(),
                                       dashdash=bool(known))
    if found and found[-1][1] is None:
        return _option_value(found[-1][0], cur)
    seen.update(o.key for o, _, _ in found)
    j += i + 1
    if j == index and cur.startswith("-") and known:
        return Answer("words", [(n, _brief(o.help)) for o in verb.options
                                if o.key not in seen for n in o.names])
    answer = _arguments(verb, index - j, cur, seen)
    answer.offset += j
    return answer


def main(argv):
    """`pynetns __complete INDEX WORD...`; never fails loudly, a TAB press is no place for it."""
    try:
        index = int(argv[0])
    except (IndexError, ValueError):
        index = -1
    answer = complete(argv[1:], index) if index >= 0 else Answer()
    out("".join(line + "\n" for line in answer.lines()))
    return 0


def script(shell):
    """The completion script for ``shell``."""
    from importlib import resources
    try:  # installed (also editable): the package pyproject.toml maps completions/ to
        scripts = resources.files("pynetns.completions")
    except ModuleNotFoundError:  # a checkout on sys.path: completions/ beside pynetns/
        scripts = resources.files("pynetns").joinpath("..", "completions")
    return scripts.joinpath(SCRIPTS[shell]).read_text()
