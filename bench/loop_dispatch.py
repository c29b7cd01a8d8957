"""Micro-benchmark: CPU ms per located report through dispatch's register consumer (issue #18, dispatch lane).

Feeds N ``report.located`` envelopes, in polled batches of 100 like the bus hands them over, through the real
batch handler of the ``dispatch.register`` consumer group (``consumers.consumer_specs``) on a fresh SQLite
database migrated and seeded as at start-up: each message becomes a ticket, routed by the published rule set and
dispatched, with its audit rows and outbox events, in one transaction per batch. A first batch warms the caches
and is not counted. CPU is the process's (``time.process_time``), so other processes on the machine do not count;
wall time and the load average are given beside it.

Run:  uv run --frozen python bench/loop_dispatch.py [--messages 2000] [--batch 100] [--profile out.prof]
      [--label before|after]
Results: bench/results/loop_dispatch.json (one entry per label, the newest run of each).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.db import Database
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_common.migrations import upgrade_to_head
from gridgov_common.settings import CommonSettings
from gridgov_dispatch.app import MIGRATIONS
from gridgov_dispatch.catalog import service as catalogs
from gridgov_dispatch.consumers import REGISTER, consumer_specs
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.tables import metadata
from gridgov_dispatch.tickets.models import Ticket

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "loop_dispatch.json"
# Categories the default rule set routes to a department (water, roads, sanitation …) and one left to triage.
CATEGORIES = ("04002", "01002", "01001", "02001", "03001")
GRID, VILLAGE, TOWN = "441900001001001", "441900001001", "441900001"


def located(i: int) -> Envelope:
    """The i-th report.located envelope, as grid-registry publishes it."""
    report_id = str(uuid.uuid4())
    payload = ReportLocated(
        report=ReportReceived(
            report_id=report_id, channel="patrol" if i % 3 else "citizen",
            category_code=CATEGORIES[i % len(CATEGORIES)],
            description="自来水管破裂，路面冒水", lon=113.75 + i * 1e-5, lat=23.02, reporter_id=f"gw-{i % 50}",
            reporter_role="grid_worker", submitted_at=datetime.now(UTC)),
        location=Location(status="located", grid_code=GRID, village_code=VILLAGE, town_code=TOWN,
                          department_areas=["urban-management-441900001"] if i % 2 else None),
    )
    return new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id, payload=payload,
                        correlation_id=report_id)


def run(messages: int, batch: int, profile: str | None) -> dict:
    """Migrate and seed a fresh database, warm up with one batch, then time ``messages`` more."""
    logging.disable(logging.INFO)  # the services log at INFO in production too, but to files: not what we time
    with tempfile.TemporaryDirectory() as tmp:
        settings = DispatchSettings(common=CommonSettings(data_dir=Path(tmp), log_json=False), sla_scan_seconds=0)
        db = Database(f"sqlite:///{Path(tmp) / 'dispatch.db'}", metadata, "dispatch")
        upgrade_to_head(db, MIGRATIONS)
        departments.seed(db)
        catalogs.seed(db)
        rule_sets.seed(db)
        ctx = DispatchContext(db, settings)
        [spec] = [s for s in consumer_specs(ctx) if s.group == REGISTER.group]
        warm = [located(i) for i in range(batch)]
        spec.handler(warm)
        envelopes = [located(i) for i in range(messages)]
        batches = [envelopes[i:i + batch] for i in range(0, messages, batch)]
        profiler = cProfile.Profile() if profile else None
        load = os.getloadavg()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for chunk in batches:
            spec.handler(chunk)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        with db.session() as session:
            tickets = session.execute(select(func.count()).select_from(Ticket)).scalar_one()
            dispatched = session.execute(select(func.count()).select_from(Ticket)
                                         .where(Ticket.state == "dispatched")).scalar_one()
        outbox = db.outbox_backlog()
        db.engine.dispose()
    assert tickets == messages + batch, f"{tickets} tickets for {messages + batch} reports"
    return {"messages": messages, "batch": batch, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "cpu_ms_per_report": round(cpu * 1000 / messages, 3),
            "wall_ms_per_report": round(wall * 1000 / messages, 3),
            "tickets": tickets, "dispatched": dispatched, "outbox_rows": outbox,
            "loadavg_before": [round(x, 2) for x in load], "loadavg_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    """Run once and store the result under its label."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--profile", help="write a cProfile of the timed part here")
    parser.add_argument("--label", default="after")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    result = run(args.messages, args.batch, args.profile)
    result.update(label=args.label, at=datetime.now(UTC).isoformat(timespec="seconds"),
                  python=platform.python_version(), cpus=os.cpu_count())
    print(json.dumps(result, indent=1))
    if not args.no_save:
        stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        stored[args.label] = result
        RESULTS.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
