"""The container options in the grammar, and the hot verbs kept free of the container code
(no engine needed)."""
import os
import subprocess
import sys

import pytest

from conftest import PYNETNS

from .support import cli

HEAVY = {"pynetns.containers", "pynetns.attachments", "pynetns.cli.details", "pynetns.pidns",
         "http.client", "json", "click", "pyroute2"}


def _imported(*args):
    proc = subprocess.run([sys.executable, "-X", "importtime", PYNETNS, *args],
                          capture_output=True, timeout=30)
    assert proc.returncode == 0, proc
    return {line.split("|")[-1].strip() for line in proc.stderr.decode().splitlines()
            if line.startswith("import time:")}


def test_hot_verbs_import_no_container_code(netns_name):
    other = netns_name.another()
    for args in (("list",), ("add", netns_name), ("attach", other, str(os.getpid())),
                 ("exec", netns_name, "true"), ("delete", other), ("delete", netns_name)):
        assert not _imported(*args) & HEAVY, args


@pytest.mark.parametrize("verb, words", [
    ("attach", ["--symlink", "--force", "--all-containers", "bind", "pins", "docker:",
                "podman:"]),
    ("prune", ["--dry-run", "dangling symlinks"]),
    ("exec", ["--pid", "/proc"]),
])
def test_help(verb, words):
    r = cli(verb, "--help")
    assert r.rc == 0
    text = " ".join(r.out.decode().split())
    for w in words:
        assert w in text, (w, text)


def test_prune_is_not_a_prefix_verb():
    assert cli("prun").rc == 255  # pynetns extensions are spelled in full
