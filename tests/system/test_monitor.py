"""`monitor` (and its prefix `m`): the same `add NAME` / `delete NAME` lines as ip, written
as they happen (ip only writes them when its buffer fills or it exits)."""
import select
import subprocess

import pytest

from conftest import PYNETNS
from netns_diff import Raw, private

EVENTS = """
for i in $(seq 50); do [ -s "$T/started" ] && break; sleep 0.05; done
sleep 0.2
$IP netns add x
touch /run/netns/plain
$IP netns delete x
rm /run/netns/plain
sleep 0.2
"""


def monitored(tool):
    script = (f'{{ {tool} & echo $! >"$T/started"; }} >"$T/mon" 2>&1\n' + EVENTS +
              'kill $(cat "$T/started"); wait || true\ncat "$T/mon"\n')
    return private([["bash", "-c", script]], "export T\n")[0]


@pytest.mark.parametrize("verb", ["monitor", "m"])
def test_monitor_lines_match_ip(verb):
    ip = monitored(f"stdbuf -oL $IP netns {verb}")  # killed, ip would lose its buffer
    py = monitored(f"$PYNETNS {verb}")
    assert py.out == ip.out == b"add x\nadd plain\ndelete x\ndelete plain\n"


def test_monitor_creates_the_run_dir():
    setup = "umount /run/netns\nmount -t tmpfs tmpfs /run\n"
    ip, py = (private([["timeout", "0.5", Raw(tool), "monitor"]], setup,
                      after="stat -c %a /run/netns")[0] for tool in ("$IP netns", "$PYNETNS"))
    assert py.triple() == ip.triple() == (124, b"", b"")
    assert py.extra == ip.extra == b"755\n"


def test_monitor_flushes_each_line(netns_name):
    mon = subprocess.Popen([PYNETNS, "monitor"], stdout=subprocess.PIPE)
    try:
        # Add names until one shows up while monitor is still running: until the watch is
        # in place nothing does; without a flush per line nothing would come at all.
        added = set()
        for attempt in range(50):
            name = netns_name.another(f"m{attempt}-")
            subprocess.run([PYNETNS, "add", name], check=True)
            added.add(f"add {name}\n".encode())
            while select.select([mon.stdout], [], [], 0.1)[0]:
                if mon.stdout.readline() in added:
                    return
        pytest.fail("monitor printed none of our adds")
    finally:
        mon.kill()
        mon.wait()
