"""The layers: the library (pynetns/*.py) never imports the command line (pynetns/cli/) and
never prints; the command line reaches the library only through its modules' functions.
Read from the source, so it needs neither root nor an installed script."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pynetns"
# __main__.py is `python -m pynetns`: the command line's entry, not the library.
LIBRARY = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__main__.py")
# The one place a library function writes: the forked child of exec_in, about to become the
# command, says on the command's stderr that an /etc/netns bind failed, as `ip netns exec`.
MAY_WRITE = {("execns.py", "_to_stderr")}


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            yield base, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


class _Writes(ast.NodeVisitor):
    """(innermost function, what) for each print() and sys.stdout/sys.stderr use."""

    def __init__(self):
        self.where = ["<module>"]
        self.found = set()

    def visit_FunctionDef(self, node):
        self.where.append(node.name)
        self.generic_visit(node)
        self.where.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node):
        if getattr(node.func, "id", None) == "print":
            self.found.add((self.where[-1], "print()"))
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr in ("stdout", "stderr") and getattr(node.value, "id", None) == "sys":
            self.found.add((self.where[-1], f"sys.{node.attr}"))
        self.generic_visit(node)


def _writes(tree):
    visitor = _Writes()
    visitor.visit(tree)
    return visitor.found


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_library_module_does_not_import_the_cli(path):
    tree = ast.parse(path.read_text())
    bad = [(base, names) for base, names in _imports(tree)
           if base in (".cli", "pynetns.cli") or base.startswith((".cli.", "pynetns.cli."))
           or (base in (".", "pynetns") and "cli" in names)]
    assert not bad, f"{path.name} imports the command line: {bad}"


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_library_module_does_not_print(path):
    tree = ast.parse(path.read_text())
    bad = sorted({w for w in _writes(tree) if (path.name, w[0]) not in MAY_WRITE})
    assert not bad, f"{path.name} writes to stdout/stderr: {bad}"


def test_the_cli_is_a_package_of_its_own():
    cli = {p.name for p in (PACKAGE / "cli").glob("*.py")}
    assert {"grammar.py", "commands.py", "batch.py", "output.py", "details.py",
            "completion.py", "click_help.py"} <= cli
    assert not any((PACKAGE / n).exists() for n in ("grammar.py", "commands.py", "cli.py",
                                                    "output.py", "details.py"))


def _module_level_imports(path):
    """The pynetns modules ``path`` imports when it is loaded (not those imported inside
    functions, which is how the hot verbs stay fast)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(a.name for a in node.names)
    return found & {p.stem for p in LIBRARY}


def test_the_library_has_no_import_cycle():
    """Every module-level import (and every deferred one) among library modules points down:
    store, procs and holders once formed a loop through the /proc walk."""
    graph = {p.stem: _module_level_imports(p) for p in LIBRARY}
    for p in LIBRARY:  # the deferred imports too: a cycle there is still a tangle
        tree = ast.parse(p.read_text())
        graph[p.stem] |= {base.lstrip(".").split(".")[0] or n for base, names in _imports(tree)
                          if base.startswith(".") and not base.startswith("..")
                          for n in (names if base == "." else [""])} & set(graph)

    def visit(node, path):
        assert node not in path, f"import cycle: {' -> '.join([*path, node])}"
        for nxt in sorted(graph[node] - {node}):
            visit(nxt, [*path, node])

    for module in graph:
        visit(module, [])
