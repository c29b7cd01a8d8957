"""Benchmark: the fixed CPU cost of one idempotent consumer transaction (``Database.idempotent_batch``), issue #18.

At the loop's usual rates a consumer's polled batch holds one to a few messages, so what a transaction costs before
any handler runs — the session, the handled-message query and insert, the commit — is paid per message by every
consumer group a report passes through. Each child process makes a fresh database (SQLite file, or a fresh
PostgreSQL database with ``--pg-admin-url``) with the messaging tables, ``--prefill`` handled rows, and times
``idempotent_batch`` over batches of 1, 3 and 20 new messages (every tenth batch delivered twice, as a redelivery
is) with a handler that does nothing, then with one that stages one outbox message per message (``_emitting``),
then one that stages one row per message with ``stage_insert`` (``_staging``).
CPU is this process's (SQLite runs in it; PostgreSQL's server CPU is not in it).

``--before-src DIR`` puts another checkout's ``libs/common/src`` first on the path of every other child (e.g. a
``git worktree`` of the commit before a change): children alternate before, after, before, after …

Run:  uv run --frozen python bench/consumer_overhead.py --before-src /tmp/base/libs/common/src [--rounds 3]
      [--pg-admin-url postgresql://postgres@127.0.0.1:15432/postgres] [--save]
Results: bench/results/consumer_overhead.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 3, 20)


def child(pg_admin_url: str | None, prefill: int, batches: int) -> dict:
    """One measurement in this process: CPU µs per batch of each size."""
    from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert

    import gridgov_common
    from gridgov_common.bus.envelope import Envelope
    from gridgov_common.db import Database, messaging_tables, stage_insert

    md = MetaData()
    messaging_tables(md)
    rows = Table("bench_row", md, Column("id", String(36), primary_key=True), Column("n", Integer, nullable=False),
                 Column("at", DateTime(timezone=True), nullable=False))
    drop = None
    with tempfile.TemporaryDirectory(prefix="consumer-overhead-") as tmp:
        if pg_admin_url:
            import psycopg

            name = f"bench_consumer_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(pg_admin_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            url = pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"

            def drop() -> None:
                with psycopg.connect(pg_admin_url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            url = f"sqlite:///{tmp}/bench.db"
        db = Database(url, md, "bench")
        try:
            db.create_all()
            now = datetime.now(UTC)
            with db.engine.begin() as conn:
                for start in range(0, prefill, 50_000):
                    conn.execute(insert(db.tables.handled), [
                        {"consumer": "bench", "message_id": str(uuid.uuid4()), "handled_at": now}
                        for _ in range(min(50_000, prefill - start))])
            out: dict = {"backend": db.engine.dialect.name, "common": str(Path(gridgov_common.__file__).parent)}
            def emit(session, envelope) -> None:  # noqa: ANN001 - a consumer that publishes one message per message
                db.add_outbox(session, "bench.out", envelope)

            def stage(session, envelope) -> None:  # noqa: ANN001 - one row per message, written at commit
                stage_insert(session, rows, [{"id": str(envelope.id), "n": 1, "at": now}], conflict=("id",))

            variants = [(None, "", s) for s in SIZES] + [(emit, "_emitting", s) for s in SIZES] + [
                (stage, "_staging", s) for s in SIZES]
            for handler, suffix, size in variants:
                handle = db.idempotent_batch("bench", handler or (lambda _session, _envelope: None))
                n = batches if size < 20 else batches // 4
                work = [[Envelope(type="bench", producer="bench", key="k", correlation_id="c", payload={})
                         for _ in range(size)] for _ in range(n)]
                for batch in work[:20]:  # warm: statement caches, pool
                    handle(batch)
                calls = 0
                c0 = time.process_time()
                for i, batch in enumerate(work[20:]):
                    handle(batch)
                    calls += 1
                    if i % 10 == 0:
                        handle(batch)  # redelivered: nothing applied, nothing recorded again
                        calls += 1
                label = f"cpu_us_per_batch_{size}{suffix}"
                out[label] = round((time.process_time() - c0) / calls * 1e6, 1)
            return out
        finally:
            db.engine.dispose()
            if drop is not None:
                drop()


def main() -> None:
    """Alternate before/after children and print (and optionally save) the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-src", default=None, help="another checkout's libs/common/src (the 'before')")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prefill", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=800)
    parser.add_argument("--pg-admin-url", default=None)
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.pg_admin_url, args.prefill, args.batches)))
        return
    variants = (["before"] if args.before_src else []) + ["after"]
    samples: dict[str, list[dict]] = {v: [] for v in variants}
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for variant in variants:
            env = dict(os.environ)
            if variant == "before":
                env["PYTHONPATH"] = os.pathsep.join([args.before_src, env.get("PYTHONPATH", "")])
            cmd = [sys.executable, __file__, "--child", "--prefill", str(args.prefill), "--batches",
                   str(args.batches), *(["--pg-admin-url", args.pg_admin_url] if args.pg_admin_url else [])]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=True)
            samples[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
    medians = {v: {k: statistics.median(s[k] for s in samples[v]) for k in samples[v][0] if k.startswith("cpu")}
               for v in variants}
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "backend": samples["after"][0]["backend"],
              "prefill": args.prefill, "load_before": load_before, "load_after": os.getloadavg(),
              "medians": medians, "samples": samples}
    print(json.dumps(result, indent=1))
    if args.save:
        path = ROOT / "bench" / "results" / "consumer_overhead.json"
        saved = json.loads(path.read_text()) if path.exists() else {}
        saved[result["backend"]] = result
        path.write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    main()
