#!/usr/bin/env python3
"""`pynetns exec pod:NS/NAME true` side by side with what it replaces, against the test
containerd of scripts/cri.sh (brought up here if it is not). Prints a Markdown table of
whole-process medians and ratios to `python -c pass`; exits 1 if a gate fails: exec pod: at
most 3x `python -c pass`, and not slower than the recipe (a lookup with the same client,
then `nsenter -n -t PID true`).

    .venv/bin/python bench/pods.py [--runs N] [--no-gate] [--venv DIR]

Needs root. Makes one pod and one entry (both removed at the end).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRI = str(ROOT / "scripts" / "cri.sh")
NAMESPACE, POD, ENTRY = "pynetns-bench", f"bench-{os.getpid()}", f"pynetns-bench-{os.getpid()}"
LOOKUP = ("import sys\nfrom pynetns import cri\n"
          "print(cri.find('pod:' + sys.argv[1]).pid)\n")
GRPCIO = """import json, os, sys
import grpc
from cri_api.v1 import api_pb2 as pb, api_pb2_grpc as rpc
stub = rpc.RuntimeServiceStub(grpc.insecure_channel(os.environ["CONTAINER_RUNTIME_ENDPOINT"]))
ns, name = sys.argv[1].split("/")
flt = pb.PodSandboxFilter(state=pb.PodSandboxStateValue(state=pb.SANDBOX_READY),
    label_selector={"io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.name": name})
sid = stub.ListPodSandbox(pb.ListPodSandboxRequest(filter=flt), timeout=10).items[0].id
r = stub.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid, verbose=True), timeout=10)
print(json.loads(r.info["info"])["pid"])
"""


def timed(argv, env, runs):
    """Median wall time (ms) of ``argv`` over ``runs`` runs after two warm-ups."""
    times = []
    for i in range(runs + 2):
        start = time.perf_counter()
        r = subprocess.run(argv, env=env, capture_output=True)
        elapsed = time.perf_counter() - start
        if r.returncode != 0:
            sys.exit(f"bench: {' '.join(argv)} failed: {r.stderr.decode().strip()}")
        if i >= 2:
            times.append(elapsed * 1000)
    return statistics.median(times)


def recipe(python, code, spec):
    """A lookup in one process, then nsenter into the PID it printed (through sh, ~1 ms)."""
    return ["sh", "-c", 'nsenter -n -t "$("$0" -c "$1" "$2")" true', python, code, spec]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-gate", action="store_true")
    parser.add_argument("--venv", default=str(ROOT / ".venv"))
    args = parser.parse_args()
    pynetns = f"{args.venv}/bin/pynetns"
    python = f"{args.venv}/bin/python"
    subprocess.run([CRI, "up"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(line.split("=", 1) for line in
               subprocess.run([CRI, "env"], capture_output=True, text=True).stdout.split())
    env = {"PATH": os.environ["PATH"], **env}
    sid = subprocess.run([CRI, "pod-run", NAMESPACE, POD], capture_output=True, text=True,
                         check=True).stdout.split()[0]
    spec = f"{NAMESPACE}/{POD}"
    try:
        subprocess.run([pynetns, "attach", ENTRY, f"pod:{spec}"], env=env, check=True)
        cases = [("python -c pass", [python, "-c", "pass"]),
                 ("pynetns exec NAME true", [pynetns, "exec", ENTRY, "true"]),
                 ("pynetns exec pod:NS/NAME true", [pynetns, "exec", f"pod:{spec}", "true"]),
                 ("recipe: our lookup + nsenter -n -t PID true", recipe(python, LOOKUP, spec))]
        grpc_python = "/var/cache/pynetns-cri/venv/bin/python"
        if os.access(grpc_python, os.X_OK):
            cases.append(("recipe: grpcio lookup + nsenter -n -t PID true",
                          recipe(grpc_python, GRPCIO, spec)))
        results = {label: timed(argv, env, args.runs) for label, argv in cases}
    finally:
        subprocess.run([pynetns, "delete", ENTRY], env=env, stderr=subprocess.DEVNULL)
        subprocess.run([CRI, "pod-rm", sid], check=False)
    base = results["python -c pass"]
    print("| case | median ms | x python -c pass |\n|---|---|---|")
    for label, ms in results.items():
        print(f"| {label} | {ms:.1f} | {ms / base:.2f} |")
    ours = results["pynetns exec pod:NS/NAME true"]
    failed = [g for g, bad in (
        ("exec pod: <= 3x python -c pass", ours > 3 * base),
        ("exec pod: <= the recipe", ours > results["recipe: our lookup + nsenter -n -t PID true"]))
        if bad]
    for gate in failed:
        print(f"gate failed: {gate}")
    return 1 if failed and not args.no_gate else 0


if __name__ == "__main__":
    sys.exit(main())
