"""Benchmark: CPU to learn a grid set announced on ``gridgov.grids.published`` — dispatch's and analytics' grids
consumers, in-process, through the consumer path (``Database.idempotent_batch``, batches of 200 as the runner
polls them), on SQLite and, with GRIDGOV_TEST_PG_ADMIN_URL, PostgreSQL.

The demo city announces ~2,930 grids at its first start (and a city every grid again when a new grid set takes
effect); until both services have learned them, their consumers are busy with little else.

Run:  uv run --frozen python bench/grid_learning.py [--grids 2930] [--rounds 3] [--out F]
Results: bench/results/grid_learning.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from gridgov_common.bus.envelope import Envelope
from gridgov_common.db import Database
from gridgov_common.events.grids import GRID_PUBLISHED_TYPE, GridPublished, grid_key, grid_message_id

ROOT = Path(__file__).resolve().parent.parent
BATCH = 200


def announcements(n: int, version: str = "bench-1") -> list[Envelope]:
    """``n`` grid announcements with 40-vertex boundaries, as grid-registry publishes them."""
    at = datetime.now(UTC)
    out = []
    for i in range(n):
        x, y = 113.7 + (i % 60) * 0.01, 23.0 + (i // 60) * 0.01
        ring = [[x + 0.005 * math.cos(k / 40 * 2 * math.pi), y + 0.005 * math.sin(k / 40 * 2 * math.pi)]
                for k in range(40)]
        payload = GridPublished(grid_code=f"4419{i:08d}", grid_name=f"第{i}网格", village_code=f"4419{i // 10:06d}",
                                town_code=f"4419{i // 300:03d}", grid_set_version=version,
                                boundary={"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, published_at=at)
        out.append(Envelope(id=grid_message_id(payload.grid_code, version), type=GRID_PUBLISHED_TYPE,
                            producer="grid-registry", key=grid_key(payload.grid_code), correlation_id=version,
                            payload=payload.model_dump(mode="json")))
    return out


def learner(service: str):  # noqa: ANN201
    """The service's metadata and its grids handler."""
    if service == "dispatch":
        import gridgov_dispatch.app  # noqa: F401 - puts every dispatch table on the metadata
        from gridgov_dispatch.tables import metadata
        from gridgov_dispatch.verification.handlers import learn_grid
    else:
        from gridgov_analytics.grids.handlers import learn_grid
        from gridgov_analytics.tables import metadata
    return metadata, learn_grid


def one_round(service: str, url: str, envelopes: list[Envelope]) -> float:
    """CPU seconds to learn every announcement into a fresh database at ``url``."""
    metadata, learn_grid = learner(service)
    db = Database(url, metadata, service)
    db.create_all()
    handle = db.idempotent_batch(f"{service}.grids", lambda session, envelope: learn_grid(None, session, envelope))
    start = time.process_time()
    for i in range(0, len(envelopes), BATCH):
        handle(envelopes[i:i + BATCH])
    cpu = time.process_time() - start
    with db.engine.connect() as conn:
        learned = conn.exec_driver_sql("SELECT count(*) FROM learned_grid").scalar()
    db.engine.dispose()
    if learned != len(envelopes):
        raise RuntimeError(f"{service}: {learned} of {len(envelopes)} grids learned")
    return cpu


def main() -> None:
    """Run the rounds on each backend and save the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grids", type=int, default=2930)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "grid_learning.json")
    args = parser.parse_args()
    envelopes = announcements(args.grids)
    admin = os.environ.get("GRIDGOV_TEST_PG_ADMIN_URL")
    results: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "grids": args.grids,
                     "batch": BATCH, "ms_cpu_per_grid_median": {}}
    for backend in ["sqlite", *(["postgresql"] if admin else [])]:
        for service in ("dispatch", "analytics"):
            cpus = []
            for _ in range(args.rounds):
                with tempfile.TemporaryDirectory() as tmp:
                    if backend == "sqlite":
                        cpus.append(one_round(service, f"sqlite:///{tmp}/bench.db", envelopes))
                        continue
                    name = f"gg_bench_grids_{uuid.uuid4().hex[:8]}"
                    with psycopg.connect(admin, autocommit=True) as conn:
                        conn.execute(f'CREATE DATABASE "{name}"')
                    try:
                        url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
                        cpus.append(one_round(service, url, envelopes))
                    finally:
                        with psycopg.connect(admin, autocommit=True) as conn:
                            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            per_grid = round(statistics.median(cpus) / args.grids * 1000, 3)
            results["ms_cpu_per_grid_median"][f"{service} {backend}"] = per_grid
            print(f"{service} on {backend}: {per_grid} ms CPU per grid (rounds: "
                  f"{', '.join(f'{c:.2f}' for c in cpus)} s)", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
