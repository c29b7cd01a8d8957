"""Benchmark: a full recompute of the risk map's statistics on the demo city (issue #15: goal ≤ 60 s).

One recompute is what the analytics service does for a city-wide view of 52 weeks, from scratch:
1. the grid adjacency from the stored boundaries: 2,930 GeoJSON texts (``learned_grid.boundary_geojson``) parsed
   and queen contiguity built (``risk/adjacency.py``);
2. the emerging hot spot analysis of the 2,930 × 52 weekly cube: space-time Gi* (FDR over 152,360 bins) and a
   Mann–Kendall trend per grid (``risk/emerging.py``);
3. recurrence over ~200,000 cases of the last 90 days-and-more (``risk/recurrence.py``);
4. surges over every (grid, village, town) × category series of daily counts of the year (``risk/surges.py``).
The cases are synthetic (seeded): ~200,000 over 364 days, grids drawn with the planted patterns' weights of
``risk/planted.py`` (30 patterns on the demo city), 40 catalog classes, a closure 0–20 days after registration
for 90 % of them. Each stage is timed; the total is the median of 3 runs. The machine's load average is recorded
before and after (the machine is shared; the figure is a wall-clock time under that load).

Run:  uv run --frozen python bench/hotspots.py [--runs 3] [--cases 200000]
Results: bench/results/hotspots.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely
from scipy.sparse import csr_matrix

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_analytics.risk.adjacency import grid_adjacency  # noqa: E402
from gridgov_analytics.risk.emerging import emerging_hot_spots  # noqa: E402
from gridgov_analytics.risk.planted import Shapes, planted_cube  # noqa: E402
from gridgov_analytics.risk.recurrence import Case, recurrences  # noqa: E402
from gridgov_analytics.risk.surges import surges  # noqa: E402
from gridgov_grid_registry.grids.demo import demo_grid_set  # noqa: E402

DAYS = 364
CATEGORIES = 40
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def synthetic_cases(codes: list[str], weights: np.ndarray, n: int, seed: int) -> list[Case]:
    """``n`` cases over the year: grids by ``weights[grid, week]``, 40 classes, 90 % closed within 20 days."""
    rng = np.random.default_rng(seed)
    flat = weights.ravel() / weights.sum()
    cell = rng.choice(flat.size, size=n, p=flat)
    grid, week = np.divmod(cell, weights.shape[1])
    seconds = week * 7 * 86400 + rng.integers(0, 7 * 86400, size=n)
    category = rng.zipf(1.6, size=n) % CATEGORIES
    closed = rng.random(n) < 0.9
    closing = rng.uniform(0.1, 20.0, size=n) * 86400
    start = NOW - timedelta(days=DAYS)
    out = []
    for k in range(n):
        registered = start + timedelta(seconds=int(seconds[k]))
        out.append(Case(f"t{k:07d}", codes[grid[k]], f"01{category[k]:03d}", registered,
                        registered + timedelta(seconds=float(closing[k])) if closed[k] else None))
    return out


def run_once(geojson: list[str], codes: list[str], cases: list[Case]) -> dict[str, float]:
    """One full recompute, timed by stage (seconds)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    adj = grid_adjacency(codes, list(shapely.from_geojson(geojson)))
    timings["adjacency_s"] = time.perf_counter() - t0

    t = time.perf_counter()  # the weekly cube and the daily series, as the read model's counts give them
    index = {code: i for i, code in enumerate(adj.codes)}
    start = NOW - timedelta(days=DAYS)
    grid = np.fromiter((index[c.grid_code] for c in cases), dtype=np.int64, count=len(cases))
    day = np.fromiter(((c.registered_at - start).days for c in cases), dtype=np.int64, count=len(cases))
    category = np.fromiter((int(c.category_code[2:]) for c in cases), dtype=np.int64, count=len(cases))
    cube = np.bincount(grid * 52 + np.minimum(day // 7, 51), minlength=len(codes) * 52).reshape(len(codes), 52)
    daily = np.bincount((grid * CATEGORIES + category) * DAYS + np.minimum(day, DAYS - 1),
                        minlength=len(codes) * CATEGORIES * DAYS).reshape(len(codes) * CATEGORIES, DAYS)
    timings["counts_s"] = time.perf_counter() - t

    t = time.perf_counter()
    result = emerging_hot_spots(cube, adj, alpha=0.05, neighbourhood_steps=1)
    timings["emerging_s"] = time.perf_counter() - t

    t = time.perf_counter()
    found = recurrences(cases, min_cases=3, window_days=90, now=NOW)
    timings["recurrence_s"] = time.perf_counter() - t

    t = time.perf_counter()  # the three levels the API offers: grid, village (12-digit prefix), town (9-digit)
    spikes = []
    n_series = 0
    for width in (15, 12, 9):
        areas, area_of = np.unique([code[:width] for code in adj.codes], return_inverse=True)
        rows = (area_of[:, None] * CATEGORIES + np.arange(CATEGORIES)[None, :]).ravel()
        summing = csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(areas) * CATEGORIES,
                                                                                       len(rows)))
        level = (summing @ daily).astype(np.int64)
        keep = np.flatnonzero(level.max(axis=1) >= 5)  # only series that can hold a surge (min_count 5)
        series = {(str(areas[r // CATEGORIES]), r % CATEGORIES): level[r] for r in keep}
        n_series += len(series)
        spikes += surges(series, baseline_days=28, min_count=5, z_min=3.0)
    timings["surges_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    timings["_found"] = {"classes": result.summary(), "recurrences": len(found), "surges": len(spikes),
                         "surge_series": n_series}
    return timings


def main() -> None:
    """Run the benchmark and write bench/results/hotspots.json."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--out", default=str(ROOT / "bench/results/hotspots.json"))
    args = parser.parse_args()

    load_before = os.getloadavg()
    grids = [a for a in demo_grid_set().areas if a.level == "grid"]
    codes = [g.code for g in grids]
    geojson = [shapely.to_geojson(g.geometry) for g in grids]
    adj = grid_adjacency(codes, [g.geometry for g in grids])
    planted = planted_cube(adj, n_steps=52, n_patterns=30, seed=15)
    weights = np.full(planted.counts.shape, 1.0)
    shapes = Shapes()
    for pattern in planted.patterns:  # the planted shapes steer where the synthetic cases fall
        weights[list(pattern.rows), :] = shapes.multiplier(pattern.kind, 52)[None, :]
    t = time.perf_counter()
    cases = synthetic_cases(list(adj.codes), weights, args.cases, seed=15)
    generate_s = time.perf_counter() - t

    runs = []
    for _ in range(args.runs):
        runs.append(run_once(geojson, codes, cases))
        print({k: round(v, 3) for k, v in runs[-1].items() if k != "_found"}, flush=True)
    load_after = os.getloadavg()
    stages = [k for k in runs[0] if k.endswith("_s")]
    medians = {k: round(statistics.median(r[k] for r in runs), 3) for k in stages}
    recall = sum(
        sum(cls == p.expected_class for cls in emerging_hot_spots(planted.counts, adj).classes[list(p.rows)])
        > len(p.rows) / 2 for p in planted.patterns) / len(planted.patterns)
    out = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "processor": platform.machine(), "cpus": os.cpu_count(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after]},
        "goal_s": 60.0,
        "grids": len(codes), "weeks": 52, "bins": len(codes) * 52, "cases": len(cases), "categories": CATEGORIES,
        "surge_days": DAYS, "case_generation_s": round(generate_s, 2),
        "runs": args.runs,
        "median": medians,
        "each_run": [{k: round(r[k], 3) for k in stages} for r in runs],
        "found": runs[-1]["_found"],
        "planted_cube_recall_seed15": recall,
    }
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out["median"]), "->", args.out)


if __name__ == "__main__":
    main()
