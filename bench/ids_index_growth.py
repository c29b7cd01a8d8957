"""Benchmark: random (uuid4) vs time-ordered (UUIDv7, ``gridgov_common.ids``) keys in a grown index (issue #18).

Every idempotent consumer records each message id in its ``handled`` table (primary key ``(consumer,
message_id)``), which only grows; tickets, reports and deliveries are keyed by ids the same way. This measures what
the key order costs once such an index is big: a table shaped like ``handled`` is filled with ``--prefill`` rows of
one kind of id, then ``--batches`` commits of ``--rows`` rows each are timed (the live loop commits a few rows per
consumer batch at 100 reports/s). Reported per inserted row: CPU µs of this process (SQLite runs in it), wall µs,
and bytes written (SQLite: this process's ``write_bytes``; PostgreSQL: the WAL it generated, by LSN difference).
Kinds alternate (v4, v7, v4, v7 …) over ``--rounds``; each sample is a fresh table.

Run:  uv run --frozen python bench/ids_index_growth.py [--prefill 2000000] [--rounds 2] [--pg-admin-url URL] [--save]
Results: bench/results/ids_index_growth.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from gridgov_common.ids import new_id

ROOT = Path(__file__).resolve().parent.parent
CONSUMERS = ("dispatch.reports", "notification.tickets", "intake.tickets", "analytics.tickets")
DDL = ("CREATE TABLE handled (consumer VARCHAR(200) NOT NULL, message_id VARCHAR(36) NOT NULL, "
       "handled_at TIMESTAMP NOT NULL, PRIMARY KEY (consumer, message_id))")


def _make(kind: str):
    return (lambda: str(uuid.uuid4())) if kind == "v4" else new_id


def _write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes"):
            return int(line.split()[1])
    return 0


def sqlite_sample(kind: str, prefill: int, batches: int, rows: int, work: Path) -> dict:
    """One fresh SQLite table (WAL, synchronous=NORMAL as the services run it): fill, then time the commits."""
    path = work / f"handled_{kind}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    make, now = _make(kind), datetime.now(UTC).isoformat(" ")[:26]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(DDL)
    for start in range(0, prefill, 100_000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO handled VALUES (?,?,?)",
                         ((CONSUMERS[i % 4], make(), now) for i in range(start, min(prefill, start + 100_000))))
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    w0, c0, t0 = _write_bytes(), time.process_time(), time.perf_counter()
    for b in range(batches):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO handled VALUES (?,?,?)", [(CONSUMERS[b % 4], make(), now) for _ in range(rows)])
        conn.execute("COMMIT")
    c1, t1, w1 = time.process_time(), time.perf_counter(), _write_bytes()
    conn.close()
    n = batches * rows
    size = sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists())
    return {"kind": kind, "cpu_us_per_row": round((c1 - c0) / n * 1e6, 1),
            "wall_us_per_row": round((t1 - t0) / n * 1e6, 1),
            "written_kb_per_row": round((w1 - w0) / n / 1024, 2), "file_mb": round(size / 1e6, 1)}


def pg_sample(kind: str, prefill: int, batches: int, rows: int, admin_url: str) -> dict:
    """The same on a fresh PostgreSQL database; bytes = WAL generated during the timed commits."""
    import psycopg

    name = f"bench_ids_{uuid.uuid4().hex[:8]}"
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        make, now = _make(kind), datetime.now(UTC)
        with psycopg.connect(url) as conn:
            conn.execute(DDL)
            conn.commit()
            with conn.cursor() as cur, cur.copy("COPY handled (consumer, message_id, handled_at) FROM STDIN") as cp:
                for i in range(prefill):
                    cp.write_row((CONSUMERS[i % 4], make(), now))
            conn.commit()
            conn.execute("CHECKPOINT")  # as a running server would have done since: the next writes log full pages
            conn.commit()
            lsn0 = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            conn.commit()
            c0, t0 = time.process_time(), time.perf_counter()
            for b in range(batches):
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO handled VALUES (%s, %s, %s)",
                                    [(CONSUMERS[b % 4], make(), now) for _ in range(rows)])
                conn.commit()
            c1, t1 = time.process_time(), time.perf_counter()
            wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn0,)).fetchone()[0]
            size = conn.execute("SELECT pg_total_relation_size('handled')").fetchone()[0]
        n = batches * rows
        return {"kind": kind, "client_cpu_us_per_row": round((c1 - c0) / n * 1e6, 1),
                "wall_us_per_row": round((t1 - t0) / n * 1e6, 1),
                "wal_kb_per_row": round(float(wal) / n / 1024, 2), "relation_mb": round(size / 1e6, 1)}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _medians(samples: list[dict]) -> dict:
    out = {}
    for kind in ("v4", "v7"):
        mine = [s for s in samples if s["kind"] == kind]
        out[kind] = {k: statistics.median(s[k] for s in mine) for k in mine[0] if k != "kind"}
    return out


def main() -> None:
    """Run the samples alternately and print (and optionally save) the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefill", type=int, default=2_000_000)
    parser.add_argument("--batches", type=int, default=4_000)
    parser.add_argument("--rows", type=int, default=3, help="rows per commit")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pg-admin-url", default=None)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    result: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores", "prefill": args.prefill,
                    "batches": args.batches, "rows_per_commit": args.rows, "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="ids-bench-") as tmp:
        samples = [sqlite_sample(kind, args.prefill, args.batches, args.rows, Path(tmp))
                   for _ in range(args.rounds) for kind in ("v4", "v7")]
    result["sqlite"] = {"samples": samples, "medians": _medians(samples)}
    if args.pg_admin_url:
        samples = [pg_sample(kind, args.prefill, args.batches, args.rows, args.pg_admin_url)
                   for _ in range(args.rounds) for kind in ("v4", "v7")]
        result["postgresql"] = {"samples": samples, "medians": _medians(samples)}
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=1))
    if args.save:
        out = ROOT / "bench" / "results" / "ids_index_growth.json"
        out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
