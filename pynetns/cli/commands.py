"""The CLI edge: one handler per verb, turning library results and errors into iproute2's
output, messages and exit codes. Both the fast path and click end up in execute().
"""
import os

from .. import store
from . import grammar, output
from ..errors import (EXEC_SETUP_EXIT_CODE, CommandFailed, NetlinkError, NetnsError,
                     NotANamespace, NotFound, PermissionDenied, SystemCallFailed, UsageError,
                     from_oserror)
from .output import err, out

USAGE = grammar.IP_USAGE

# What `ip -V` prints: the iproute2 release whose behaviour pynetns reproduces, as the
# Debian 12 build prints it (scripts parse this line to learn what ip can do).
IP_VERSION_LINE = "ip utility, iproute2-6.1.0, libbpf 1.1.2\n"


class Exit(Exception):
    """ip calls exit() here: the process ends with ``rc``, a batch stops at once."""

    def __init__(self, rc):
        super().__init__(rc)
        self.rc = rc


def fail(message, rc=1):
    """Print an error; the verb returns ``rc`` (a batch goes on with -force)."""
    err(message)
    return rc


def fatal(message, rc=255):
    err(message)
    raise Exit(rc)


def _quote(name):
    import shlex
    return shlex.quote(name)


def suggests_delete(e):
    """Whether list tells the user to delete broken entry ``e`` (completion offers those):
    every one but a directory with something in it, which delete cannot remove."""
    return not (e.problem == "a directory" and not e.checked.symlink and _holds_files(e.name))


def _broken_line(e):
    shown = output.printable(e.name)
    line = f'"{shown}" is {output.printable(e.problem)}, not a network namespace'
    if not suggests_delete(e):
        return line + " (it is not empty: delete removes empty directories only)"
    # A name with control characters is shown escaped; bash's $'...' reads it back.
    arg = _quote(e.name) if shown == e.name else "$'" + shown.replace("'", "\\'") + "'"
    return line + f" (remove it with: pynetns delete {arg})"


def _holds_files(name):
    """Whether the directory entry ``name`` (never through a symlink) has anything in it."""
    try:
        fd = os.open(store.path_of(name), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
                     os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return bool(os.listdir(fd))
    except OSError:
        return False
    finally:
        os.close(fd)


def _entry_json(e):
    item = {"name": e.name}
    if e.nsid is not None:
        item["id"] = e.nsid
    return item


def cmd_list(inv):
    try:
        entries = store.entries()
    except (PermissionDenied, SystemCallFailed):
        return 0  # ip lists nothing, silently, when it cannot read /run/netns
    good = [e for e in entries if e.ok]
    if inv.flag("details"):
        from . import details
        details.show(good, inv)
    elif inv.flag("json"):
        if os.path.isdir(store.RUN_DIR):  # ip prints nothing at all without the directory
            out(output.json_array([_entry_json(e) for e in good], inv.flag("pretty")))
    else:
        out("".join(e.name + ("" if e.nsid is None else f" (id: {e.nsid})") + "\n"
                    for e in good))
    for e in entries:
        if e.unknown:  # neither healthy nor broken: prune leaves it too
            err(f'"{output.printable(e.name)}" cannot be checked: {e.unknown}')
        elif not e.ok:
            err(_broken_line(e))
    return 0


def cmd_help(inv):
    fatal(USAGE)


def cmd_add(inv):
    if not inv.args:
        return fail("No netns name specified")
    store.add(_entry_name(inv, inv.args[0]), exist_ok=inv.options.get("exist_ok", False))
    return 0


def _entry_name(inv, name):
    """The entry NAME creates. -all lifts ip's name check and NAME is only joined to
    /run/netns: ip's open(O_CREAT|O_EXCL) fails as it would ("" is a directory, a/b has no
    directory a); a path that reaches an entry (../netns/x) is that entry's name; one that
    would create a file anywhere else (a stray subdirectory, outside /run/netns) is refused
    as an invalid name."""
    if not inv.flag("all") or store.is_valid_name(name):
        return name
    import errno
    path = store.path_of(name)
    store.prepare_run_dir().close()  # ip has made /run/netns a shared mount by then
    parent, base = os.path.split(path)
    try:
        fd = os.open(parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            in_run_dir = os.path.samestat(os.fstat(fd), os.stat(store.RUN_DIR))
        finally:
            os.close(fd)
        if not base:
            raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))
        if base in (".", ".."):
            raise OSError(errno.EEXIST, os.strerror(errno.EEXIST))
        if len(os.fsencode(base)) > store.NAME_MAX:
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))
    except OSError as e:
        raise from_oserror(e, f'Cannot create namespace file "{path}"', name=name,
                           path=path) from e
    if not in_run_dir:
        store.check_name(name)
    return base


def cmd_attach(inv):
    if inv.options.get("all_containers") or inv.options.get("all_pods"):
        return _attach_all(inv)
    if len(inv.args) < 2:
        return fail("No netns name and PID specified")
    from .._cint import parse_c_int
    pid = parse_c_int(inv.args[1])
    if not inv.options and pid is not None:
        # A PID: ip's own path, byte for byte; PID 0 is refused before the name is looked at.
        try:
            store.attach(_entry_name(inv, inv.args[0]) if pid else inv.args[0], inv.args[1])
        except NetnsError as e:
            from .. import attachments
            raise attachments.with_container_hint(e, inv.args[1]) from None
        return 0
    source = inv.args[1]
    if os.geteuid() != 0 and source.startswith(("docker:", "podman:", "pod:")):
        return fail("attach: only root can name a namespace in /run/netns; exec "
                    f"{output.printable(source)} CMD runs a command in that container")
    from .. import attachments
    done = attachments.attach(inv.args[0], inv.args[1], symlink=inv.options.get("symlink"),
                              force=inv.options.get("force_host"))
    for note in done.notes:
        err(note)
    return 0


def _attach_all(inv):
    from .. import attachments
    from . import details
    kind = "pods" if inv.options.get("all_pods") else "containers"
    if inv.args:
        return fail(f"attach --all-{kind} takes no NAME: entries are named after {kind}")
    every = attachments.attach_all_pods if kind == "pods" else attachments.attach_all
    outcomes, errors = every(symlink=inv.options.get("symlink"),
                             force=inv.options.get("force_host"))
    for e in errors:
        err(f"warning: {e}")
    clashes = {o.container.entry_name: o.clash for o in outcomes if o.clash}
    for name, engines in clashes.items():
        shown = output.printable(name)
        err(f'"{shown}" is a container in {" and ".join(engines)}: named '
            + " and ".join(f"{e}:{shown}" for e in engines))
    details.show_outcomes(outcomes, inv)
    return 1 if errors or any(o.action == "failed" for o in outcomes) else 0


def cmd_prune(inv):
    from .. import attachments
    from . import details
    dry_run = inv.options.get("dry_run", False)
    results = attachments.prune(dry_run)
    details.show_pruned(results, inv, dry_run)
    return 0 if dry_run or all(r.removed for r in results) else 1


def cmd_delete(inv):
    if inv.flag("all"):
        for name in store.names():
            try:
                store.delete(name)
            except NetnsError as e:
                err(str(e))
                break  # ip stops at the first failure and still exits 0
        return 0
    if not inv.args:
        return fail("No netns name specified")
    store.delete(inv.args[0])
    return 0


def cmd_exists(inv):
    """Exit 0: a network namespace, 1: no such entry, 2: broken (said on stderr), 255: bad
    usage or could not tell; 1 means nothing but "missing", so scripts can rely on it."""
    if len(inv.args) != 1:
        return fail("Usage: pynetns exists NAME", 255)
    try:
        return 0 if store.exists(inv.args[0]) else 1
    except NotANamespace as e:
        err(str(e))
        return 2
    except NetnsError as e:
        return fail(str(e), 255)


def cmd_identify(inv):
    from .. import procs
    if len(inv.args) > 1:
        return fail("extra arguments specified")
    if inv.args == ["self"]:  # the library's name for the default; ip wants digits
        return fail("Specified string 'self' is not a pid")
    out(procs.identify(inv.args[0] if inv.args else "self") + "\n")
    return 0


def cmd_pids(inv):
    from .. import procs
    if not inv.args:
        return fail("No netns name specified")
    if len(inv.args) > 1:
        return fail("extra arguments specified")
    try:
        if inv.flag("all") and not store.is_valid_name(inv.args[0]):
            found = _pids_of_path(store.path_of(inv.args[0]))
        else:
            found = procs.pids(inv.args[0])
    except (NotFound, PermissionDenied, SystemCallFailed) as e:  # open() failed: ip's words
        return fail(f"Cannot open network namespace: {os.strerror(e.errno)}")
    out("".join(f"{p}\n" for p in found))
    return 0


def _pids_of_path(path):
    """-all lifts ip's name check: netns_pids() opens /run/netns/NAME, whatever NAME holds
    ("" and .. are directories, in which no process is)."""
    from .. import procs
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise from_oserror(e, "Cannot open network namespace", path=path) from e
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    return procs.pids_in((st.st_dev, st.st_ino))


def _parse_int(value, message):
    """get_integer() or ip's invarg(): the number, or a fatal 'argument is wrong' error."""
    from .._cint import parse_c_int
    number = parse_c_int(value)
    if number is None:
        fatal(f'Error: argument "{value}" is wrong: {message}')
    return number


def cmd_set(inv):
    if not inv.args:
        return fail("No netns name specified")
    if len(inv.args) < 2:
        return fail("No nsid specified")
    name, value = inv.args[0], inv.args[1]
    if value == "auto":
        nsid = -1
    else:
        nsid = _parse_int(value, 'Invalid "netnsid" value')
        if nsid < 0:
            fatal(f'Error: argument "{value}" is wrong: "netnsid" value should be >= 0')
    if inv.flag("all") and not store.is_valid_name(name):
        # ip reaches whatever the path names (relative to the cwd with a '/'); pynetns
        # refuses, but as a failing verb, so that an `-all -batch` goes on as ip's does.
        return fail(f'Invalid netns name "{name}"')
    from .. import nsid as nsid_api
    nsid_api.set_nsid(name, nsid)
    return 0


def cmd_list_id(inv):
    from .. import nsid as nsid_api
    target = nsid = -1
    args = inv.args
    i = 0
    while i < len(args):
        word = args[i]
        if word not in ("target-nsid", "nsid"):
            cmd_help(inv)
        if (target if word == "target-nsid" else nsid) >= 0:
            fatal(f'Error: duplicate "{word}": "{word}" is the second value.')
        i += 1
        if i >= len(args):
            fatal('Command line is not complete. Try option "help"')
        number = _parse_int(args[i], f'"{word}" value is invalid')
        if number < 0:
            # ip names the word after the value here (a quirk of invarg(..., argv[1])).
            nxt = args[i + 1] if i + 1 < len(args) else "(null)"
            fatal(f'Error: argument "{nxt}" is wrong: "{word}" value should be >= 0')
        if word == "target-nsid":
            target = number
        else:
            nsid = number
        i += 1
    try:
        rows = nsid_api.list_ids(nsid=nsid, target=target,
                                 strict=inv.globals.get("batch") is None)
    except NetlinkError as e:
        if nsid >= 0:
            return fail(str(e), 2)
        err(str(e))
        if inv.flag("json"):  # ip has opened the JSON array before the dump fails
            out(output.json_array([], inv.flag("pretty")))
        fatal("Dump terminated", 1)
    if inv.flag("json"):
        out(output.json_array([r.as_json() for r in rows], inv.flag("pretty")))
    else:
        out("".join(r.as_text() for r in rows))
    return 0


def _exec_child(name, argv):
    """In a forked child: enter and exec; never returns."""
    from .. import execns
    try:
        execns.switch(name, err)
        execns.execvp(argv)
    except NetnsError as e:
        try:
            err(str(e))
        except BrokenPipeError:
            output.die_of("SIGPIPE")  # as ip's child does: the parent sees a signal
    finally:
        os._exit(1)


def _fork_exec(name, argv):
    """Run argv in name in a child; the child's exit status, or Exit(1) if it was killed."""
    output.flush()
    pid = os.fork()
    if pid == 0:
        _exec_child(name, argv)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    raise Exit(1)


def _exec_child_failed(e):
    err(str(e))
    return e.exit_code if isinstance(e, CommandFailed) else EXEC_SETUP_EXIT_CODE


def _exec_pid(inv, batch):
    if inv.flag("all"):
        return fail("exec --pid does not go with -all")
    if not inv.args:
        return fail("No netns name specified")
    if len(inv.args) < 2:
        return fail("No command specified")
    from .. import pidns
    output.flush()
    try:
        return pidns.run(inv.args[0], inv.args[1:], _exec_child_failed, err,
                         force=inv.options.get("force_host"), reraise=not batch)
    except UsageError:
        raise
    except NetnsError as e:  # could not enter: ip's exit(-1)
        fatal(str(e), EXEC_SETUP_EXIT_CODE)


def cmd_exec(inv, batch=False):
    if inv.options.get("pid"):
        return _exec_pid(inv, batch)
    if inv.flag("all"):
        if not inv.args:
            return fail("No command specified")
        try:
            names = store.names()
        except NetnsError as e:
            return fail(str(e))  # rc 1, not exec's 255: nothing was entered
        for name in names:
            out(f"\nnetns: {name}\n")
            _fork_exec(name, inv.args)
        return 0
    if not inv.args:
        return fail("No netns name specified")
    if len(inv.args) < 2:
        return fail("No command specified")
    name, argv = inv.args[0], inv.args[1:]
    if batch:
        return _fork_exec(name, argv)
    from .. import execns
    output.flush()
    try:
        execns.switch(name, err, force=inv.options.get("force_host"))
    except NetnsError as e:
        fatal(str(e), EXEC_SETUP_EXIT_CODE)
    try:
        execns.execvp(argv)
    except CommandFailed as e:
        return fail(str(e))


def cmd_monitor(inv):
    from .. import monitor
    for event, name in monitor.events():
        out(f"{event} {name}\n")
        output.flush()  # unlike ip, so that `pynetns monitor | grep` sees lines live


def cmd_completion(inv):
    from . import completion
    if len(inv.args) != 1 or inv.args[0] not in completion.SHELLS:
        return fail("Usage: pynetns completion bash|zsh|fish")
    out(completion.script(inv.args[0]))
    return 0


def cmd_inventory(inv):
    from . import inventory_view
    return inventory_view.show_inventory(inv)


def cmd_which(inv):
    from . import inventory_view
    return inventory_view.show_which(inv)


HANDLERS = {
    "list": cmd_list, "list-id": cmd_list_id, "help": cmd_help, "add": cmd_add,
    "set": cmd_set, "delete": cmd_delete, "identify": cmd_identify, "pids": cmd_pids,
    "exec": cmd_exec, "monitor": cmd_monitor, "attach": cmd_attach, "prune": cmd_prune,
    "completion": cmd_completion, "exists": cmd_exists,
    "inventory": cmd_inventory, "which": cmd_which,
}

def resolve(settings, words):
    """Words after the globals → Invocation, with ip's checks in ip's order."""
    if not words:
        return grammar.Invocation(settings, grammar.VERB_BY_NAME["list"])
    # which's TARGET is no netns name: its own parse judges it.
    if (not settings.get("all") and len(words) > 1 and words[0] != "which"
            and not store.is_valid_name(words[1]) and not _names_a_source(words[1])):
        fatal(f'Invalid netns name "{words[1]}"')
    verb = grammar.match_verb(words[0])
    if verb is None:
        fatal(f'Command "{words[0]}" is unknown, try "ip netns help".')
    options, args = grammar.parse_verb_options(verb, words[1:])
    return grammar.Invocation(settings, verb, options, args)


def _names_a_source(word):
    """pod:NS/NAME, or docker:/C (the form docker prints): no netns name, exec's target."""
    if word.startswith("pod:"):
        return True
    from .. import containers  # only for a word that is no netns name
    return containers.split_spec(word)[0] is not None


def execute(inv, batch=False):
    """Run a parsed invocation; returns the exit code, raises Exit where ip exits."""
    try:
        if inv.verb.name == "exec":
            return cmd_exec(inv, batch)
        return HANDLERS[inv.verb.name](inv)
    except NetnsError as e:
        return _failed(e)
    except BrokenPipeError:
        raise  # __main__ dies of SIGPIPE, as ip does
    except OSError as e:  # one no library call turned into a NetnsError: still one line
        try:
            raise from_oserror(e, f"{inv.verb.name} failed", path=e.filename) from e
        except NetnsError as wrapped:
            return _failed(wrapped)


def _failed(e):
    """Report error ``e``; exit_code 255 is ip's exit(-1), which ends a batch too."""
    if e.exit_code == 255:
        fatal(str(e))
    return fail(str(e), e.exit_code)


def run(settings, words, batch=False):
    return execute(resolve(settings, words), batch)


def netns_switch(name):
    """ip's netns_switch() for -netns NAME: NAME is joined to /run/netns unchecked (so ""
    and ../netns/x reach the kernel as under ip); exit(-1) on failure."""
    from .. import execns
    try:
        if store.is_valid_name(name) or _names_a_source(name):
            execns.switch(name, err)  # with pynetns's checks of what the entry is
        else:
            _switch_to_path(name)
            execns.isolate(name, err)
    except NetnsError as e:
        fatal(str(e), EXEC_SETUP_EXIT_CODE)


def _switch_to_path(name):
    from .. import _sys
    path = store.path_of(name)
    try:
        # O_NONBLOCK: a FIFO there fails setns rather than hanging the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise from_oserror(e, f'Cannot open network namespace "{name}"', name=name,
                           path=path) from e
    try:
        _sys.setns(fd, _sys.CLONE_NEWNET)
    except OSError as e:
        raise from_oserror(e, f'setting the network namespace "{name}" failed', name=name,
                           path=path) from e
    finally:
        os.close(fd)


def _act(key, value):
    """A global option ip acts on where it stands (grammar.parse_globals)."""
    if key == "netns":
        netns_switch(value)


def start(argv):
    """The command line after `pynetns`: globals in ip's order, then the verb; the exit code.

    --help (and PYNETNS_CLICK=1, which the tests use to prove both paths agree) go on to
    click in click_help.py, once the -netns switches are done."""
    try:
        try:
            settings, words = grammar.check_command_line(argv, act=_act)
        except grammar.WantsHelp:
            settings = words = None
        except UsageError as e:
            fatal(str(e))
    except Exit as e:
        return e.rc
    # After -Version nothing is read, so click has nothing to parse either.
    if settings is not None and (os.environ.get("PYNETNS_CLICK") != "1"
                                 or grammar.ends_options(settings)):
        return main(settings, words)
    from . import click_help
    return click_help.run(argv)


def main(settings, words):
    """Everything after global parsing (and its -netns switches): -Version, -batch, then
    the verb."""
    try:
        if settings.get("version"):
            out(IP_VERSION_LINE)
            return 0
        if settings.get("pynetns_version"):
            from .. import __version__
            out(f"pynetns {__version__}\n")
            return 0
        if settings.get("batch") is not None:
            from . import batch
            return batch.run(settings, lambda words: run(settings, words, batch=True))
        return run(settings, words)
    except Exit as e:
        return e.rc
