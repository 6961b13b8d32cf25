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
    try:
        settings, words = grammar.check_command_line(argv)
    except grammar.WantsHelp:
        settings = None
    except grammar.UsageError as e:
        from .output import err
        err(str(e))
        return 255
    if settings is not None and os.environ.get("PYNETNS_CLICK") != "1":
        from . import commands
        return commands.main(settings, words)
    from . import cli
    return cli.run(argv)


if __name__ == "__main__":
    sys.exit(main())
