"""The README's library example runs as written, and prints what its comments say
(in a private mount and network namespace, with empty tmpfs on /run/netns and
/run/pynetns: the records a container attach writes stay in there too)."""
import re
import shlex
import sys

from conftest import ROOT, in_private_run_dir


def readme_python():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", text, re.S | re.M)
    assert len(blocks) == 1, "the README has one python block: this test runs it"
    return blocks[0]


def test_readme_library_block_runs():
    code = readme_python()
    script = ("mkdir -p /run/pynetns && mount -t tmpfs tmpfs /run/pynetns\n"
              f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}\n")
    r = in_private_run_dir(script, net=True)
    assert (r.rc, r.err) == (0, b""), r
    lines = r.out.decode().splitlines()
    assert lines[0] == "[(1, 'lo')]"
    dev, ino = eval(lines[1])  # the handle's identity
    assert dev > 0 and f"blue {ino} bind [] None None" in lines
    # No container "web" here (unless someone runs one): the error, not a traceback.
    assert lines[2] == 'docker: no such container "web"' or \
        lines[2].startswith("/run/netns/web docker container ")
    assert lines[-1] == ('nope 2 Cannot remove namespace file "/run/netns/nope": '
                         "No such file or directory")
