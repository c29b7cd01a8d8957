"""Benchmark: the risk map's views computed from the read model of a generated history, a base tree against this
tree, interleaved (issue #15: the command centre's first asker after a start, and every refresh of a live city,
waits for these).

What the console asks on opening the risk map with its default range (the last 12 whole weeks): hot spots,
recurrences (limit 50) and surges at grid and at town level; each view computed cold (the service's answer cache
emptied; the grid adjacency kept, as a running service keeps it). Each variant runs in a fresh process with its
tree's packages first on ``PYTHONPATH`` (as ``bench/history_generate.py``), on the same ``analytics.db``; the
variants alternate. Per view: CPU seconds of each round, and a digest of the answers (city-wide and for one town
and catalog class), which must be the same for both variants.

Run:  uv run --frozen gridgov history generate …   (or bench/history_generate.py --child --dir D --days 90 …)
      uv run --frozen python bench/risk_views.py --data-dir D --before-tree /tmp/gg/base [--rounds 3] [--save]
Results: bench/results/risk_views.json (earlier runs kept under "previous").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.history_generate import source_path  # noqa: E402  (a tree's packages first on PYTHONPATH)

RESULTS = ROOT / "bench" / "results" / "risk_views.json"
VIEWS = ("hotspots", "recurrences", "surges_grid", "surges_town")


def child(data_dir: Path, weeks: int, repeats: int) -> None:
    """Compute each view ``repeats`` times cold in this process (whichever code ``PYTHONPATH`` gives); print JSON."""
    os.environ["GRIDGOV_DATA_DIR"] = str(data_dir)
    import sqlite3

    from gridgov_analytics.app import build_runtime
    from gridgov_analytics.risk import handlers
    from gridgov_analytics.trends import filters
    from gridgov_analytics.trends import handlers as trends

    db = build_runtime().db
    conn = sqlite3.connect(data_dir / "analytics.db")
    (last_day,) = conn.execute("SELECT max(day) FROM daily_count").fetchone()
    (town,) = conn.execute("SELECT town_code FROM daily_count WHERE town_code != '' LIMIT 1").fetchone()
    conn.close()
    end = datetime.fromisoformat(last_day).date()
    end -= timedelta(days=end.isoweekday())  # the last whole week ends on the Sunday before, as the console's
    window = filters.parse_window((end - timedelta(days=7 * weeks - 1)).isoformat(), end.isoformat(),
                                  trends.local_today())
    with db.snapshot() as session:
        city = trends.check(session, window, None, [], [])
        narrow = trends.check(session, window, ("town", town), ["01"], [])
    ask = {"hotspots": lambda f: handlers.hotspots(db, f).read,
           "recurrences": lambda f: handlers.recurrence_list(db, f, limit=50),
           "surges_grid": lambda f: handlers.surge_list(db, f, level="grid", limit=100),
           "surges_town": lambda f: handlers.surge_list(db, f, level="town", limit=100)}
    ask["hotspots"](city)  # the adjacency, built once per grid set by a running service
    out: dict = {"window": [window.start.isoformat(), window.end.isoformat()], "cpu_s": {}, "digest": {}}
    for _ in range(repeats):
        for view in VIEWS:
            handlers._results = handlers._Answers(handlers.CACHE_ENTRIES)  # cold: nothing kept
            t0 = time.process_time()
            answer = ask[view](city)
            out["cpu_s"].setdefault(view, []).append(round(time.process_time() - t0, 3))
            both = answer.model_dump_json() + ask[view](narrow).model_dump_json()
            out["digest"][view] = hashlib.sha256(both.encode()).hexdigest()[:16]
    print(json.dumps(out))


def main() -> int:
    """Run the variants interleaved; print (and with ``--save`` record) the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True, help="a data directory with a generated history")
    ap.add_argument("--before-tree", help="a git worktree of the base commit (required unless --child)")
    ap.add_argument("--weeks", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of (before, after) processes")
    ap.add_argument("--repeats", type=int, default=2, help="cold computations of each view per process")
    ap.add_argument("--label", default="interleaved")
    ap.add_argument("--save", action="store_true")
    ap.add_argument("--child", action="store_true")
    args = ap.parse_args()
    data_dir = Path(args.data_dir).resolve()
    if args.child:
        child(data_dir, args.weeks, args.repeats)
        return 0
    if not args.before_tree:
        ap.error("--before-tree is required")
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for variant, tree in (("before", Path(args.before_tree)), ("after", ROOT)):
            env = {**os.environ, "GRIDGOV_LOG_LEVEL": "WARNING", "PYTHONPATH": source_path(tree)}
            cmd = [sys.executable, __file__, "--child", "--data-dir", str(data_dir), "--weeks", str(args.weeks),
                   "--repeats", str(args.repeats)]
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
            if done.returncode != 0:
                raise SystemExit(f"{variant} failed:\n{done.stderr[-3000:]}")
            runs[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(variant, runs[variant][-1]["cpu_s"], flush=True)
    same = all(r["digest"] == runs["before"][0]["digest"] for v in runs.values() for r in v)
    medians = {v: {view: statistics.median(x for r in rs for x in r["cpu_s"][view]) for view in VIEWS}
               for v, rs in runs.items()}
    result = {"label": args.label, "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "window": runs["after"][0]["window"], "same_answers": same, "median_cpu_s": medians,
              "ratio_before_over_after": {view: round(medians["before"][view] / medians["after"][view], 2)
                                          for view in VIEWS},
              "runs": runs, "load": Path("/proc/loadavg").read_text().strip()}
    print(json.dumps({k: result[k] for k in ("same_answers", "median_cpu_s", "ratio_before_over_after")}, indent=1))
    if args.save:
        old = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
        previous = [old["latest"], *old.get("previous", [])] if old else []
        RESULTS.write_text(json.dumps({"latest": result, "previous": previous}, indent=1, ensure_ascii=False) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
