"""Benchmark: the gazetteer (address → place, issue #17) on the 300 hand-written evaluation addresses.

The gazetteer is built as the service builds it: the demo grid set (generator "dongguan") and the demo roads and
landmarks (places/data/landmarks_demo.csv), each landmark located once in the set. Every line of
places/data/eval_addresses.tsv (address, town_code, village_code; written by hand, never used to build anything)
is resolved, and compared with what its writer meant:

- right village: lines naming a village whose answer names that village (status village_only or located);
- right town: every line naming a town (or a village) whose answer names that town;
- nothing named: lines naming no place that come back unlocated (or below confidence 0.5);
- wrong town, confident: answers naming another town than meant (or any town where none was meant) with
  confidence ≥ 0.8 — the goal is none;
- time per address: p50 and p99 over single calls.

Goals (issue #17): right village ≥ 85 %; wrong town with confidence ≥ 0.8: 0.

Run:  uv run python bench/assist_addresses.py
Results: bench/results/assist_addresses.json.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from gridgov_grid_registry.grids.generator import generated
from gridgov_grid_registry.grids.index import GridIndex
from gridgov_grid_registry.places.gazetteer import Gazetteer, PlacePoint, areas_from_records
from gridgov_grid_registry.places.handlers import demo_seed_text

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "services/grid-registry/src/gridgov_grid_registry/places/data/eval_addresses.tsv"
RESULTS = ROOT / "bench/results/assist_addresses.json"
CONFIDENT = 0.8


def demo_gazetteer() -> Gazetteer:
    """The gazetteer of the demo city with its seeded roads and landmarks."""
    city = generated("dongguan").grid_set
    index = GridIndex(city.areas, city.version)
    points = []
    for row in csv.DictReader(io.StringIO(demo_seed_text())):
        lon, lat = float(row["lon"]), float(row["lat"])
        where = index.locate(lon, lat)
        points.append(PlacePoint(row["name"], tuple(a for a in row["aliases"].split("|") if a), row["kind"],
                                 lon, lat, where.grid_code, where.village_code, where.town_code))
    return Gazetteer(areas_from_records(city.areas), points, city.version)


def main() -> None:
    """Resolve every evaluation address and write the figures."""
    started = time.perf_counter()
    gazetteer = demo_gazetteer()
    build_s = time.perf_counter() - started
    with EVAL.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    village_rows = town_rows = nothing_rows = 0
    right_village = right_town = nothing_ok = confident_wrong = 0
    status_counts: dict[str, int] = {}
    misses: list[dict] = []
    times: list[float] = []
    for row in rows:
        address, town, village = row["address"], row["town_code"].strip(), row["village_code"].strip()
        t0 = time.perf_counter()
        r = gazetteer.resolve(address)
        times.append(time.perf_counter() - t0)
        status_counts[r.status] = status_counts.get(r.status, 0) + 1
        wrong_town = r.town_code is not None and r.town_code != (town or None)
        if wrong_town and r.confidence >= CONFIDENT:
            confident_wrong += 1
        ok = True
        if village:
            village_rows += 1
            hit = r.village_code == village and r.status in ("village_only", "located")
            right_village += hit
            ok = hit
        if town:
            town_rows += 1
            right_town += r.town_code == town
            ok = ok and r.town_code == town
        if not town and not village:
            nothing_rows += 1
            fine = r.status == "unlocated" or r.confidence < 0.5
            nothing_ok += fine
            ok = fine
        if not ok or (wrong_town and r.confidence >= CONFIDENT):
            misses.append({"address": address, "town_code": town, "village_code": village, "status": r.status,
                           "got_town": r.town_code, "got_village": r.village_code,
                           "matched_text": r.matched_text, "confidence": r.confidence})
    us = sorted(t * 1e6 for t in times)
    report = {
        "benchmark": "assist_addresses",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "gazetteer": {"grid_set": gazetteer.version, "names": len(gazetteer), "landmarks": len(gazetteer.points),
                      "build_s": round(build_s, 3)},
        "addresses": len(rows),
        "village_rows": village_rows,
        "right_village": right_village,
        "right_village_share": round(right_village / village_rows, 4) if village_rows else None,
        "town_rows": town_rows,
        "right_town": right_town,
        "right_town_share": round(right_town / town_rows, 4) if town_rows else None,
        "nothing_rows": nothing_rows,
        "nothing_unlocated": nothing_ok,
        "wrong_town_confident": confident_wrong,
        "statuses": status_counts,
        "per_address_us": {"p50": round(statistics.median(us), 1), "p99": round(us[int(0.99 * (len(us) - 1))], 1),
                           "max": round(us[-1], 1)},
        "goals": {"right_village_share": 0.85, "wrong_town_confident": 0},
        "met": bool(village_rows and right_village / village_rows >= 0.85 and confident_wrong == 0),
        "misses": misses,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "misses"}, ensure_ascii=False, indent=2))
    print(f"{len(misses)} misses (listed in {RESULTS.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
