"""Fixtures of the stress suite and its report. The package __init__ keeps this module from
being imported as `conftest`, which the other tests import the root conftest by."""
import pytest

from .support import FIGURES, World


@pytest.fixture
def world():
    """A private mount + PID namespace with a fresh /run (see world.py)."""
    with World() as w:
        yield w


def pytest_terminal_summary(terminalreporter):
    if not any(FIGURES.values()):
        return
    terminalreporter.section("stress figures")
    for name, value in FIGURES.items():
        terminalreporter.write_line(f"{name:>20}: {value}")
