"""Micro-benchmark (#18): CPU ms per ticket event in notification's ticket-event consumer, on SQLite.

N ``ticket.dispatched`` events (each one notice to ``department:water``) go through the real batch handler the
bus runner calls (``consumers.consumer_specs``: the idempotent batch, the notifier, the inbox), in batches of 200
(the runner's poll size), on a fresh SQLite database built by notification's migrations. Two scenarios:
- inbox: no contact points (one inbox message and one delivery row per event);
- contacts: ``department:water`` has a webhook and an SMS contact point (one inbox message, three deliveries);
  a few other addresses have contact points too, so the lookup is not a table of one;
- closed: the same contact points, N ``ticket.closed`` events instead (the reporter, who has an SMS contact
  point, is told and asked for a follow-up: two inbox messages, four deliveries, one follow-up per event).
CPU time is ``time.process_time`` around the handler calls only (setup and envelope building excluded); each
scenario runs ``--runs`` times on a fresh database and the median is kept. The delivery worker does not run.

Run:  uv run --frozen python bench/loop_notification.py [--events 2000] [--runs 3] [--label after]
Results: bench/results/loop_notification.json (the label's figures replace that label's, others are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_common.bus.envelope import new_envelope  # noqa: E402
from gridgov_common.db import Database  # noqa: E402
from gridgov_common.events.tickets import TicketEvent  # noqa: E402
from gridgov_common.migrations import upgrade_to_head  # noqa: E402
from gridgov_common.settings import CommonSettings  # noqa: E402
from gridgov_notification.app import metadata  # noqa: E402
from gridgov_notification.channels import INBOX, build_channels, registered  # noqa: E402
from gridgov_notification.consumers import consumer_specs  # noqa: E402
from gridgov_notification.contacts.models import ContactPoint  # noqa: E402
from gridgov_notification.deliveries.handlers import TicketEventNotifier  # noqa: E402
from gridgov_notification.deliveries.models import Delivery  # noqa: E402
from gridgov_notification.followups.handlers import FollowupPlanner  # noqa: E402
from gridgov_notification.inbox.models import InboxMessage  # noqa: E402
from gridgov_notification.settings import NotificationSettings  # noqa: E402
from gridgov_notification.templates import TemplateBook  # noqa: E402

BATCH = 200
OUT = ROOT / "bench" / "results" / "loop_notification.json"


def envelopes(n: int, event_type: str = "ticket.dispatched") -> list:
    """N envelopes of distinct tickets (dispatched, or closed)."""
    now = datetime.now(UTC)
    out = []
    for _ in range(n):
        ticket_id = str(uuid.uuid4())
        closed = event_type == "ticket.closed"
        event = TicketEvent(ticket_id=ticket_id, report_id=ticket_id, action="close" if closed else "dispatch",
                            from_state="verified" if closed else "registered",
                            to_state="closed" if closed else "dispatched", category_code="04002", department="water",
                            grid_code="441900001001001", village_code="441900001001", town_code="441900001",
                            reporter_id="citizen-1", deadline=now + timedelta(hours=24), actor_id="rules",
                            actor_role="system", occurred_at=now)
        out.append(new_envelope(type=event_type, producer="dispatch", key=ticket_id, payload=event,
                                correlation_id=ticket_id))
    return out


def add_contacts(db: Database) -> None:
    """Two contact points of department:water, one of the reporter and one each of 20 other departments."""
    now = datetime.now(UTC)
    with db.session() as session:
        session.add(ContactPoint(id=str(uuid.uuid4()), address="department:water", channel="webhook",
                                 target="http://127.0.0.1:9/hook", secret="bench-secret-0123456789",
                                 created_at=now, created_by="bench"))
        session.add(ContactPoint(id=str(uuid.uuid4()), address="department:water", channel="sms",
                                 target="13800138000", created_at=now, created_by="bench"))
        session.add(ContactPoint(id=str(uuid.uuid4()), address="user:citizen-1", channel="sms",
                                 target="13700137000", created_at=now, created_by="bench"))
        for i in range(20):
            session.add(ContactPoint(id=str(uuid.uuid4()), address=f"department:d{i}", channel="email",
                                     target=f"d{i}@example.cn", created_at=now, created_by="bench"))
        session.commit()


def run(n: int, with_contacts: bool, event_type: str = "ticket.dispatched") -> dict:
    """One run on a fresh database: CPU and wall seconds of the handler calls, rows written."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = NotificationSettings(common=CommonSettings(data_dir=Path(tmp)), quiet_hours_enabled=False)
        db = Database(f"sqlite:///{Path(tmp) / 'notification.db'}", metadata, "notification-bench")
        upgrade_to_head(db, "gridgov_notification")
        if with_contacts:
            add_contacts(db)
        channels = build_channels(settings, db)
        notifier = TicketEventNotifier(TemplateBook.load(registered()), channels[INBOX], None)
        planner = FollowupPlanner(TemplateBook.load(registered()), channels[INBOX], None, expiry_days=7,
                                  wake=notifier.wake)
        handle = consumer_specs(db, notifier, planner)[0].handler
        handle(envelopes(BATCH, event_type))  # warm-up: imports, statement caches, the contact points read once
        events = envelopes(n, event_type)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(0, n, BATCH):
            handle(events[i:i + BATCH])
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        with db.engine.connect() as conn:
            inbox = conn.execute(select(func.count()).select_from(InboxMessage)).scalar_one()
            deliveries = conn.execute(select(func.count()).select_from(Delivery)).scalar_one()
        for c in channels.values():
            close = getattr(c, "close", None)
            if callable(close):
                close()
        db.engine.dispose()
        if event_type == "ticket.closed":  # told and asked: two inbox messages, each also by SMS
            assert inbox == 2 * (n + BATCH) and deliveries == 4 * (n + BATCH), (inbox, deliveries)
        else:
            per_event = 2 if with_contacts else 0
            assert inbox == n + BATCH and deliveries == (n + BATCH) * (1 + per_event), (inbox, deliveries)
        return {"events": n, "cpu_s": round(cpu, 4), "wall_s": round(wall, 4),
                "cpu_ms_per_event": round(1000 * cpu / n, 4), "inbox_messages": inbox, "deliveries": deliveries}


def main() -> None:
    """Run both scenarios and save the medians under ``--label``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    result: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "git_head": commit,
                    "load_average_at_start": os.getloadavg(), "scenarios": {}}
    for name, with_contacts, event_type in (("inbox", False, "ticket.dispatched"),
                                            ("contacts", True, "ticket.dispatched"),
                                            ("closed", True, "ticket.closed")):
        runs = [run(args.events, with_contacts, event_type) for _ in range(args.runs)]
        result["scenarios"][name] = {
            "median_cpu_ms_per_event": statistics.median(r["cpu_ms_per_event"] for r in runs), "runs": runs}
        print(name, json.dumps(result["scenarios"][name]), flush=True)
    result["load_average_at_end"] = os.getloadavg()
    saved = json.loads(OUT.read_text()) if OUT.exists() else {}
    saved.update({"benchmark": "bench/loop_notification.py", "stack": "embedded (SQLite)", "batch": BATCH,
                  "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}})
    saved.setdefault("results", {})[args.label] = result
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {OUT} [{args.label}]")


if __name__ == "__main__":
    main()
