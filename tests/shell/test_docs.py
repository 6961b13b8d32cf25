"""pynetns(8): lint-clean, renders, agrees with --help on every verb and option of grammar.py,
and `pip install` put it (and the completion scripts) where man and the shells look."""
import os
import re
import subprocess

import pytest

from conftest import PYNETNS, ROOT
from pynetns.cli import grammar
from shellenv import INSTALLED, SHARE

MAN = ROOT / "man" / "pynetns.8"
SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS", "COMMANDS", "BATCH FILES",
            "DIFFERENCES FROM IP NETNS", "EXIT STATUS", "ENVIRONMENT", "FILES",
            "SHELL COMPLETION", "EXAMPLES", "SEE ALSO"]


def render(width, page=MAN):
    r = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True,
                       text=True, env=dict(os.environ, MANWIDTH=str(width), LANG="C.UTF-8"))
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def page():
    """The page as one line per paragraph: so wide that nothing wraps or hyphenates."""
    return render(1000)


def section(text, title):
    found = re.search(rf"^{re.escape(title)}\n(.*?)(?=^\S|\Z)", text, re.M | re.S)
    assert found, f"no {title} section"
    return found.group(1)


def helptext(*args):
    r = subprocess.run([PYNETNS, *args, "--help"], capture_output=True, text=True)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    return r.stdout


def mentions(text, option):
    """``option`` as a word of ``text``; --help spells ip's -json as --json."""
    return re.search(rf"(?<![\w-])-?{re.escape(option)}(?![\w-])", text) is not None


def test_groff_lint_is_clean():
    r = subprocess.run(["groff", "-man", "-ww", "-z", str(MAN)], capture_output=True,
                       text=True)
    assert (r.returncode, r.stderr) == (0, "")


@pytest.mark.parametrize("width", [60, 80, 120])
def test_renders_without_warnings(width):
    text = render(width)
    assert [line for line in text.splitlines() if line and not line[0].isspace()][1:-1] \
        == SECTIONS


def test_fits_a_terminal():
    assert max(len(line) for line in render(80).splitlines()) <= 80


@pytest.mark.parametrize("verb", [v.name for v in grammar.VERBS])
def test_every_verb_in_help_and_man(page, verb):
    assert re.search(rf"^  {re.escape(verb)}\s", helptext(), re.M), "not in pynetns --help"
    assert re.search(rf"^ {{7}}{re.escape(verb)}(\s|$)", section(page, "COMMANDS"), re.M), \
        "no entry under COMMANDS"
    assert re.search(rf"^ +pynetns .*\b{re.escape(verb)}\b", section(page, "SYNOPSIS"),
                     re.M), "not in the SYNOPSIS"


GLOBAL_NAMES = [n for o in grammar.GLOBALS for n in o.names]


@pytest.mark.parametrize("name", GLOBAL_NAMES)
def test_every_global_option_in_help_and_man(page, name):
    assert mentions(helptext(), name), "not in pynetns --help"
    assert mentions(section(page, "GLOBAL OPTIONS"), name), "not under GLOBAL OPTIONS"


VERB_OPTIONS = [(v.name, n) for v in grammar.VERBS for o in v.options for n in o.names]


@pytest.mark.parametrize("verb, name", VERB_OPTIONS, ids=[" ".join(p) for p in VERB_OPTIONS])
def test_every_verb_option_in_help_and_man(page, verb, name):
    assert mentions(helptext(verb), name), f"not in pynetns {verb} --help"
    entry = re.search(rf"^ {{7}}{re.escape(verb)}(\s.*?)(?=^ {{7}}\S|\Z)",
                      section(page, "COMMANDS"), re.M | re.S)
    assert entry and mentions(entry.group(0), name), f"not in the entry for {verb}"


def test_exit_codes_files_and_examples(page):
    codes = re.findall(r"^ {7}(\d+) ", section(page, "EXIT STATUS"), re.M)
    assert codes == ["0", "1", "2", "3", "255"]
    assert "exit status of the command" in section(page, "EXIT STATUS")
    files = section(page, "FILES")
    for path in ("/run/netns/", "/var/run/netns/", "/etc/netns/NAME/"):
        assert re.search(rf"^ {{7}}{re.escape(path)}$", files, re.M), path
    examples = section(page, "EXAMPLES")
    for command in ("pynetns attach web docker:web", "pynetns exec web tcpdump -i eth0",
                    "pynetns prune"):
        assert re.search(rf"^ +{re.escape(command)}$", examples, re.M), command


def test_installed_where_man_and_the_shells_look():
    assert (SHARE / "man/man8/pynetns.8").read_bytes() == MAN.read_bytes()
    for shell, path in INSTALLED.items():
        assert path.read_bytes() == (ROOT / "completions" / path.name).read_bytes(), shell
    # man-db finds pages next to the bin/ directory the command runs from.
    env = dict(os.environ, PATH=f"{os.path.dirname(PYNETNS)}:/usr/bin:/bin")
    env.pop("MANPATH", None)
    r = subprocess.run(["man", "-w", "pynetns"], capture_output=True, text=True, env=env)
    assert r.stdout.strip() == str(SHARE / "man/man8/pynetns.8")
