"""Benchmark: ``worktime.clock.start`` of another checkout against this tree's, in one process (issue #15).

A history load starts ~560,000 SLA clocks (2.7 per ticket), each a deadline, the stage's length in working
seconds and the warning's moment. Both variants start the same 50,000 clocks (random instants over 90 days, the
demo catalog's kinds of limit, warning share 0.8) on a fresh calendar each round (a worker's memo starts empty),
rounds interleaved (before, after, before …), and must make the same clocks. Wall µs per clock: min and median.

Run:  uv run --frozen python bench/clock_start.py --before-src /tmp/gg/base/services/dispatch/src [--rounds 7]
      [--save]
Results: bench/results/clock_start.json (earlier runs kept under "previous").
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

from gridgov_dispatch.worktime import clock as after_clock
from gridgov_dispatch.worktime import working_calendar as after_wc

RESULTS = Path(__file__).resolve().parent / "results" / "clock_start.json"
LIMITS = (("claim", 2.0, "working_hours"), ("handle", 3.0, "working_days"), ("verify", 24.0, "clock_hours"),
          ("handle", 1.0, "working_days"))


def _module(name: str, path: Path) -> ModuleType:
    """A module of the other checkout, loaded under its own name beside this tree's."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _starts(clock: ModuleType, wc: ModuleType, instants: list[datetime]) -> tuple[float, list]:
    """µs per clock over ``instants`` on a fresh calendar, and the clocks' fields."""
    cal = wc.WorkingCalendar(wc.package_tables())
    made = []
    t0 = time.perf_counter()
    for i, now in enumerate(instants):
        stage, amount, unit = LIMITS[i % len(LIMITS)]
        made.append(clock.start(cal, stage, amount, unit, now, 0.8))
    us = (time.perf_counter() - t0) / len(instants) * 1e6
    return us, [c.__dict__ for c in made]


def main() -> int:
    """Run the rounds; print (and with ``--save`` record) the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before-src", required=True, help="the dispatch src directory of the 'before' checkout")
    ap.add_argument("--clocks", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--label", default="interleaved")
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    worktime = Path(args.before_src) / "gridgov_dispatch" / "worktime"
    before_wc = _module("before_working_calendar", worktime / "working_calendar.py")
    before_clock = _module("before_clock", worktime / "clock.py")
    rng = random.Random(15)
    origin = datetime(2026, 8, 22, tzinfo=UTC)
    instants = [origin + timedelta(seconds=rng.randrange(90 * 86400), microseconds=rng.randrange(10**6))
                for _ in range(args.clocks)]
    us: dict[str, list[float]] = {"before": [], "after": []}
    same = True
    for _ in range(args.rounds):
        b, made_before = _starts(before_clock, before_wc, instants)
        a, made_after = _starts(after_clock, after_wc, instants)
        us["before"].append(round(b, 2))
        us["after"].append(round(a, 2))
        same = same and made_before == made_after
    result = {
        "label": args.label, "when": datetime.now(UTC).isoformat(timespec="seconds"), "clocks": args.clocks,
        "same_clocks": same, "us_per_clock": us,
        "min": {k: min(v) for k, v in us.items()}, "median": {k: statistics.median(v) for k, v in us.items()},
    }
    result["median_ratio_before_over_after"] = round(result["median"]["before"] / result["median"]["after"], 3)
    print(json.dumps(result, indent=1))
    if args.save:
        old = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
        runs = ([old["latest"], *old.get("previous", [])] if old else [])
        RESULTS.write_text(json.dumps({"latest": result, "previous": runs}, indent=1, ensure_ascii=False) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
