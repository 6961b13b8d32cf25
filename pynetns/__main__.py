"""Entry point. The fast path parses with grammar.py and never imports click; --help (and
PYNETNS_CLICK=1, which the tests use to prove both paths agree) go through cli.py.
"""
import os
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["__complete"]:  # the shells' TAB helper: not a verb, never in --help
        from . import completion
        return completion.main(argv[1:])
    from . import grammar
    if os.environ.get("PYNETNS_CLICK") != "1":
        try:
            settings, words = grammar.parse_globals(argv)
            if words:
                verb = grammar.match_verb(words[0])
                if verb is not None:
                    grammar.parse_verb_options(verb, words[1:])  # only to spot --help
        except grammar.WantsHelp:
            pass
        except grammar.UsageError as e:
            from .output import err
            err(str(e))
            return 255
        else:
            from . import commands
            return commands.main(settings, words)
    from . import cli
    return cli.run(argv)


if __name__ == "__main__":
    sys.exit(main())
