"""Entry point. The fast path parses with grammar.py and never imports click; --help (and
PYNETNS_CLICK=1) go through cli.py (see commands.start).

This is the one last-resort handler: no input, environment or signal ends in a traceback.
A write to a closed pipe dies of SIGPIPE and ^C of SIGINT, as ip (a C program) does.
"""
import sys

from . import output


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["__complete"]:  # the shells' TAB helper: not a verb, never in --help
            from . import completion
            rc = completion.main(argv[1:])
        else:
            from . import commands
            rc = commands.start(argv)
        output.flush()
        return rc
    except BrokenPipeError:
        output.die_of("SIGPIPE")
    except KeyboardInterrupt:
        output.die_of("SIGINT")
    except OSError as e:  # a write to stdout or stderr (the verbs report their own)
        output.err(f"pynetns: {e.strerror or e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
