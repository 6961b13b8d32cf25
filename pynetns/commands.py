"""The CLI edge: one handler per verb, turning library results and errors into iproute2's
output, messages and exit codes. Both the fast path and click end up in execute().
"""
import os

from . import grammar, output, store
from .errors import (Busy, CommandFailed, InvalidName, NetlinkError, NetnsError,
                     NotANamespace, NotFound, PermissionDenied, SystemCallFailed,
                     UsageError)
from .output import err, out

USAGE = (
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


def _broken_line(e):
    return (f'"{e.name}" is {e.problem}, not a network namespace '
            f'(remove it with: pynetns delete {_quote(e.name)})')


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
    store.add(inv.args[0], exist_ok=inv.options.get("exist_ok", False))
    return 0


def cmd_attach(inv):
    if inv.options.get("all_containers") or inv.options.get("all_pods"):
        return _attach_all(inv)
    if len(inv.args) < 2:
        return fail("No netns name and PID specified")
    from ._cint import parse_c_int
    if not inv.options and parse_c_int(inv.args[1]) is not None:
        store.attach(inv.args[0], inv.args[1])  # a PID: ip's own path, byte for byte
        return 0
    from . import attachments
    done = attachments.attach(inv.args[0], inv.args[1], symlink=inv.options.get("symlink"),
                              force=inv.options.get("force_host"))
    for note in done.notes:
        err(note)
    return 0


def _attach_all(inv):
    from . import attachments, details
    kind = "pods" if inv.options.get("all_pods") else "containers"
    if inv.args:
        return fail(f"attach --all-{kind} takes no NAME: entries are named after {kind}")
    every = attachments.attach_all_pods if kind == "pods" else attachments.attach_all
    outcomes, errors = every(symlink=inv.options.get("symlink"),
                             force=inv.options.get("force_host"))
    for e in errors:
        err(f"warning: {e}")
    details.show_outcomes(outcomes, inv)
    return 1 if errors or any(o.action == "failed" for o in outcomes) else 0


def cmd_prune(inv):
    from . import attachments, details
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
    from . import procs
    if len(inv.args) > 1:
        return fail("extra arguments specified")
    if inv.args == ["self"]:  # the library's name for the default; ip wants digits
        return fail("Specified string 'self' is not a pid")
    out(procs.identify(inv.args[0] if inv.args else "self") + "\n")
    return 0


def cmd_pids(inv):
    from . import procs
    if not inv.args:
        return fail("No netns name specified")
    if len(inv.args) > 1:
        return fail("extra arguments specified")
    try:
        found = procs.pids(inv.args[0])
    except (NotFound, PermissionDenied, SystemCallFailed) as e:  # open() failed: ip's words
        return fail(f"Cannot open network namespace: {os.strerror(e.errno)}")
    out("".join(f"{p}\n" for p in found))
    return 0


def _parse_int(value, message):
    """get_integer() or ip's invarg(): the number, or a fatal 'argument is wrong' error."""
    from ._cint import parse_c_int
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
    from . import nsid as nsid_api
    nsid_api.set_nsid(name, nsid)
    return 0


def cmd_list_id(inv):
    from . import nsid as nsid_api
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
    from . import execns
    try:
        execns.switch(name, err)
        execns.execvp(argv)
    except NetnsError as e:
        err(str(e))
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
    return 1 if isinstance(e, CommandFailed) else 255


def _exec_pid(inv, batch):
    if inv.flag("all"):
        return fail("exec --pid does not go with -all")
    if not inv.args:
        return fail("No netns name specified")
    if len(inv.args) < 2:
        return fail("No command specified")
    from . import pidns
    output.flush()
    return pidns.run(inv.args[0], inv.args[1:], _exec_child_failed, err,
                     force=inv.options.get("force_host"), reraise=not batch)


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
    from . import execns
    output.flush()
    try:
        execns.switch(name, err, force=inv.options.get("force_host"))
    except NetnsError as e:
        fatal(str(e))
    try:
        execns.execvp(argv)
    except CommandFailed as e:
        return fail(str(e))


def cmd_monitor(inv):
    from . import monitor
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

# Exit codes other than 1: a failed exec setup ends ip with exit(-1); netlink errors are 2.
# An entry delete cannot remove because it is still mounted (EBUSY) is 3, unlike ip's 1, so
# that scripts can tell "busy, retry later" from "not there".
_VERB_RC = {"exec": 255}
_ERROR_RC = {NetlinkError: 2, Busy: 3}


def resolve(settings, words):
    """Words after the globals → Invocation, with ip's checks in ip's order."""
    if not words:
        return grammar.Invocation(settings, grammar.VERB_BY_NAME["list"])
    # which's TARGET is no netns name: its own parse judges it.
    if (not settings.get("all") and len(words) > 1 and words[0] != "which"
            and not store.is_valid_name(words[1]) and not words[1].startswith("pod:")):
        fatal(f'Invalid netns name "{words[1]}"')
    verb = grammar.match_verb(words[0])
    if verb is None:
        fatal(f'Command "{words[0]}" is unknown, try "ip netns help".')
    options, args = grammar.parse_verb_options(verb, words[1:])
    return grammar.Invocation(settings, verb, options, args)


def execute(inv, batch=False):
    """Run a parsed invocation; returns the exit code, raises Exit where ip exits."""
    try:
        if inv.verb.name == "exec":
            return cmd_exec(inv, batch)
        return HANDLERS[inv.verb.name](inv)
    except UsageError as e:
        if isinstance(e, InvalidName):
            fatal(str(e))
        return fail(str(e))
    except NotANamespace as e:
        return fail(str(e))
    except NetnsError as e:
        rc = _VERB_RC.get(inv.verb.name) or _ERROR_RC.get(type(e), 1)
        if rc == 255:
            fatal(str(e))
        return fail(str(e), rc)


def run(settings, words, batch=False):
    return execute(resolve(settings, words), batch)


def main(settings, words):
    """Everything after global parsing: -Version, -netns, -batch, then the verb."""
    try:
        if settings.get("version"):
            from . import __version__
            out(f"pynetns utility, pynetns-{__version__}\n")
            return 0
        if settings.get("netns"):
            from . import execns
            try:
                execns.switch(settings["netns"], err)
            except NetnsError as e:
                fatal(str(e))
        if settings.get("batch") is not None:
            from . import batch
            return batch.run(settings, lambda words: run(settings, words, batch=True))
        return run(settings, words)
    except Exit as e:
        return e.rc
    finally:
        try:
            output.flush()
        except BrokenPipeError:
            pass
