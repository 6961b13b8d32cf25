"""Entry point. The fast path parses with grammar.py and never imports click; --help (and
PYNETNS_CLICK=1) go through cli.py (see commands.start).

This is the one last-resort handler: no input, environment or signal ends in a traceback.
A write to a closed pipe dies of SIGPIPE and ^C of SIGINT, as ip (a C program) does.
"""
import os
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["__complete"]:  # the shells' TAB helper: not a verb, never in --help
            from . import completion
            rc = completion.main(argv[1:])
        else:
            from . import commands
            rc = commands.start(argv)
        from . import output
        output.flush()
        return rc
    except BrokenPipeError:
        _die_of("SIGPIPE")
    except KeyboardInterrupt:
        _die_of("SIGINT")
    except OSError as e:  # a write to stdout or stderr (the verbs report their own)
        from . import output
        output.err(f"pynetns: {e.strerror or e}")
        return 1


def _die_of(name):
    """End as a process killed by signal ``name``: the shell sees 128+N, as for ip."""
    import _signal  # not `signal`: its enums cost start-up time
    sig = getattr(_signal, name)
    _signal.signal(sig, _signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    os._exit(128 + sig)  # not reached: the signal is delivered at once to this thread


if __name__ == "__main__":
    sys.exit(main())
