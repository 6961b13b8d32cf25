"""bench/pods.py runs end to end against the test containerd and removes what it made."""
import os
import subprocess
import sys

from conftest import ROOT

from engines.test_pods import cri_env


def test_pods_bench_runs(cri_env):
    venv = os.path.dirname(os.path.dirname(sys.executable))
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "pods.py"), "--runs", "1",
                        "--no-gate", "--venv", venv], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    rows = [line.split(" | ")[0].lstrip("| ") for line in r.stdout.splitlines()[2:]]
    assert rows[:4] == ["python -c pass", "pynetns exec NAME true",
                        "pynetns exec pod:NS/NAME true",
                        "recipe: our lookup + nsenter -n -t PID true"]
    left = subprocess.run([str(ROOT / "scripts" / "cri.sh"), "pods"], capture_output=True,
                          text=True).stdout
    assert "pynetns-bench/" not in left
