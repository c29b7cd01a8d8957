"""Benchmark: a consumer batch's handled-message lookup on PostgreSQL as the table grows without statistics (#16).

Every consumer asks, per batch, which of its messages it handled before (``Database.idempotent_batch``). psycopg
prepares a statement run five times and PostgreSQL may then keep a generic plan. This bench runs the lookup of
``--batch`` new ids (none handled) on one connection while the handled-message table grows from empty to
``--rows`` (autovacuum off, so no statistics, as in the first minutes of a deployment or a storm), for the old
form (``consumer = $1 AND message_id IN ($2 … )``) and for ``gridgov_common.db.handled_lookup``'s; one line per
form: the median milliseconds per lookup at each size.

Run:  uv run --frozen python bench/handled_lookup.py --pg-admin-url postgresql://postgres@127.0.0.1:15432/postgres
      [--batch 1000] [--rows 100000]
Results: bench/results/handled_lookup.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_common.db import handled_lookup  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "handled_lookup.json"
TABLE = "bench_handled_message"
CONSUMER = "sensing.alarms"


def old_form(consumer: str, ids: list[str]) -> tuple[str, tuple]:
    """The lookup as it was before (one text per batch size)."""
    return (f"SELECT message_id FROM {TABLE} WHERE consumer = %s AND message_id IN ({', '.join(['%s'] * len(ids))})",
            (consumer, *ids))


def measure(url: str, form, batch: int, sizes: list[int], repeats: int) -> dict[int, float]:
    """Median ms per lookup at each table size, on one connection (so the driver prepares as a service's would)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(f"CREATE TABLE {TABLE} (consumer varchar(100) NOT NULL, message_id varchar(36) NOT NULL, "
                     f"handled_at timestamptz NOT NULL, PRIMARY KEY (consumer, message_id)) "
                     f"WITH (autovacuum_enabled = false)")
        rows, out = 0, {}
        for size in sizes:
            conn.execute(f"INSERT INTO {TABLE} SELECT %s, md5(random()::text || i::text), now() "
                         f"FROM generate_series(1, %s) AS i", (CONSUMER, size - rows))
            rows = size
            took = []
            for _ in range(repeats):
                sql, params = form(CONSUMER, [str(uuid.uuid4()) for _ in range(batch)])
                t0 = time.perf_counter()
                found = conn.execute(sql, params).fetchall()
                took.append((time.perf_counter() - t0) * 1000)
                assert found == []  # new ids: none handled
            out[size] = round(statistics.median(took), 1)
        conn.execute(f"DROP TABLE {TABLE}")
    return out


def main() -> None:
    """Measure both forms and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-admin-url", required=True)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7, help="lookups per size (the first 5 are not prepared)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    sizes = [0, 1_000, 10_000, 50_000, args.rows]
    forms = {"in_list (before)": old_form, "lateral (handled_lookup)": handled_lookup("postgresql", TABLE, "%s")}
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "batch": args.batch,
               "what": "median ms per lookup of a batch of new ids, the table growing without statistics",
               "forms": {}}
    for name, form in forms.items():
        results["forms"][name] = measure(args.pg_admin_url, form, args.batch, sizes, args.repeats)
        print(name, results["forms"][name], flush=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
