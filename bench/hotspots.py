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

With ``--api``, the same cases (registered and closed events) are also loaded into an analytics app on the
embedded stack (SQLite) through the read model's history loader, with the demo grids as learned from the bus, and
the risk API is timed: each answer cold (computed) and warm (from the in-memory cache, same data version).

Run:  uv run --frozen python bench/hotspots.py [--runs 3] [--cases 200000] [--api]
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
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import shapely

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
        # sparse (series, day) counts: a dense area × category × day array would hold 40 M mostly-zero cells
        cells, per_cell = np.unique((area_of[grid] * CATEGORIES + category) * DAYS + np.minimum(day, DAYS - 1),
                                    return_counts=True)
        keys, cell_day = np.divmod(cells, DAYS)
        busy = np.unique(keys[per_cell >= 5])  # only series that can hold a surge (min_count 5)
        series = {}
        lo, hi = np.searchsorted(keys, busy, "left"), np.searchsorted(keys, busy, "right")  # keys are sorted
        for key, a, b in zip(busy, lo, hi, strict=True):
            values = np.zeros(DAYS, dtype=np.int64)
            values[cell_day[a:b]] = per_cell[a:b]
            series[(str(areas[key // CATEGORIES]), int(key % CATEGORIES))] = values
        n_series += len(series)
        spikes += surges(series, baseline_days=28, min_count=5, z_min=3.0)
    timings["surges_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    timings["_found"] = {"classes": result.summary(), "recurrences": len(found), "surges": len(spikes),
                         "surge_series": n_series}
    return timings


def api_timings(grids, cases: list[Case]) -> dict:
    """Load the cases into an analytics app (embedded stack) and time the risk API cold and warm."""
    import tempfile

    from fastapi.testclient import TestClient

    from gridgov_analytics.app import create_app
    from gridgov_analytics.cube.backfill import load_history
    from gridgov_analytics.grids import service as grid_service
    from gridgov_analytics.settings import AnalyticsSettings
    from gridgov_common.auth import mint_token
    from gridgov_common.events.grids import GridPublished
    from gridgov_common.events.tickets import TicketEvent
    from gridgov_common.settings import CommonSettings

    def event(case: Case, action: str, at: datetime) -> TicketEvent:
        return TicketEvent(ticket_id=case.ticket_id, report_id=f"R-{case.ticket_id}", action=action,
                           from_state=None, to_state=action, category_code=case.category_code,
                           department="urban-management", grid_code=case.grid_code,
                           village_code=case.grid_code[:12], town_code=case.grid_code[:9], reporter_id="bench",
                           deadline=case.registered_at + timedelta(days=3), actor_id="dispatch",
                           actor_role="system", occurred_at=at, channel="hotline")

    secret = "bench-secret-" + "x" * 32
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        common = CommonSettings(data_dir=Path(tmp), jwt_secret=secret, log_json=False)
        with TestClient(create_app(AnalyticsSettings(common=common, run_consumers=False))) as client:
            db = client.app.state.runtime.db
            t = time.perf_counter()
            with db.session() as session:
                for g in grids:
                    grid_service.store_grid(session, GridPublished(
                        grid_code=g.code, grid_name=g.name, village_code=g.code[:12], town_code=g.code[:9],
                        grid_set_version="1", boundary=json.loads(shapely.to_geojson(g.geometry)),
                        published_at=NOW))
                session.commit()
            events = [("ticket.registered", event(c, "register", c.registered_at)) for c in cases]
            events += [("ticket.closed", event(c, "close", c.closed_at)) for c in cases if c.closed_at]
            events.sort(key=lambda e: e[1].occurred_at)
            stats = load_history(db, events)
            out["load_s"] = round(time.perf_counter() - t, 2)
            out["events"] = stats.events
            headers = {"Authorization": "Bearer " + mint_token(secret, sub="bench", role="command_centre")}
            last = (NOW - timedelta(days=1)).astimezone(timezone(timedelta(hours=8))).date()
            year = {"from": (last - timedelta(days=363)).isoformat(), "to": last.isoformat()}
            quarter = {"from": (last - timedelta(days=89)).isoformat(), "to": last.isoformat()}
            for name, path, params in (("hotspots_52_weeks", "/v1/risk/hotspots", year),
                                       ("hotspots_13_weeks", "/v1/risk/hotspots", quarter),
                                       ("hotspots_geojson_52_weeks", "/v1/risk/hotspots.geojson", year),
                                       ("recurrences_90_days", "/v1/risk/recurrences", quarter),
                                       ("surges_grid_90_days", "/v1/risk/surges", {**quarter, "level": "grid"}),
                                       ("surges_town_90_days", "/v1/risk/surges", {**quarter, "level": "town"})):
                timing = {}
                for label in ("cold_s", "warm_s"):
                    t = time.perf_counter()
                    resp = client.get(path, params=params, headers=headers)
                    timing[label] = round(time.perf_counter() - t, 3)
                    if resp.status_code != 200:
                        raise SystemExit(f"{path}: {resp.status_code} {resp.text[:300]}")
                timing["bytes"] = len(resp.content)
                if path == "/v1/risk/hotspots":
                    timing["summary"] = resp.json()["summary"]
                else:
                    timing["items"] = len(resp.json().get("items", resp.json().get("features", [])))
                out[name] = timing
                print(name, timing, flush=True)
    return out


def main() -> None:
    """Run the benchmark and write bench/results/hotspots.json."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--api", action="store_true", help="also time the risk API on the embedded stack")
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
    api = api_timings(grids, cases) if args.api else None
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
    if api is not None:
        out["api_embedded_stack"] = api
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out["median"]), "->", args.out)


if __name__ == "__main__":
    main()
