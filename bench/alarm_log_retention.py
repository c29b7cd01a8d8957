"""Benchmark: pruning sensing's alarm log (``alarms.handlers.prune_alarm_log``), on SQLite (issue #16).

A migrated sensing database gets ``--alarms`` logged alarms spread evenly over ``--days`` days (a camera's snapshot
URL or a sensor's reading as evidence, two labels, one group id per 20 alarms), written through the grouping
consumer's own log writer (``alarms.handlers._write_log``). Then, for each transaction size in ``--batches``, a copy
of that file is pruned to the last 90 days, one transaction at a time: each transaction is what the grouping
consumer can wait for the write lock, so its duration is the figure (median, p99, max), with the deletions per
second, and the file's size before and after (deleted pages go to SQLite's free list for the next alarms: the file
does not shrink).

Run:  uv run --frozen python bench/alarm_log_retention.py [--alarms 400000] [--days 120] [--batches 1000,2000,5000]
      [--save]
Results: bench/results/alarm_log_retention.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "alarm_log_retention.json"
KEEP_DAYS = 90
WRITE_BATCH = 5_000


def _rows(n: int, days: int, now: datetime) -> list[dict]:
    """``n`` alarm log rows, oldest first, evenly over ``days`` days before ``now``."""
    step = timedelta(days=days) / n
    start = now - timedelta(days=days)
    rows = []
    for i in range(n):
        camera = i % 3 != 0
        at = start + i * step
        rows.append({
            "id": f"00000000-0000-4000-8000-{i:012d}", "alarm_id": f"bench-{i}", "group_id": f"g-{i // 20}",
            "fingerprint": f"{i % 50_000:064x}", "alarm_type": "exposed_garbage" if camera else "manhole_displaced",
            "device_id": f"4419000000132{i % 50_000:07d}" if camera else f"IOT-{i % 50_000}",
            "grid_code": f"4419{i % 2_930:011d}", "village_code": f"4419{i % 600:08d}",
            "town_code": f"4419{i % 33:05d}",
            "state": "firing", "severity": "minor", "occurred_at": at, "received_at": at, "confidence": 0.91,
            "evidence": ({"snapshot_url": f"https://video.example.gov.cn/snap/{i:09d}.jpg", "reading": None,
                          "unit": None} if camera else {"snapshot_url": None, "reading": 0.42, "unit": "m"}),
            "labels": {"road": f"r{i % 400}", "shift": "day"}, "source": "http", "verdict": "grouped",
            "suppressed_by": None, "monitored_by": []})
    return rows


def _size(path: Path) -> int:
    """The file's bytes (with no connection open: the WAL is checkpointed into it)."""
    return path.stat().st_size


def build(path: Path, n: int, days: int, now: datetime) -> float:
    """A migrated sensing database with ``n`` logged alarms; seconds taken."""
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head
    from gridgov_sensing.alarms.handlers import _write_log
    from gridgov_sensing.tables import metadata

    t = time.perf_counter()
    db = Database(f"sqlite:///{path}", metadata, "sensing")
    upgrade_to_head(db, "gridgov_sensing")
    rows = _rows(n, days, now)
    for i in range(0, n, WRITE_BATCH):
        with db.engine.begin() as conn:
            _write_log(conn, rows[i:i + WRITE_BATCH])
    db.engine.dispose()
    conn = sqlite3.connect(path)  # the engine's connections begin a transaction; a checkpoint needs none
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.close()
    return time.perf_counter() - t


def prune(path: Path, batch: int, before: datetime) -> dict:
    """Prune a copy to ``before``, one transaction of ``batch`` at a time; the transactions' durations."""
    from sqlalchemy import func, select

    from gridgov_common.db import Database
    from gridgov_sensing.alarms.handlers import A, prune_alarm_log
    from gridgov_sensing.tables import metadata

    db = Database(f"sqlite:///{path}", metadata, "sensing")
    with db.session() as session:
        total = session.execute(select(func.count()).select_from(A)).scalar_one()
    size = _size(path)
    took, deleted = [], 0
    t0 = time.perf_counter()
    while True:
        t = time.perf_counter()
        gone = prune_alarm_log(db, before, batch=batch, most=batch)  # exactly one transaction
        took.append((time.perf_counter() - t) * 1000)
        deleted += gone
        if gone < batch:
            break
    seconds = time.perf_counter() - t0
    with db.session() as session:
        kept = session.execute(select(func.count()).select_from(A)).scalar_one()
        older = session.execute(select(func.count()).select_from(A).where(A.c.occurred_at < before)).scalar_one()
    db.engine.dispose()
    took.sort()
    return {"batch": batch, "alarms_before": total, "deleted": deleted, "kept": kept, "older_left": older,
            "transactions": len(took), "seconds": round(seconds, 2), "deleted_per_s": round(deleted / seconds),
            "transaction_ms": {"median": round(statistics.median(took), 2),
                               "p99": round(took[min(len(took) - 1, int(len(took) * 0.99))], 2),
                               "max": round(took[-1], 2)},
            "file_bytes_before": size, "file_bytes_after": _size(path)}


def main() -> None:
    """Build once, prune a copy per transaction size, print (and with ``--save`` keep) the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alarms", type=int, default=400_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--batches", default="1000,2000,5000")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="gg-alarm-retention-") as tmp:
        base = Path(tmp) / "base.db"
        built_s = build(base, args.alarms, args.days, now)
        runs = []
        for batch in (int(b) for b in args.batches.split(",")):
            copy = Path(tmp) / f"copy-{batch}.db"
            shutil.copyfile(base, copy)
            runs.append(prune(copy, batch, now - timedelta(days=KEEP_DAYS)))
            print(json.dumps(runs[-1]), file=sys.stderr)
            copy.unlink()
    result = {"when": now.isoformat(), "alarms": args.alarms, "days": args.days, "keep_days": KEEP_DAYS,
              "build_s": round(built_s, 1), "cpus": os.cpu_count(), "runs": runs}
    print(json.dumps(result, indent=1))
    if args.save:
        OUT.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
