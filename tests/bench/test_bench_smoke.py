"""The benchmark runs end to end: `bench/run.py --quick --no-gate` builds its private
/run/netns, races every case against ip and prints the table. Nothing here is timed: the
numbers themselves are the benchmark's business, not a test's."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent


def test_quick_bench_runs_and_prints_every_case():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick",
                           "--no-gate", "--venv", str(VENV)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| case | pynetns | ip | pynetns/ip |" in proc.stdout
    cases = "\n".join(line.split(" | ")[0] for line in proc.stdout.splitlines())
    for case in ("list (3 namespaces)", "exec NAME true", "identify", "add NAME", "delete NAME",
                 "-batch:", "library add+delete", "identify PID", "pids NAME",
                 "half with nsid", "peak RSS of list"):
        assert case in cases, f"no row for {case!r} in:\n{proc.stdout}"
    assert "| request | median ms |" in proc.stdout, "no completion table (bench/completion.py)"
    assert "gate(s) failed" in proc.stdout


def test_bench_leaves_no_namespace_on_the_host():
    before = sorted(Path("/run/netns").iterdir()) if Path("/run/netns").is_dir() else []
    subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--no-gate",
                    "--only", "startup", "--venv", str(VENV)],
                   capture_output=True, timeout=120, check=True)
    after = sorted(Path("/run/netns").iterdir()) if Path("/run/netns").is_dir() else []
    assert [p for p in after if p not in before] == []
