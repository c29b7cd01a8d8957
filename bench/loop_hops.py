"""Benchmark: where a report's time goes between acceptance and dispatch, hop by hop (issue #18's p99 goal).

On the embedded stack, posts reports at a fixed rate (as ``bench/loop_throughput.py``'s latency phase does), then
reads the embedded log itself: each message's ``appended_at`` (when its producer's relay published it) and its
envelope's ``occurred_at`` (when the producing handler built it), per report:

  submitted (intake) → report.received on the log → located (grid-registry's handler) → report.located on the log
  → dispatched (dispatch's handler) → ticket.dispatched on the log

and gives p50/p90/p99 of each hop and of submitted → dispatched (the loop benchmark's figure). Runs are
repeated, each on a fresh stack; the medians of the runs' percentiles are written too.

Run:  uv run --frozen python bench/loop_hops.py [--rate 100] [--seconds 20] [--runs 2] [--out F]
Results: bench/results/loop_hops.json, or --out (write smoke runs to /tmp).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loop_throughput import fixed_rate, percentile, settle  # noqa: E402
from tests.support.stack import BUS_SERVICES, Stack  # noqa: E402

# (hop, from, to): the times each report's messages carry, in the loop's order.
HOPS = (
    ("submitted → report.received on the log (intake's group commit and relay)", "submitted", "received_on_log"),
    ("→ located (the log, grid-registry's poll, batch and handler)", "received_on_log", "located"),
    ("→ report.located on the log (grid-registry's commit and relay)", "located", "located_on_log"),
    ("→ dispatched (the log, dispatch's poll, batch and handler)", "located_on_log", "dispatched"),
    ("submitted → dispatched (the loop benchmark's latency)", "submitted", "dispatched"),
    ("dispatched → ticket.dispatched on the log (dispatch's commit and relay)", "dispatched", "dispatched_on_log"),
)


def _instant(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def report_times(bus_path: Path, since: float) -> dict[str, dict[str, float]]:
    """Per report id: the times its messages on the log carry (see ``HOPS``)."""
    times: dict[str, dict[str, float]] = {}
    conn = sqlite3.connect(bus_path)
    try:
        rows = conn.execute("SELECT value, appended_at FROM log WHERE appended_at >= ?", (since,))
        for value, appended in rows:
            envelope = json.loads(value)
            kind, payload = envelope["type"], envelope.get("payload") or {}
            if kind == "report.received":
                t = times.setdefault(envelope["key"], {})
                t["submitted"], t["received_on_log"] = _instant(payload["submitted_at"]), appended
            elif kind == "report.located":
                t = times.setdefault(envelope["key"], {})
                t["located"], t["located_on_log"] = _instant(envelope["occurred_at"]), appended
            elif kind == "ticket.dispatched" and payload.get("report_id"):
                t = times.setdefault(payload["report_id"], {})
                if "dispatched" not in t:  # the first dispatch (a re-dispatch later is another story)
                    t["dispatched"], t["dispatched_on_log"] = _instant(envelope["occurred_at"]), appended
    finally:
        conn.close()
    return times


def complete(times: dict[str, dict[str, float]]) -> list[dict[str, float]]:
    """The reports whose every time (see ``HOPS``) is known."""
    keys = {k for _, a, b in HOPS for k in (a, b)}
    return [t for t in times.values() if keys <= t.keys()]


def hop_percentiles(reports: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """p50/p90/p99 in ms of each hop over these reports (``complete``)."""
    out: dict[str, dict[str, float]] = {}
    for name, a, b in HOPS:
        ms = [1000 * (t[b] - t[a]) for t in reports]
        out[name] = {"p50_ms": round(statistics.median(ms), 1), "p90_ms": round(percentile(ms, 0.9), 1),
                     "p99_ms": round(percentile(ms, 0.99), 1)}
    return out


def run_once(rate: float, seconds: float) -> dict:
    """One fresh embedded stack: settle, post at ``rate`` for ``seconds``, let the loop finish, read the log."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack("embedded", Path(tmp), extra_env={"GRIDGOV_LOG_JSON": "true"})
        try:
            stack.start()
            consumers = {name: stack.url(name) for name in BUS_SERVICES}
            settled = settle(consumers)
            since = time.time()
            accepted = fixed_rate(stack.urls.intake, stack.mint(sub="bench", role="grid_worker"), rate, seconds)
            settle(consumers)  # every accepted report through the loop before the log is read
            reports = complete(report_times(Path(tmp) / "bus.db", since))
        finally:
            stack.close()
    return {"accepted": accepted, "complete": len(reports), "settled_s_after_start": settled,
            "loadavg_after": " ".join(f"{v:.2f}" for v in os.getloadavg()), "hops": hop_percentiles(reports)}


def main() -> None:
    """Run and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="reports per second (default 100)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to post (default 20)")
    parser.add_argument("--runs", type=int, default=2, help="fresh stacks, one after the other (default 2)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "loop_hops.json")
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        runs.append(run_once(args.rate, args.seconds))
        print(f"[run {n + 1}] {json.dumps(runs[-1], ensure_ascii=False)}", flush=True)
    medians = {name: {q: round(statistics.median(r["hops"][name][q] for r in runs), 1)
                      for q in ("p50_ms", "p90_ms", "p99_ms")} for name, _, _ in HOPS}
    code = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "code": code.strip(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
              "stack": "embedded", "rate_per_s": args.rate, "seconds": args.seconds,
              "median_of_runs": medians, "runs": runs}
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    for name, q in medians.items():
        print(f"{name:78s} p50 {q['p50_ms']:7.1f}  p90 {q['p90_ms']:7.1f}  p99 {q['p99_ms']:7.1f} ms")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
