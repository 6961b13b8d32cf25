"""Fixtures of the clients tier. The package __init__ keeps this module from being imported
as `conftest`, which the tests import the root conftest by."""
import os
import shlex

import pytest

from conftest import PYNETNS

# As the root conftest does for its tiers: without root nothing here can even set up.
collect_ignore = [] if os.geteuid() == 0 else ["test_shim.py", "test_clients.py"]


class Logged:
    """A $PYNETNS for the shim that notes each command line it is given, then execs the
    real pynetns (exec, so PIDs and exit statuses are pynetns's own)."""

    def __init__(self, tmp):
        self.log = tmp / "pynetns.calls"
        self.path = tmp / "pynetns"
        log = shlex.quote(str(self.log))
        self.path.write_text(f"#!/bin/sh\nprintf '%s\\037' \"$@\" >>{log}\necho >>{log}\n"
                             f"exec {shlex.quote(PYNETNS)} \"$@\"\n")
        self.path.chmod(0o755)

    def calls(self):
        """The argv of each run so far."""
        try:
            text = self.log.read_text()
        except FileNotFoundError:
            return []
        return [line.split("\x1f")[:-1] for line in text.splitlines()]

    def clear(self):
        self.log.unlink(missing_ok=True)


@pytest.fixture
def logged_pynetns(tmp_path):
    return Logged(tmp_path)
