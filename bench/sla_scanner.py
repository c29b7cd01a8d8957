"""Benchmark: the SLA scanner's read (``gridgov_dispatch.sla.scanner.due``) over 1,000,000 open tickets.

Each stack gets a fresh database whose schema the dispatch migrations build (SQLite file; PostgreSQL database
created and dropped through GRIDGOV_TEST_PG_ADMIN_URL). 1,000,000 open tickets go in by bulk insert
(executemany on SQLite, COPY on PostgreSQL), their ``next_check_at`` spread evenly over the next 30 days except
0.5 % already due (spread over the last 2 hours). A full scan reads every due ticket in pages of 1,000, keyset-
paged by (next_check_at, id) so no row changes; it is timed 5 times after one warm-up run, and the median kept.
The query plan of one page is recorded for each stack.

Goal (issue #6): a full scan of 1,000,000 open tickets in ≤ 1 s on both stacks.

Run:  uv run python bench/sla_scanner.py [--tickets 1000000] [--runs 5]
The PostgreSQL part needs GRIDGOV_TEST_PG_ADMIN_URL (as `make test` sets it); without it it is skipped.
Results: bench/results/sla_scanner.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_common.db import Database  # noqa: E402
from gridgov_common.migrations import upgrade_to_head  # noqa: E402
from gridgov_dispatch.app import MIGRATIONS, metadata  # noqa: E402
from gridgov_dispatch.departments import service as departments  # noqa: E402
from gridgov_dispatch.departments.seed import DEPARTMENTS  # noqa: E402
from gridgov_dispatch.sla.scanner import due, due_query, page_key  # noqa: E402

PAGE = 1_000
DUE_SHARE = 0.005
HORIZON = timedelta(days=30)
GOAL_S = 1.0
CHUNK = 20_000
COLUMNS = ("id", "report_id", "category_code", "description", "lon", "lat", "reporter_id", "department",
           "grid_code", "village_code", "town_code", "location_status", "state", "deadline", "version",
           "created_at", "updated_at", "channel", "department_areas", "priority", "first_department", "stage",
           "stage_started_at", "deadline_provisional", "sla_level", "escalation_level", "next_check_at",
           "supervised", "return_count", "rework_count")
OPEN_STATES = ("dispatched", "claimed", "handled", "verified")
STAGE = {"dispatched": "claim", "claimed": "handle", "handled": "verify", "verified": "verify"}
CATEGORIES = ("01001", "01002", "04002", "04004", "05003", "21001")
CHANNELS = ("patrol", "hotline", "photo", "video")


def rows(n: int, now: datetime, seed: int = 6) -> Iterator[list[tuple]]:
    """Open tickets in chunks: ``DUE_SHARE`` of them due now, the rest scheduled over the next 30 days."""
    rng = random.Random(seed)
    due_n = round(n * DUE_SHARE)
    due_at = set(rng.sample(range(n), due_n))
    depts = [d.code for d in DEPARTMENTS]
    chunk: list[tuple] = []
    for i in range(n):
        if i in due_at:
            check = now - timedelta(seconds=rng.uniform(0, 7200))
        else:
            check = now + timedelta(seconds=rng.uniform(1, HORIZON.total_seconds()))
        state = rng.choice(OPEN_STATES)
        created = now - timedelta(seconds=rng.uniform(0, 20 * 86400))
        town = f"441900{rng.randint(1, 33):03d}"
        village = f"{town}{rng.randint(1, 20):03d}"
        dept = rng.choice(depts)
        level = "red" if check <= now and rng.random() < 0.5 else "green"
        chunk.append((
            str(uuid.uuid4()), str(uuid.uuid4()), rng.choice(CATEGORIES), "bench ticket", 113.75, 23.02, "gw-1", dept,
            f"{village}{rng.randint(1, 99):03d}", village, town, "located", state, check, 1 + OPEN_STATES.index(state),
            created, created, rng.choice(CHANNELS), "", "normal", dept, STAGE[state], created, False, level,
            1 if level == "red" else 0, check, False, 0, 0))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sqlite_value(v):
    # The format SQLAlchemy's SQLite DateTime writes (UTC, no offset), so the app reads these rows as its own.
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, bool):
        return int(v)
    return v


def load_sqlite(path: Path, n: int, now: datetime) -> float:
    """Bulk-insert ``n`` tickets with executemany in one transaction; seconds taken."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    sql = f"INSERT INTO ticket ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    t0 = time.perf_counter()
    with conn:
        for chunk in rows(n, now):
            conn.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in chunk])
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - t0


def load_postgres(url: str, n: int, now: datetime) -> float:
    """Bulk-insert ``n`` tickets with COPY; seconds taken."""
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY ticket ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for chunk in rows(n, now):
                for row in chunk:
                    copy.write_row(row)
        conn.execute("ANALYZE ticket")
    return time.perf_counter() - t0


def scan(db: Database, now: datetime) -> int:
    """Read every due ticket in pages of ``PAGE``; how many were read."""
    read = 0
    after = None
    with db.session() as session:
        while True:
            page = due(session, now, PAGE, after)
            read += len(page)
            if len(page) < PAGE:
                return read
            after = page_key(page[-1])
            session.expunge_all()  # a long scan must not keep every ticket it read in the identity map


def explain(db: Database, now: datetime) -> dict[str, list[str]]:
    """The plans of the scan's first page and of a following page, as the database reports them."""
    with db.session() as session:
        first = due(session, now, PAGE)
    plans = {}
    for label, after in (("first_page", None), ("next_page", page_key(first[-1]) if first else None)):
        compiled = due_query(now, PAGE, after).compile(db.engine)
        prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
        params = compiled.params
        if db.is_sqlite:  # qmark style: positional, in the order the compiler placed them
            params = tuple(_sqlite_value(params[name]) for name in compiled.positiontup)
        with db.engine.connect() as conn:
            result = conn.exec_driver_sql(prefix + str(compiled), params)
            plans[label] = [" | ".join(str(c) for c in r) if db.is_sqlite else r[0] for r in result]
    return plans


def run_stack(name: str, url: str, n: int, runs: int, loader) -> dict:
    """Migrate, load, explain and time the scans on one stack."""
    db = Database(url, metadata, "bench")
    try:
        upgrade_to_head(db, MIGRATIONS)
        departments.seed(db)
        now = datetime.now(UTC).replace(microsecond=0)
        load_s = loader(n, now)
        print(f"{name}: loaded {n:,} tickets in {load_s:.1f} s", flush=True)
        with db.engine.connect() as conn:
            expected = conn.execute(sqlalchemy.text("SELECT count(*) FROM ticket WHERE next_check_at <= :now"),
                                    {"now": now}).scalar_one()
        plan = explain(db, now)
        read = scan(db, now)  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            read = scan(db, now)
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        print(f"{name}: {read:,} due read in {median * 1000:.1f} ms (median of {runs})", flush=True)
        return {"tickets": n, "due_expected": expected, "due_read": read, "page": PAGE,
                "load_seconds": round(load_s, 1),
                "scan_seconds_runs": [round(t, 4) for t in times], "scan_seconds_median": round(median, 4),
                "plan": plan}
    finally:
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    admin = os.environ.get("GRIDGOV_TEST_PG_ADMIN_URL")
    report: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__, "load_average_at_start": os.getloadavg()},
        "due_share": DUE_SHARE, "horizon_days": HORIZON.days, "stacks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sla_scanner.db"
        report["stacks"]["sqlite"] = run_stack("sqlite", f"sqlite:///{path}", args.tickets, args.runs,
                                               lambda n, now: load_sqlite(path, n, now))
    if admin:
        import psycopg

        name = f"gg_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
        base = admin.rsplit("/", 1)[0]
        url = base.replace("postgresql://postgres@", "postgresql+psycopg://gridgov:gridgov@") + f"/{name}"
        try:
            with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")  # the dispatch migrations may use it
            raw_url = url.replace("postgresql+psycopg://", "postgresql://")
            report["stacks"]["postgresql"] = run_stack("postgresql", url, args.tickets, args.runs,
                                                       lambda n, now: load_postgres(raw_url, n, now))
            with psycopg.connect(admin) as conn:
                report["machine"]["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        report["stacks"]["postgresql"] = "skipped: GRIDGOV_TEST_PG_ADMIN_URL not set"
    report["goals"] = {
        f"{stack}/full_scan_seconds": {"value": r["scan_seconds_median"], "goal": GOAL_S,
                                       "met": r["scan_seconds_median"] <= GOAL_S and r["due_read"] == r["due_expected"]}
        for stack, r in report["stacks"].items() if isinstance(r, dict)}
    report["load_average_at_end"] = os.getloadavg()
    out = ROOT / "bench" / "results" / "sla_scanner.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report["goals"], indent=1))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
