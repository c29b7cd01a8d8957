"""Benchmark: sensing's ingest and grouping in one process, no HTTP and no bus (issue #16) — CPU ms per alarm.

What ``bench/sensing_alarms.py --profile`` measures inside a stack, here on its own so two code versions can be
compared in one interleaved run: a fresh SQLite database (or a PostgreSQL one with ``--pg-admin-url``) with the
seeded alarm types and ``--devices`` devices on a synthetic square city; the replay of
``bench/sensing_alarms_gen.py`` (Zipf repeats, same-fingerprint pairs) accepted in batches of ``--batch`` with
``accept_alarms`` (ingest), then the outbox's ``alarm.received`` envelopes handed to the grouping consumer's
batch handler ``--poll`` at a time (the runner's poll size); at the end the groups are checked: one open group per
fingerprint, counts exact. One JSON line on stdout: process CPU ms per alarm of each phase, wall seconds, load.

``--compare DIR`` runs this file ``--rounds`` times alternately with sensing's code from ``DIR`` (e.g. a
``git worktree`` of the previous commit: its ``services/sensing/src`` goes first on PYTHONPATH) and from this
tree (A, B, A, B …), and prints the medians and the ratio B/A.

Run:  uv run --frozen python bench/sensing_alarms_inprocess.py [--alarms 40000] [--devices 20000]
      [--compare /tmp/before --rounds 3]
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
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _pg_database(admin_url: str) -> tuple[str, callable]:
    """A fresh PostgreSQL database and its dropper."""
    from sqlalchemy import create_engine, text

    name = f"bench_sensing_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def run_once(args) -> dict:
    """One measurement in this process."""
    from sqlalchemy import select

    from bench.sensing_alarms_gen import _square_city, expected_counts, replay
    from gridgov_common.bus.envelope import Envelope
    from gridgov_common.bus.topics import ALARMS_RECEIVED
    from gridgov_common.db import Database
    from gridgov_sensing import tables as sensing_tables
    from gridgov_sensing.alarms import models as _alarm_models  # noqa: F401 - registers the tables
    from gridgov_sensing.alarms.consumers import ALARMS
    from gridgov_sensing.alarms.handlers import grouping_context
    from gridgov_sensing.alarms.models import AlarmGroup
    from gridgov_sensing.alarms.schemas import AlarmBatch
    from gridgov_sensing.alarms.service import accept_alarms
    from gridgov_sensing.devices.models import Device
    from gridgov_sensing.devices.service import bump_version
    from gridgov_sensing.suppression import models as _rule_models  # noqa: F401
    from gridgov_sensing.tables import metadata
    from gridgov_sensing.types import models as _type_models  # noqa: F401
    from gridgov_sensing.types.handlers import seed_alarm_types
    from gridgov_sensing.verification import models as _task_models  # noqa: F401

    work = Path(tempfile.mkdtemp(prefix="sensing-inproc-"))
    drop = None
    if args.pg_admin_url:
        url, drop = _pg_database(args.pg_admin_url)
    else:
        url = f"sqlite:///{work / 'sensing.db'}"
    # As the service opens it (the page cache and WAL checkpoint interval its tables module asks for; an older
    # sensing may name neither).
    db = Database(url, metadata, "sensing", sqlite_cache_kib=getattr(sensing_tables, "SQLITE_CACHE_KIB", None),
                  sqlite_checkpoint_pages=getattr(sensing_tables, "SQLITE_CHECKPOINT_PAGES", None))
    try:
        db.create_all()
        seed_alarm_types(db)
        devices = _square_city(args.devices, args.seed)
        now = datetime.now(UTC)
        with db.session() as session:
            session.add_all([Device(device_id=d.device_id, kind=d.kind, name=d.device_id, lon=d.lon, lat=d.lat,
                                    grid_code=d.grid_code, village_code=d.village_code, town_code=d.town_code,
                                    owner_department=None, algorithms=list(d.algorithms), created_at=now,
                                    updated_at=now) for d in devices])
            bump_version(session, "devices")
            session.commit()
        alarms = list(replay(devices, start=now, count=args.alarms, seed=args.seed + 1))
        bodies = [json.dumps({"alarms": [a.payload(now) for a in alarms[i:i + args.batch]]}).encode()
                  for i in range(0, len(alarms), args.batch)]
        out: dict = {"alarms": len(alarms), "fingerprints": len(expected_counts(alarms)),
                     "backend": db.engine.dialect.name, "load_before": [round(x, 2) for x in os.getloadavg()]}

        c0, t0 = _cpu(), time.perf_counter()
        for body in bodies:
            batch = AlarmBatch.model_validate_json(body)
            accept_alarms(db, batch.alarms, "http", datetime.now(UTC))
        out["ingest_cpu_ms_per_alarm"] = round((_cpu() - c0) * 1000 / len(alarms), 4)
        out["ingest_s"] = round(time.perf_counter() - t0, 2)

        outbox = db.tables.outbox
        with db.engine.connect() as c:
            values = [bytes(v) for (v,) in c.execute(select(outbox.c.value).where(outbox.c.topic == ALARMS_RECEIVED)
                                                     .order_by(outbox.c.id))]
        envelopes = [Envelope.from_bytes(v) for v in values]
        ctx_box: list = [None]
        handle = db.idempotent_batch(ALARMS.group, lambda s, e: ALARMS.handlers_of(e.type)[0](ctx_box[0], s, e))
        c0, t0 = _cpu(), time.perf_counter()
        for i in range(0, len(envelopes), args.poll):
            ctx_box[0] = grouping_context(db, 600)
            handle(envelopes[i:i + args.poll])
        out["grouping_cpu_ms_per_alarm"] = round((_cpu() - c0) * 1000 / len(envelopes), 4)
        out["grouping_s"] = round(time.perf_counter() - t0, 2)

        with db.session() as session:
            rows = session.execute(select(AlarmGroup.fingerprint, AlarmGroup.device_id, AlarmGroup.alarm_type,
                                          AlarmGroup.count, AlarmGroup.is_open)).all()
        open_per_fp = Counter(r.fingerprint for r in rows if r.is_open)
        counted = Counter()
        for r in rows:
            counted[(r.device_id, r.alarm_type)] += r.count
        out["duplicate_open_groups"] = sum(1 for n in open_per_fp.values() if n > 1)
        out["counts_exact"] = counted == expected_counts(alarms)
        out["load_after"] = [round(x, 2) for x in os.getloadavg()]
        return out
    finally:
        db.engine.dispose()
        if drop is not None:
            drop()
        for f in work.iterdir():
            f.unlink()
        work.rmdir()


def compare(args) -> dict:
    """A, B, A, B …: this file in a subprocess with the code of ``--compare`` (A) and of this tree (B)."""
    base = [sys.executable, __file__, "--alarms", str(args.alarms), "--devices", str(args.devices),
            "--batch", str(args.batch), "--poll", str(args.poll), "--seed", str(args.seed)]
    if args.pg_admin_url:
        base += ["--pg-admin-url", args.pg_admin_url]
    runs: dict[str, list[dict]] = {"A": [], "B": []}
    for _ in range(args.rounds):
        for label in ("A", "B"):
            env = dict(os.environ)
            if label == "A":
                env["PYTHONPATH"] = str(Path(args.compare) / "services" / "sensing" / "src")
            else:
                env.pop("PYTHONPATH", None)
            done = subprocess.run(base, env=env, capture_output=True, text=True, timeout=args.timeout)
            if done.returncode != 0:
                raise RuntimeError(f"{label} failed: {done.stderr[-3000:]}")
            runs[label].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{label}: {runs[label][-1]}", file=sys.stderr, flush=True)
    summary: dict = {"rounds": args.rounds, "runs": runs}
    for key in ("ingest_cpu_ms_per_alarm", "grouping_cpu_ms_per_alarm"):
        a = statistics.median(r[key] for r in runs["A"])
        b = statistics.median(r[key] for r in runs["B"])
        summary[key] = {"A_median": a, "B_median": b, "ratio_B_to_A": round(b / a, 3) if a else None}
    return summary


def main() -> None:
    """Parse the arguments, run once or compare."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alarms", type=int, default=40_000)
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2000, help="alarms per accept_alarms call (a POST)")
    parser.add_argument("--poll", type=int, default=200, help="envelopes per grouping batch (the runner's poll)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--pg-admin-url", default=None)
    parser.add_argument("--compare", default=None, help="a tree with the code to compare against (A)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    result = compare(args) if args.compare else run_once(args)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
