"""click over grammar.py: --help, and the PYNETNS_CLICK=1 path the tests compare with the fast
one. Parsing ends in the same Invocation and commands.execute() as the fast path (or in
commands.main, for -netns, -Version and -batch); this module only builds the click objects
from the tables.
"""
import click

from . import commands, grammar
from .output import err


def _spellings(opt):
    """Every argv spelling that selects ``opt`` in ip's matching order, '-x' and '--x'."""
    found = []
    for full in opt.names:
        if not opt.prefix:
            found.append(full)
            continue
        for end in range(2, len(full) + 1):
            word = full[:end]
            if grammar.match_global(word) is opt:
                for spelled in (word, "-" + word):
                    if spelled not in found:
                        found.append(spelled)
    return found


class _Option(click.Option):
    """Accepts every ip spelling but shows only the shortest and the full one in --help."""

    def __init__(self, opt):
        kwargs = {"metavar": opt.arg} if opt.arg else {"is_flag": True, "default": None}
        super().__init__(_spellings(opt) + [opt.key], help=opt.help,
                         hidden=opt.help.startswith("ignored"), **kwargs)
        self.shown = ", ".join(opt.names) if not opt.prefix else f"{self.opts[0]}, -{opt.names[0]}"
        if opt.arg:
            self.shown += f" {opt.arg}"

    def get_help_record(self, ctx):
        return (self.shown, self.help) if not self.hidden else None


class VerbCommand(click.Command):
    def __init__(self, verb):
        params: list[click.Parameter] = [_Option(o) for o in verb.options]
        params.append(click.Argument(["args"], nargs=-1, type=click.UNPROCESSED))
        super().__init__(
            verb.name, params=params, help=verb.help, add_help_option=True,
            context_settings={"ignore_unknown_options": True,
                              "allow_interspersed_args": False})
        self.verb = verb

    def collect_usage_pieces(self, ctx):
        return ["[OPTIONS]", self.verb.usage] if self.verb.options else [self.verb.usage]

    def format_usage(self, ctx, formatter):
        if self.collect_usage_pieces(ctx) != [""]:
            return super().format_usage(ctx, formatter)
        # Nothing after the verb: click before 8.2 would leave out the whole usage line.
        prog, _, verb = ctx.command_path.rpartition(" ")
        formatter.write_usage(prog, verb)


class NetnsGroup(click.Group):
    """Verbs resolved by ip's prefix rules; no verb means list."""

    def resolve_command(self, ctx, args):
        verb = grammar.match_verb(args[0])  # a known verb: invoke() sends the rest elsewhere
        return verb.name, self.commands[verb.name], args[1:]

    def parse_args(self, ctx, args):
        ctx.meta["pynetns.words"] = grammar.words_after_globals(list(args))
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        settings = {k: v for k, v in ctx.params.items() if v is not None}
        words = ctx.meta["pynetns.words"]
        verb = grammar.match_verb(words[0]) if words else None
        if verb is not None and _wants_help(verb, words[1:]):
            return super().invoke(ctx)  # click prints the verb's help
        ends = ("version", "pynetns_version", "netns", "batch")
        if verb is None or any(k in settings for k in ends):
            # ip acts on these (and on an unknown verb) before it reads the verb's words.
            return commands.main(settings, words)
        # Let click parse the verb's own options, then hand the same Invocation over.
        sub = self.commands[verb.name]
        sub_ctx = sub.make_context(verb.name, words[1:], parent=ctx)
        options = {k: v for k, v in sub_ctx.params.items() if k != "args" and v}
        args = list(sub_ctx.params["args"])
        try:
            # ip's name check looks at the second word before anything else.
            if not settings.get("all") and len(words) > 1:
                commands.resolve(settings, words)  # all of them: an option may take a value
            return commands.execute(grammar.Invocation(settings, verb, options, args))
        except commands.Exit as e:
            return e.rc


def _wants_help(verb, args):
    """--help among the verb's leading options (not in a command exec runs). Their usage
    errors were reported by __main__ before click was loaded."""
    try:
        grammar.parse_verb_options(verb, args)
    except grammar.WantsHelp:
        return True
    return False


def build():
    group = NetnsGroup(
        "pynetns", invoke_without_command=True, no_args_is_help=False,
        params=[_Option(o) for o in grammar.GLOBALS if o.key != "help"],
        help="Name, enter and inspect Linux network namespaces: a drop-in for `ip netns`.",
        # Every option is named somewhere in --help, the ignored ones here.
        epilog="ip's other global options are accepted and ignored: "
               + ", ".join(n for o in grammar.GLOBALS if o.help.startswith("ignored")
                           for n in o.names)
               + ". Options match by prefix as in ip: -a is -all, -j is -json.",
        context_settings={"help_option_names": ["--help", "-help"],
                          "ignore_unknown_options": False})
    for verb in grammar.VERBS:
        group.add_command(VerbCommand(verb))
    return group


def _canonical(argv):
    """argv with its leading global options spelled in full: click would read '-jp' as
    '-j -p' and has no spelling for ip's '-c=never'."""
    words = list(argv)
    found, _, _ = grammar.scan_options(words, grammar.match_global, help_words=())
    for o, _, position in found:
        words[position - 1 if o.arg else position] = o.names[0]  # position: of its value
    return words


def run(argv):
    """The click path, for argv that __main__.main has already checked with
    grammar.check_command_line (bad global options are reported there)."""
    try:
        rc = build().main(_canonical(argv), prog_name="pynetns", standalone_mode=False)
    except click.exceptions.NoSuchOption as e:
        err(f'Option "{e.option_name}" is unknown, try "pynetns --help".')
        return 255
    except click.UsageError as e:
        err(e.format_message())
        return 255
    except click.exceptions.Exit as e:
        return e.exit_code
    return rc if isinstance(rc, int) else 0
