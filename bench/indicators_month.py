"""Benchmark: the indicators (综合评价, ``GET /v1/indicators``) of a month of the demo city's history (issue #15).

Reads the dispatch database of a data directory with a generated history (``gridgov history generate``) and times
what the endpoint does for a period, per ``group_by``, without HTTP: the per-ticket facts path (``case_facts`` +
``formulas.evaluate``, the reference the formulas are written for) and the aggregated path the endpoint uses
(``service.evaluate_period``), interleaved A, B, A, B … in one run. Both answers must be equal (the run stops if
not). CPU ms are the process's CPU time of each call; wall ms are noted with the load average.

Run:  uv run --frozen python bench/indicators_month.py --data-dir DIR [--period 2026-11] [--runs 5] [--profile]
Results: bench/results/indicators_month.json (with --save).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def main() -> int:
    """Time both paths on the data directory's dispatch database and print (and save) the medians."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--period", default="2026-11")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="cProfile one call of each path (top 25 by cumtime)")
    ap.add_argument("--only", choices=("facts", "aggregated"), help="time one path only")
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    os.environ["GRIDGOV_DATA_DIR"] = str(Path(args.data_dir).resolve())
    from gridgov_dispatch.app import build_runtime
    from gridgov_dispatch.indicators import formulas, service

    db = build_runtime().db
    period = formulas.parse_period(args.period)
    now = datetime.now(UTC)

    def facts_path(group_by: str):
        with db.session() as session:
            facts = service.case_facts(session, period, now)
        return formulas.evaluate(facts, period, now, group_by)

    def aggregated_path(group_by: str):
        with db.session() as session:
            return service.evaluate_period(session, period, now, group_by)

    paths = {"facts": facts_path, "aggregated": aggregated_path}
    if args.only:
        paths = {args.only: paths[args.only]}
    if hasattr(service, "evaluate_period") and len(paths) == 2:
        for group_by in ("department", "town"):
            if facts_path(group_by) != aggregated_path(group_by):
                print(f"DIFFERENT answers for group_by={group_by}", file=sys.stderr)
                return 1
    elif "aggregated" in paths and not hasattr(service, "evaluate_period"):
        paths.pop("aggregated")
    if args.profile:
        for name, fn in paths.items():
            prof = cProfile.Profile()
            prof.runcall(fn, "department")
            print(f"--- {name}")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    load_before = _loadavg()
    samples: dict[str, dict[str, list[float]]] = {n: {"cpu_ms": [], "wall_ms": []} for n in paths}
    for _ in range(args.runs):
        for name, fn in paths.items():
            for group_by in ("department", "town"):
                c0, w0 = time.process_time(), time.perf_counter()
                fn(group_by)
                samples[name]["cpu_ms"].append((time.process_time() - c0) * 1000)
                samples[name]["wall_ms"].append((time.perf_counter() - w0) * 1000)
    result = {
        "what": f"GET /v1/indicators work without HTTP, period {args.period}, both group_by, SQLite, "
                f"data dir {args.data_dir}",
        "runs": args.runs, "load_before": load_before, "load_after": _loadavg(),
        "medians": {n: {k: round(statistics.median(v), 1) for k, v in s.items()} for n, s in samples.items()},
    }
    if len(paths) == 2:
        m = result["medians"]
        result["cpu_ratio_facts_over_aggregated"] = round(m["facts"]["cpu_ms"] / m["aggregated"]["cpu_ms"], 1)
    print(json.dumps(result, indent=1))
    if args.save:
        out = ROOT / "bench" / "results" / "indicators_month.json"
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
