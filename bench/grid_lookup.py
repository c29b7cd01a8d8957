"""Benchmark: point → grid lookup, in-memory STRtree and PostGIS, on 2,930 and 100,000 grids, in one run.

For each grid set and backend: single-point latency (p50/p99 over individual calls) and batch throughput
(points/s over 10,000-point batches), for gridgov's own locator and for a raw baseline on the same data:
- raw STRtree: ``STRtree(grids).query(points, predicate="intersects")`` (covers ≡ intersects for a point),
  no tie-break, no town fallback, no answer objects;
- raw PostGIS: a psycopg connection with a server-side prepared ``ST_Covers … ORDER BY code LIMIT 1``
  (single) and the same ``unnest`` + ``LATERAL`` statement gridgov uses (batch), grids only.
Then HTTP: the grid-registry service (embedded stack, default in-memory locator) under wrk posting
``POST /v1/locate/batch`` with 10,000 points per request.

Goals (issue #4): gridgov ≥ 0.9× each raw baseline; HTTP batch ≥ 200,000 points/s. Ratios are judged on
points inside grids (same work for both); on "mixed" points (a third outside the city) gridgov also does the
town fallback the raw query skips, reported alongside.

Run:  uv run python bench/grid_lookup.py [--sizes dongguan,100k] [--seconds 8]
PostGIS parts need GRIDGOV_TEST_PG_ADMIN_URL (as `make test` sets it); without it they are skipped.
Results: bench/results/grid_lookup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import shapely
from shapely.strtree import STRtree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_common.auth import mint_token  # noqa: E402
from gridgov_common.db import Database  # noqa: E402
from gridgov_common.migrations import upgrade_to_head  # noqa: E402
from gridgov_grid_registry.app import MIGRATIONS  # noqa: E402
from gridgov_grid_registry.grids import handlers  # noqa: E402
from gridgov_grid_registry.grids.generator import OUTLINE, generate  # noqa: E402
from gridgov_grid_registry.grids.index import GridIndex  # noqa: E402
from gridgov_grid_registry.grids.postgis_index import GRID_BATCH_SQL, PostgisLocator  # noqa: E402
from gridgov_grid_registry.tables import metadata  # noqa: E402

SINGLE_STRTREE = 20_000
SINGLE_POSTGIS = 3_000
BATCH = 10_000
BATCH_POINTS = 200_000
RAW_SINGLE_SQL = ("SELECT code FROM area WHERE grid_set = %(v)s AND level = 'grid' AND "
                  "ST_Covers(geometry, ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)) ORDER BY code LIMIT 1")
SECRET = "bench-secret-not-for-production-0123456789"


def city_points(n: int, seed: int) -> np.ndarray:
    """Points spread over the city's outline box (most inside the city, some outside)."""
    rng = np.random.default_rng(seed)
    xs, ys = zip(*OUTLINE, strict=True)
    return np.stack([rng.uniform(min(xs), max(xs), n), rng.uniform(min(ys), max(ys), n)], axis=1)


def _percentiles(times: list[int]) -> dict:
    times = sorted(times)
    return {"p50_us": round(times[len(times) // 2] / 1000, 1), "p99_us": round(times[int(len(times) * 0.99)] / 1000, 1),
            "calls": len(times)}


def latency(raw_fn, ours_fn, points: np.ndarray, block: int = 250) -> tuple[dict, dict]:
    """p50/p99 in microseconds of one call per point, raw and gridgov taking turns in blocks of ``block``
    points (the same points for both): a busy neighbour on the machine slows both alike, and each runs a
    streak on its own connection, as a real caller would."""
    for x, y in points[:200].tolist():  # warm up
        raw_fn(x, y)
        ours_fn(x, y)
    raw: list[int] = []
    ours: list[int] = []
    clock = time.perf_counter_ns
    coords = points.tolist()
    for start in range(0, len(coords), block):
        chunk = coords[start:start + block]
        for fn, times in ((raw_fn, raw), (ours_fn, ours)) if (start // block) % 2 == 0 else \
                ((ours_fn, ours), (raw_fn, raw)):
            for x, y in chunk:
                t0 = clock()
                fn(x, y)
                times.append(clock() - t0)
    return _percentiles(raw), _percentiles(ours)


def throughput(raw_fn, ours_fn, points: np.ndarray) -> tuple[dict, dict]:
    """Points per second over 10,000-point chunks (median of the chunk rates), raw and gridgov interleaved."""
    chunks = [points[i:i + BATCH] for i in range(0, len(points), BATCH)]
    raw_fn(chunks[0])  # warm up
    ours_fn(chunks[0])
    rates: tuple[list[float], list[float]] = ([], [])
    for chunk in chunks:
        for fn, out in ((raw_fn, rates[0]), (ours_fn, rates[1])):
            t0 = time.perf_counter()
            fn(chunk)
            out.append(len(chunk) / (time.perf_counter() - t0))
    return tuple({"points_per_s": round(statistics.median(r)), "batches": len(chunks), "batch_size": BATCH}
                 for r in rates)  # type: ignore[return-value]


def ratio(ours: dict, raw: dict) -> dict:
    """gridgov ÷ raw as speed (≥ 1 is as fast or faster): inverse latency for single, rate for batch."""
    if "points_per_s" in ours:
        return {"batch": round(ours["points_per_s"] / raw["points_per_s"], 3)}
    return {"single_p50": round(raw["p50_us"] / ours["p50_us"], 3),
            "single_p99": round(raw["p99_us"] / ours["p99_us"], 3)}


def bench_strtree(city, pts: np.ndarray) -> dict:
    grid_set = city.grid_set
    grids = sorted((a for a in grid_set.areas if a.level == "grid"), key=lambda a: a.code)
    raw_tree = STRtree([a.geometry for a in grids])
    index = GridIndex(grid_set.areas, grid_set.version)
    single_pts = pts[:SINGLE_STRTREE]
    out: dict = {}
    out["raw_single"], out["gridgov_single"] = latency(
        lambda x, y: raw_tree.query(shapely.Point(x, y), predicate="intersects"), index.locate, single_pts)
    out["raw_batch"], out["gridgov_batch"] = throughput(
        lambda c: raw_tree.query(shapely.points(c), predicate="intersects"),
        lambda c: index.answer_many(c[:, 0], c[:, 1]), pts)
    out["ratio_single"] = ratio(out["gridgov_single"], out["raw_single"])
    out["ratio_batch"] = ratio(out["gridgov_batch"], out["raw_batch"])
    return out


def create_database(admin: str) -> tuple[str, str]:
    import psycopg

    name = f"gg_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    base = admin.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return name, base.replace("postgresql://postgres@", "postgresql+psycopg://gridgov:gridgov@") + f"/{name}"


def drop_database(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_postgis(city, pts: np.ndarray, admin: str) -> dict:
    import psycopg

    name, url = create_database(admin)
    try:
        db = Database(url, metadata, "bench")
        upgrade_to_head(db, MIGRATIONS)
        t0 = time.perf_counter()
        handlers.store_grid_set(db, city.grid_set, effective_from=datetime.now(UTC))
        stored_s = time.perf_counter() - t0
        version = city.grid_set.version
        locator = PostgisLocator(db.engine, version)
        raw = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        raw.execute("SET jit = off")

        def raw_single(x, y):
            return raw.execute(RAW_SINGLE_SQL, {"v": version, "x": x, "y": y}, prepare=True).fetchone()

        def raw_batch(chunk):
            return raw.execute(GRID_BATCH_SQL, {"v": version, "xs": chunk[:, 0].tolist(), "ys": chunk[:, 1].tolist()},
                               prepare=True).fetchall()

        single_pts = pts[:SINGLE_POSTGIS]
        batch_pts = pts[:50_000]
        out: dict = {"store_seconds": round(stored_s, 1)}
        out["raw_single"], out["gridgov_single"] = latency(raw_single, locator.answer, single_pts)
        out["raw_batch"], out["gridgov_batch"] = throughput(
            raw_batch, lambda c: locator.answer_many(c[:, 0], c[:, 1]), batch_pts)
        out["ratio_single"] = ratio(out["gridgov_single"], out["raw_single"])
        out["ratio_batch"] = ratio(out["gridgov_batch"], out["raw_batch"])
        raw.close()
        locator.close()
        db.engine.dispose()
        return out
    finally:
        drop_database(admin, name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_http(city, pts: np.ndarray, seconds: int) -> dict:
    """wrk against the grid-registry process (embedded stack, in-memory locator), 10,000 points a request."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        db = Database(f"sqlite:///{data / 'grid-registry.db'}", metadata, "bench")
        upgrade_to_head(db, MIGRATIONS)
        handlers.store_grid_set(db, city.grid_set, effective_from=datetime.now(UTC))
        db.engine.dispose()
        port = free_port()
        env = {**os.environ, "GRIDGOV_DATA_DIR": str(data), "GRIDGOV_REGISTRY_PORT": str(port),
               "GRIDGOV_REGISTRY_SEED_DEMO": "false", "GRIDGOV_REGISTRY_RUN_CONSUMERS": "false",
               "GRIDGOV_JWT_SECRET": SECRET, "GRIDGOV_LOG_LEVEL": "WARNING", "MALLOC_ARENA_MAX": "2"}
        proc = subprocess.Popen([sys.executable, "-m", "gridgov_grid_registry"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("grid-registry did not become ready")
                time.sleep(0.3)
            token = mint_token(SECRET, sub="bench", role="admin")
            body = json.dumps({"crs": "wgs84", "points": np.round(pts[:BATCH], 6).tolist()})
            check = httpx.post(f"{url}/v1/locate/batch", content=body, timeout=30,
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            assert check.status_code == 200 and check.json()["count"] == BATCH, check.text[:300]
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
                fh.write('wrk.method = "POST"\nwrk.body = [==[' + body + ']==]\n'
                         'wrk.headers["Content-Type"] = "application/json"\n'
                         f'wrk.headers["Authorization"] = "Bearer {token}"\n')
                script = fh.name
            results = {}
            for connections in (1, 2):
                out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script,
                                      f"{url}/v1/locate/batch"], capture_output=True, text=True, timeout=seconds + 60)
                rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))
                non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
                p50 = re.search(r"50%\s+([\d.]+)(\w+)", out.stdout)
                results[f"{connections}_connections"] = {
                    "requests_per_s": rps, "points_per_s": round(rps * BATCH), "non_2xx": int(non2xx.group(1))
                    if non2xx else 0, "p50_latency": f"{p50.group(1)}{p50.group(2)}" if p50 else None}
            rss = [line.split()[1] for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                   if line.startswith("VmHWM")]
            results["service_peak_rss_mb"] = round(int(rss[0]) / 1024) if rss else None
            return results
        finally:
            proc.terminate()
            proc.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="dongguan,100k")
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per run")
    args = parser.parse_args()
    admin = os.environ.get("GRIDGOV_TEST_PG_ADMIN_URL")
    pts = city_points(BATCH_POINTS, seed=7)
    report: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "shapely": shapely.__version__,
        "geos": ".".join(map(str, shapely.geos_version)), "load_average_at_start": os.getloadavg()}, "sets": {}}
    for scale in args.sizes.split(","):
        t0 = time.perf_counter()
        city = generate(scale)
        grids = sum(a.level == "grid" for a in city.grid_set.areas)
        entry: dict = {"grids": grids, "generate_seconds": round(time.perf_counter() - t0, 1)}
        print(f"== {scale}: {grids:,} grids (generated in {entry['generate_seconds']} s)", flush=True)
        # Goals are judged on points inside grids, where gridgov and the raw query do the same work; on the
        # mixed points (a third outside the city) gridgov also finds the town or proves the point unlocated,
        # work the raw query skips — reported for information.
        index = GridIndex(city.grid_set.areas, city.grid_set.version)
        in_grids = pts[(index.answer_many(pts[:, 0], pts[:, 1]) > 0)
                       & (index.answer_many(pts[:, 0], pts[:, 1]) < index.answers.first_town)]
        del index
        entry["points"] = {"in_grids": len(in_grids), "mixed": len(pts)}
        entry["strtree"] = bench_strtree(city, in_grids)
        entry["strtree_mixed"] = bench_strtree(city, pts)
        print(json.dumps({k: entry[k] for k in ("strtree", "strtree_mixed")}, indent=1), flush=True)
        if admin:
            entry["postgis"] = bench_postgis(city, in_grids, admin)
            entry["postgis_mixed"] = bench_postgis(city, pts, admin)
            print(json.dumps({k: entry[k] for k in ("postgis", "postgis_mixed")}, indent=1), flush=True)
        else:
            entry["postgis"] = "skipped: GRIDGOV_TEST_PG_ADMIN_URL not set"
        entry["http_batch_strtree"] = bench_http(city, pts, args.seconds)
        print(json.dumps(entry["http_batch_strtree"], indent=1), flush=True)
        report["sets"][scale] = entry
    goals = {}
    for scale, entry in report["sets"].items():
        for backend in ("strtree", "postgis"):
            if isinstance(entry.get(backend), dict):
                for kind in ("ratio_single", "ratio_batch"):
                    for k, v in entry[backend][kind].items():
                        goals[f"{scale}/{backend}/{k}"] = {"ratio": v, "goal": 0.9, "met": v >= 0.9}
        best = max(v["points_per_s"] for k, v in entry["http_batch_strtree"].items() if k.endswith("connections"))
        goals[f"{scale}/http_batch_points_per_s"] = {"value": best, "goal": 200_000, "met": best >= 200_000}
    report["goals"] = goals
    report["load_average_at_end"] = os.getloadavg()
    out = ROOT / "bench" / "results" / "grid_lookup.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(goals, indent=1))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
