"""Micro-benchmark: CPU ms per report through intake's ticket-event consumers, before and after #18's batching.

In the loop every report becomes a ticket that dispatch registers and dispatches: two ticket events, each handled
by intake's ``event-intake.ticket-status`` (``follow_ticket``) and ``event-intake.assist-corrections``
(``learn_correction``) groups. This feeds those events, in polled batches like the bus hands them over, to

- ``before``: per event (``gridgov_common.consumers.consumer_spec`` with bare settings: each event its own
  read-ahead and its own writes, one transaction per batch). The saved results measured the handlers' old ORM
  path here (an ORM load and autoflush per event: 2.37 ms on SQLite), since removed; per event the batch code
  costs the same (2.41 ms in a 3-round run of 2026-12-03 12:10, load 1.5), and
- ``after``: the consumers the service runs (``consumers.consumer_specs``: one read-ahead per batch, rows written
  as one executemany UPDATE / multi-row INSERTs at commit),

interleaved (before, after, before, after …) on one SQLite database migrated as at start-up, each round on fresh
reports (a share re-categorised at dispatch, so the corrections consumer writes labels). CPU is the process's
(``time.process_time``); wall time and the load average beside it. Quiet on stdout except the summary.

Run:  uv run --frozen python bench/loop_intake_follow.py [--reports 500] [--rounds 6] [--batch 100] [--no-save]
      [--database-url postgresql+psycopg://…/an_empty_db]
Results: bench/results/loop_intake_follow.json (the newest run per backend).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.consumers import consumer_spec
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_common.migrations import upgrade_to_head
from gridgov_common.runtime import ConsumerSpec
from gridgov_common.settings import CommonSettings
from gridgov_event_intake.app import open_database
from gridgov_event_intake.consumers import ASSIST_CORRECTIONS, TICKET_STATUS, consumer_specs
from gridgov_event_intake.reports.models import Report, ReportUpdate
from gridgov_event_intake.settings import IntakeSettings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "loop_intake_follow.json"
GROUPS = (TICKET_STATUS.group, ASSIST_CORRECTIONS.group)
CODES = ("04002", "01002", "01001", "02001", "03001")
RECATEGORISED_EVERY = 20  # one report in 20 gets another category at dispatch: a labelled text


def add_reports(db, n: int) -> list[tuple[str, str, str]]:
    """Store ``n`` accepted reports; (id, channel, category) of each."""
    now = datetime.now(UTC)
    rows = [{"id": str(uuid.uuid4()), "channel": "citizen" if i % 3 == 0 else "patrol",
             "category_code": CODES[i % len(CODES)], "description": f"自来水管破裂，路面冒水 {i}",
             "lon": 113.75, "lat": 23.02, "reporter_id": f"gw-{i % 50}", "reporter_role": "grid_worker",
             "status": "received", "submitted_at": now, "updated_at": now} for i in range(n)]
    with db.session() as session:
        session.execute(insert(Report.__table__), rows)
        session.commit()
    return [(r["id"], r["channel"], r["category_code"]) for r in rows]


def events_of(reports: list[tuple[str, str, str]]) -> list[Envelope]:
    """register then dispatch for each report, as dispatch publishes them (payloads as dicts, as off the wire)."""
    out = []
    now = datetime.now(UTC)
    for i, (report_id, _channel, code) in enumerate(reports):
        ticket_id = str(uuid.uuid4())
        final = CODES[(CODES.index(code) + 1) % len(CODES)] if i % RECATEGORISED_EVERY == 0 else code
        for action, to_state, category in (("register", "registered", code), ("dispatch", "dispatched", final)):
            event = TicketEvent(ticket_id=ticket_id, report_id=report_id, action=action, from_state=None,
                                to_state=to_state, category_code=category, department="water-affairs",
                                grid_code="441900001001001", village_code="441900001001", town_code="441900001",
                                reporter_id="gw-1", deadline=now + timedelta(days=1), actor_id="system",
                                actor_role="system", occurred_at=now)
            envelope = new_envelope(type=ticket_event_type(action), producer="dispatch", key=ticket_id,
                                    payload=event, correlation_id=report_id)
            out.append(Envelope.from_bytes(envelope.to_bytes()))  # as the runner hands it over
    return out


def one_round(db, specs: list[ConsumerSpec], reports: int, batch: int) -> tuple[float, float]:
    """Feed one round of fresh reports' events to both groups; (CPU s, wall s) of the feeding only."""
    envelopes = events_of(add_reports(db, reports))
    chunks = [envelopes[i:i + batch] for i in range(0, len(envelopes), batch)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for chunk in chunks:  # both groups poll the same topic: each sees every batch
        for spec in specs:
            spec.handler(chunk)
    return time.process_time() - cpu0, time.perf_counter() - wall0


def run(reports: int, rounds: int, batch: int, database_url: str | None = None) -> dict:
    """Migrate a fresh database (SQLite in a temporary directory, or the empty one at ``database_url``), warm
    both variants up, then time ``rounds`` interleaved rounds of each."""
    logging.disable(logging.INFO)  # the services log at INFO in production too, but to files: not what we time
    with tempfile.TemporaryDirectory() as tmp:
        settings = IntakeSettings(common=CommonSettings(data_dir=Path(tmp), log_json=False))
        db = open_database(database_url or f"sqlite:///{Path(tmp) / 'intake.db'}")
        upgrade_to_head(db, "gridgov_event_intake")
        variants = {
            "before": [consumer_spec(db, t, lambda: settings) for t in (TICKET_STATUS, ASSIST_CORRECTIONS)],
            "after": [s for s in consumer_specs(db, settings) if s.group in GROUPS],
        }
        for specs in variants.values():
            one_round(db, specs, batch, batch)  # warm-up: imports, statement caches
        load = os.getloadavg()
        cpu: dict[str, list[float]] = {k: [] for k in variants}
        wall: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(rounds):
            for name, specs in variants.items():
                c, w = one_round(db, specs, reports, batch)
                cpu[name].append(c * 1000 / reports)
                wall[name].append(w * 1000 / reports)
        with db.session() as session:
            updates = session.execute(select(func.count()).select_from(ReportUpdate)).scalar_one()
            followed = session.execute(select(func.count()).select_from(Report)
                                       .where(Report.status == "dispatched")).scalar_one()
        db.engine.dispose()
    fed = reports * rounds * 2 + batch * 2  # both variants' rounds and warm-ups
    assert updates == fed * 2, f"{updates} report updates for {fed} reports' 2 events"
    assert followed == fed, f"{followed} of {fed} reports followed to dispatched"
    med = {k: statistics.median(v) for k, v in cpu.items()}
    return {
        "database": db.engine.dialect.name, "reports_per_round": reports, "rounds_each": rounds, "batch": batch,
        "events_per_report": 2,
        "consumer_groups": list(GROUPS),
        "cpu_ms_per_report": {k: [round(x, 3) for x in v] for k, v in cpu.items()},
        "cpu_ms_per_report_median": {k: round(v, 3) for k, v in med.items()},
        "wall_ms_per_report_median": {k: round(statistics.median(v), 3) for k, v in wall.items()},
        "before_over_after_cpu": round(med["before"] / med["after"], 2),
        "loadavg_before": [round(x, 2) for x in load], "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    """Run once, print the summary, store it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite in a temp dir)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    if not (1 <= args.reports <= 20_000 and 1 <= args.rounds <= 20 and 1 <= args.batch <= 1000):
        parser.error("bounded: --reports 1..20000, --rounds 1..20, --batch 1..1000")
    result = run(args.reports, args.rounds, args.batch, args.database_url)
    result.update(at=datetime.now(UTC).isoformat(timespec="seconds"), python=platform.python_version(),
                  cpus=os.cpu_count())
    print(json.dumps({k: result[k] for k in ("database", "cpu_ms_per_report_median", "before_over_after_cpu",
                                             "loadavg_before")}))
    if not args.no_save:
        stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        stored[result["database"]] = result  # the newest run on each backend
        RESULTS.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
