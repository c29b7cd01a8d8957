"""Benchmark: what a running stack costs while nothing happens (CPU of each service, idle).

Starts a stack (``tests/support/stack.py``, the services forked as `gridgov up` forks them), lets it settle, then
reads each service process's CPU time (``/proc/<pid>/stat``: user + system) at the start and end of a quiet
window and gives the cores each used on average. Kafka and PostgreSQL themselves are not counted. Runs are
repeated, each on a fresh stack; the median of the runs' totals is written too.

Run:  uv run --frozen python bench/idle_stack.py [--stack embedded|distributed] [--seconds 30] [--runs 2] [--out F]
      (distributed: GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS and GRIDGOV_TEST_PG_ADMIN_URL set, as for the tests)
Results: bench/results/idle_stack_<stack>.json, or --out (write smoke runs to /tmp).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loop_throughput import cpu_seconds  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

SETTLE_S = 10.0  # after /readyz: demo data announced and learned, first rebalances done


def run_once(kind: str, seconds: float) -> dict:
    """One fresh stack: each service's cores over a quiet window of ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(kind, Path(tmp))
        stack.start()
        try:
            time.sleep(SETTLE_S)
            before = cpu_seconds(stack.procs)
            time.sleep(seconds)
            after = cpu_seconds(stack.procs)
        finally:
            stack.close()
    cores = {name: round((after[name] - before[name]) / seconds, 3) for name in before}
    return {"cores": cores, "total_cores": round(sum(cores.values()), 3),
            "loadavg_after": " ".join(f"{v:.2f}" for v in os.getloadavg())}


def main() -> None:
    """Run and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=("embedded", "distributed"), default="embedded")
    parser.add_argument("--seconds", type=float, default=30.0, help="the quiet window (default 30)")
    parser.add_argument("--runs", type=int, default=2, help="fresh stacks, one after the other (default 2)")
    parser.add_argument("--out", type=Path, help="default bench/results/idle_stack_<stack>.json")
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "results" / f"idle_stack_{args.stack}.json"
    runs = []
    for n in range(args.runs):
        runs.append(run_once(args.stack, args.seconds))
        print(f"[run {n + 1}] {json.dumps(runs[-1])}", flush=True)
    code = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "code": code.strip(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
              "stack": args.stack, "seconds": args.seconds,
              "median_total_cores": round(statistics.median(r["total_cores"] for r in runs), 3), "runs": runs}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"idle {args.stack} stack: median {result['median_total_cores']} cores in all; saved {out}")


if __name__ == "__main__":
    main()
