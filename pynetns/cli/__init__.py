"""The command line: a thin layer over the library, which never prints.

grammar.py is the one definition of the command line; commands.py turns each verb into library
calls and their results and errors into ip's output and exit codes; details.py and
inventory_view.py render pynetns's own reports; batch.py reads -batch files; completion.py
answers the shells' TAB; click_help.py is the click layer behind --help (the fast path never
imports click); output.py writes what ip writes.

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
