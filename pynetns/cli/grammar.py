"""The one definition of pynetns's command line: global options, verbs, verb options.

iproute2 semantics: a global option or a verb is given by any prefix of its name, tried in
ip's order (so `-b` is -batch and `a` is add but `at` attach). The fast path (__main__), click
(cli) and completion all read these tables; none has a grammar of its own.
"""
from ..errors import UsageError


def matches(word, full):
    """iproute2's matches(): a non-empty prefix of ``full``."""
    return bool(word) and full.startswith(word)


class Option:
    """A global or verb option. ``names`` are the spellings; ``arg`` names its value, if any."""

    __slots__ = ("key", "names", "arg", "help", "prefix")

    def __init__(self, key, names, help, arg=None, prefix=True):
        self.key = key
        self.names = names
        self.arg = arg
        self.help = help
        # Any prefix selects it (ip's matches()); else only the full name: -4, -echo and
        # the others ip strcmp()s, and pynetns's own options.
        self.prefix = prefix


# ip's global options in ip.c's matching order. Those that mean nothing for netns are
# accepted and ignored so that `ip -4 netns list` scripts keep working.
GLOBALS = [
    Option("loops", ["-loops"], "ignored (ip compatibility)", arg="COUNT"),
    Option("family", ["-family"], "ignored (ip compatibility)", arg="FAMILY"),
    Option("inet4", ["-4"], "ignored (ip compatibility)", prefix=False),
    Option("inet6", ["-6"], "ignored (ip compatibility)", prefix=False),
    Option("packet", ["-0"], "ignored (ip compatibility)", prefix=False),
    Option("mpls", ["-M"], "ignored (ip compatibility)", prefix=False),
    Option("bridge", ["-B"], "ignored (ip compatibility)", prefix=False),
    Option("human", ["-human", "-human-readable"], "ignored (ip compatibility)"),
    Option("iec", ["-iec"], "ignored (ip compatibility)"),
    Option("stats", ["-stats", "-statistics"], "ignored (ip compatibility)"),
    Option("details", ["-details"],
           "list: show inode, nsid, kind, PIDs and owning container of each entry"),
    Option("resolve", ["-resolve"], "ignored (ip compatibility)"),
    Option("oneline", ["-oneline"], "ignored (ip compatibility)"),
    Option("timestamp", ["-timestamp"], "ignored (ip compatibility)"),
    Option("tshort", ["-tshort"], "ignored (ip compatibility)"),
    Option("version", ["-Version"], "print ip's version line (the iproute2 release pynetns "
           "follows) and exit"),
    Option("force", ["-force"], "with -batch: go on past failing lines"),
    Option("batch", ["-batch"], "read commands from FILE ('-' for stdin)", arg="FILE"),
    Option("brief", ["-brief"], "ignored (ip compatibility)"),
    Option("json", ["-json"], "JSON output"),
    Option("pretty", ["-pretty"], "pretty-print JSON output"),
    Option("rcvbuf", ["-rcvbuf"], "ignored (ip compatibility)", arg="SIZE"),
    Option("color", ["-color"], "ignored (pynetns never colours)"),
    Option("help", ["-help"], "show this help and exit"),
    Option("netns", ["-netns"], "run the command inside network namespace NAME", arg="NAME"),
    Option("numeric", ["-Numeric"], "ignored (ip compatibility)"),
    Option("all", ["-all"], "exec/delete: every namespace"),
    Option("echo", ["-echo"], "ignored (ip compatibility)", prefix=False),
    Option("pynetns_version", ["--version"], "print pynetns's version and exit",
           prefix=False),
]

# ip acts on these where they stand: -Version exits at once (what follows is never read),
# -help prints the usage, -netns switches namespace before the next option is looked at.
_FINAL = ("version", "pynetns_version")

# `ip netns help`, and what a -help spelled other than -help/--help prints (those give
# click's help): ip's netns usage, on stderr, exit 255.
IP_USAGE = (
    "Usage:\tip netns list\n"
    "\tip netns add NAME\n"
    "\tip netns attach NAME PID\n"
    "\tip netns set NAME NETNSID\n"
    "\tip [-all] netns delete [NAME]\n"
    "\tip netns identify [PID]\n"
    "\tip netns pids NAME\n"
    "\tip [-all] netns exec [NAME] cmd ...\n"
    "\tip netns monitor\n"
    "\tip netns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]\n"
    "NETNSID := auto | POSITIVE-INT")


class Verb:
    """A verb: ``usage`` is the argument synopsis, ``options`` its pynetns-only options."""

    __slots__ = ("name", "usage", "help", "options", "ip")

    def __init__(self, name, usage, help, options=(), ip=True):
        self.name = name
        self.usage = usage
        self.help = help
        self.options = list(options)
        self.ip = ip  # an iproute2 verb (prefix-matched) rather than a pynetns extension


DETAILS = Option("details", ["-d", "--details"],
                 "show inode, nsid, kind, PIDs and owning container of each entry",
                 prefix=False)

# -json and -pretty where people type them, after the verb (ip ignores the words after
# `list`, so no ip script depends on their meaning nothing there).
JSON = Option("json", ["-j", "--json"], "JSON output", prefix=False)
PRETTY = Option("pretty", ["-p", "--pretty"], "pretty-print JSON output", prefix=False)

VERBS = [
    Verb("list", "", "list named network namespaces (broken entries on stderr)",
         [DETAILS, JSON, PRETTY]),
    Verb("list-id", "[target-nsid POSITIVE-INT] [nsid POSITIVE-INT]",
         "list network namespace ids (nsid) of this namespace"),
    Verb("help", "", "print the ip netns usage (exit 255, as ip)"),
    Verb("add", "NAME", "create a new network namespace named NAME", [
        Option("exist_ok", ["--exist-ok"], "succeed if NAME already is a network namespace",
               prefix=False)]),
    Verb("set", "NAME NETNSID", "assign an nsid to NAME (NETNSID := auto | POSITIVE-INT)"),
    Verb("delete", "[NAME]", "remove NAME (with -all: every entry), broken ones too. Exit "
         "1 if NAME does not exist (ip's message) or cannot be removed; 3 if it is busy "
         "(still mounted on elsewhere in this mount namespace): NAME is then left as it was "
         "and the mounts and processes holding it are named"),
    Verb("identify", "[PID]", "print the name of PID's network namespace (default: self)"),
    Verb("pids", "NAME", "print the PIDs of processes in NAME"),
    Verb("exec", "[NAME|docker:C|podman:C] CMD...", "run CMD in NAME (with -all: in every "
         "namespace), or in the network namespace of container C or pod:NS/NAME (pinned and "
         "proved to be its as attach does; an entry of that name wins, as in ip); "
         "podman:USER@C is USER's rootless Podman container (USER itself says podman:C and "
         "joins its user namespace first, as nsenter -U does)", [
        Option("pid", ["--pid"],
               "also enter the PID namespace of NAME's processes, or of docker:C or "
               "podman:C, with a /proc of its own: ps and top show the container's "
               "processes; the host's /proc is not touched. CMD stays a host tool with "
               "root's capabilities that the target's processes can see: a target with a "
               "process holding CAP_SYS_PTRACE in the host's user namespace (a privileged "
               "container) could read host files through it, and is refused, as are the "
               "host's own namespaces", prefix=False),
        Option("force_host", ["--force"],
               "with --pid: enter such a target anyway; also a hostNetwork pod: or a "
               "--network host container",
               prefix=False)]),
    Verb("monitor", "", "print 'add NAME' / 'delete NAME' as entries appear and go"),
    Verb("attach", "NAME PID|PATH|[docker:|podman:]CONTAINER|pod:[NAMESPACE/]NAME",
         "name the network namespace of process PID, of a namespace file PATH (with a '/'), "
         "or of a Docker or Podman container (or Podman pod) by name or ID (a bare name is "
         "looked up in both engines; one no engine knows is an invalid PID, as in ip; "
         "podman:USER@C is USER's rootless Podman container; root only). NAME is a bind "
         "mount: it pins the namespace, which outlives the container. With --symlink it is "
         "a symlink to /proc/PID/ns/net instead: it pins nothing, dies with the process, "
         "and prune removes it once that PID is gone or reused", [
             Option("symlink", ["--symlink"],
                    "make NAME a symlink to /proc/PID/ns/net rather than a bind mount",
                    prefix=False),
             Option("force_host", ["--force"],
                    "name a --network host container's namespace (the host's own)",
                    prefix=False),
             Option("all_containers", ["--all-containers"],
                    "no NAME: name every running container's namespace after the container "
                    "(again: only what changed); a name that Docker and Podman both have "
                    "becomes docker:NAME and podman:NAME, a Podman pod is named after the pod",
                    prefix=False),
             Option("all_pods", ["--all-pods"],
                    "no NAME: name every ready Kubernetes pod's namespace NAMESPACE_NAME "
                    "(through the node's CRI runtime; again: only what changed)",
                    prefix=False)]),
    Verb("prune", "", "remove broken entries only: plain files, dangling symlinks and "
         "symlinks whose PID now holds another namespace (made by attach --symlink)", [
             Option("dry_run", ["--dry-run"], "only say what would be removed",
                    prefix=False), JSON, PRETTY], ip=False),
    Verb("completion", "SHELL", "print the completion script for SHELL: bash, zsh or fish",
         ip=False),
    Verb("exists", "NAME", "exit 0 if NAME is a network namespace, 1 if there is no such "
         "entry, 2 if the entry is broken (said on stderr), 255 on bad usage; prints nothing "
         "else. Waits for an add or delete of NAME in progress", ip=False),
    Verb("inventory", "", "list every network namespace on the host (from /run/netns, nsfs "
         "mounts and /proc) with its processes, owner and interfaces", [JSON, Option(
             "columns", ["-o", "--output"], "the columns to show, as lsns -o (+LIST: added "
             "to the default ones)", arg="LIST", prefix=False)], ip=False),
    Verb("which", "NAME|INDEX|ADDRESS|[tcp|udp]:PORT", "print the network namespaces and "
         "owners that have this interface (both ends of a veth), address or listening "
         "port", [JSON], ip=False),
]

# ip accepts `show` and `lst` as list; they are matched right after `list`.
_LIST_ALIASES = ("show", "lst")

VERB_BY_NAME = {v.name: v for v in VERBS}


_VERB_OF_WORD: dict[str, Verb] = {}  # a -batch file asks for the same few words again and again


def match_verb(word):
    """The verb a word selects, in ip's order, or None."""
    verb = _VERB_OF_WORD.get(word)
    if verb is None:
        verb = _match_verb(word)
        if verb is not None:  # only verbs: a finite set of prefixes
            _VERB_OF_WORD[word] = verb
    return verb


def _match_verb(word):
    for v in VERBS:
        if v.ip and (matches(word, v.name) or
                     (v.name == "list" and any(matches(word, a) for a in _LIST_ALIASES))):
            return v
        if not v.ip and word == v.name:
            return v
    return None


def match_global(word):
    """The global Option for an argv word (after ip's '--x' → '-x'), or None."""
    if word == "--version":  # pynetns's own, before ip's '--x' → '-x' makes it unknown
        return GLOBALS[-1]
    opt = word[1:] if word.startswith("--") else word
    for o in GLOBALS:
        for n in o.names:
            if o.key == "color":  # ip's matches_color(): -c[olor][=always|auto|never]
                head, _, value = opt.partition("=")
                if matches(head, n) and value in ("", "always", "auto", "never"):
                    return o
            elif (opt == n) if not o.prefix else matches(opt, n):
                return o
    return None


class Invocation:
    """A parsed command line: global settings, the verb, its options and its arguments."""

    __slots__ = ("globals", "verb", "options", "args")

    def __init__(self, globals=None, verb=None, options=None, args=None):
        self.globals = globals or {}
        self.verb = verb
        self.options = options or {}
        self.args = args or []

    def flag(self, key):
        return bool(self.globals.get(key) or self.options.get(key))


_FAMILIES = ("inet", "inet6", "link", "mpls", "bridge")


def check_value(key, value):
    """ip's checks of the -family and -rcvbuf values: pynetns ignores both but rejects
    what ip rejects."""
    if key == "family" and value == "help":
        raise UsageError(IP_USAGE)
    if key == "family" and value not in _FAMILIES:
        raise UsageError(f'Error: argument "{value}" is wrong: invalid protocol family')
    if key == "rcvbuf":
        from .._cint import parse_c_unsigned
        if parse_c_unsigned(value) is None:
            raise UsageError(f"Invalid rcvbuf size '{value}'")


class WantsHelp(Exception):
    """--help was asked for: the caller hands over to click."""


def scan_options(words, lookup, help_words=("--help",), dashdash=True, final=()):
    """Read the leading options of ``words`` as ip's main() does, without judging them.

    ``lookup(word)`` gives an Option or None. Returns (found, end, unknown): found lists
    (option, value, position) with value True for a flag, else the next word (None when the
    words end first); words[end:] follows the options; ``unknown`` is True when the scan
    stopped at a word lookup does not know (rather than at the end or after '--', which ends
    the options when ``dashdash``). A word in ``help_words`` raises WantsHelp; an option
    whose key is in ``final`` ends the scan (end is past it, unknown False).
    """
    found: list[tuple[Option, str | bool | None, int]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if dashdash and word == "--":
            return found, i + 1, False
        if word in help_words:
            raise WantsHelp()
        o = lookup(word)
        if o is None:
            return found, i, True
        if o.arg:
            i += 1
            found.append((o, words[i] if i < len(words) else None, i))
        else:
            found.append((o, True, i))
            if o.key in final:
                return found, i + 1, False
        i += 1
    return found, i, False


def _settings(words, found, checked=False, act=None):
    """The {key: value} of scanned options, judged in order as ip's main() does: a missing
    value is a usage error; with ``checked``, so is a bad value and a -help prefix, and
    ``act(key, value)`` is called for each -netns where it stands."""
    settings = {}
    for o, value, position in found:
        if value is None:
            raise UsageError(f'Option "{words[position - 1]}" needs an argument {o.arg}')
        if checked:
            if o.key == "help":  # -he, --hel...: ip's usage() (-help itself is click's)
                raise UsageError(IP_USAGE)
            if o.arg:
                check_value(o.key, value)
            if act is not None and o.key == "netns":
                act(o.key, value)
        settings[o.key] = value
    return settings


def words_after_globals(argv):
    """The words that follow argv's leading global options, as parse_globals() splits them
    (the click path reads its words here: click itself has no public name for them)."""
    return argv[scan_options(argv, match_global, help_words=(), final=_FINAL)[1]:]


def parse_globals(argv, act=None):
    """Split leading global options off argv, as ip's main() does. Returns (dict, rest).

    A repeated option keeps its last value; ``act`` sees every -netns in order."""
    found, end, unknown = scan_options(argv, match_global, help_words=("--help", "-help"),
                                       final=_FINAL)
    settings = _settings(argv, found, checked=True, act=act)
    if unknown and argv[end].startswith("-"):
        word = argv[end]
        spelled = word[1:] if word.startswith("--") else word  # as ip names it
        raise UsageError(f'Option "{spelled}" is unknown, try "pynetns --help".')
    return settings, argv[end:]


def verb_option_table(verb):
    return {n: o for o in verb.options for n in o.names}


def parse_verb_options(verb, args):
    """Leading pynetns-only options of a verb (full spelling only; ip names stay names)."""
    known = verb_option_table(verb)
    found, end, _ = scan_options(args, known.get, dashdash=bool(known))
    return _settings(args, found), args[end:]


def ends_options(settings):
    """Whether an option that ends the command line (-Version, --version) was given."""
    return any(k in settings for k in _FINAL)


def check_command_line(argv, act=None):
    """Parse the globals and spot --help among the verb's options: (settings, words).

    Raises WantsHelp for click's help and UsageError for a bad global option; ``act`` as
    for parse_globals.
    """
    settings, words = parse_globals(argv, act)
    if ends_options(settings):
        return settings, []
    if words:
        verb = match_verb(words[0])
        if verb is not None:
            parse_verb_options(verb, words[1:])
    return settings, words
