"""Benchmark: notification deliveries per second, through the inbox channel and through the webhook channel.

N ticket.dispatched events (one notice each, to ``department:water``) are fed through the notification
consumer's batch handler (``consumers.consumer_specs``: the same idempotent batch the bus runner calls) in
batches of 500, on a fresh SQLite database built by the notification migrations (the embedded stack).
- inbox: no contact points; rate = inbox messages filed ÷ time to handle every batch (each commit files them).
- webhook: one webhook contact point on ``department:water`` pointing at a local HTTP/1.1 receiver (a
  ThreadingHTTPServer that checks the HMAC signature and answers 204); the delivery worker runs with the default
  concurrency; rate = webhook deliveries ÷ time from the first batch until the last delivery is marked sent.
Each scenario runs ``--runs`` times on a fresh database; the median is kept.

Run:  uv run python bench/notification_delivery.py [--events 2000] [--runs 3]
Results: bench/results/notification_delivery.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
from gridgov_notification.channels.webhook import verify  # noqa: E402
from gridgov_notification.consumers import consumer_specs  # noqa: E402
from gridgov_notification.contacts.models import ContactPoint  # noqa: E402
from gridgov_notification.deliveries.handlers import TicketEventNotifier  # noqa: E402
from gridgov_notification.deliveries.models import SENT, Delivery  # noqa: E402
from gridgov_notification.deliveries.policy import RetryPolicy  # noqa: E402
from gridgov_notification.deliveries.worker import DeliveryWorker  # noqa: E402
from gridgov_notification.followups.handlers import FollowupPlanner  # noqa: E402
from gridgov_notification.settings import NotificationSettings  # noqa: E402
from gridgov_notification.templates import TemplateBook  # noqa: E402

BATCH = 500
SECRET = "bench-webhook-secret-0123456789"


def envelopes(n: int) -> list:
    now = datetime.now(UTC)
    out = []
    for _ in range(n):
        ticket_id = str(uuid.uuid4())
        event = TicketEvent(ticket_id=ticket_id, report_id=ticket_id, action="dispatch", from_state="registered",
                            to_state="dispatched", category_code="04002", department="water",
                            grid_code="441900001001001", village_code="441900001001", town_code="441900001",
                            reporter_id="citizen-1", deadline=now + timedelta(hours=24), actor_id="rules",
                            actor_role="system", occurred_at=now)
        out.append(new_envelope(type="ticket.dispatched", producer="dispatch", key=ticket_id, payload=event,
                                correlation_id=ticket_id))
    return out


class Receiver:
    """A local webhook endpoint that verifies each signature and counts what it accepted."""

    def __init__(self):
        self.accepted = 0
        self.rejected = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the channel's connection pool reuses connections

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify(SECRET, body, self.headers.get("X-Gridgov-Signature", ""))
                with lock:
                    if ok:
                        receiver.accepted += 1
                    else:
                        receiver.rejected += 1
                self.send_response(204 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run(n: int, channel: str, receiver: Receiver | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = NotificationSettings(common=CommonSettings(data_dir=Path(tmp)), quiet_hours_enabled=False)
        db = Database(f"sqlite:///{Path(tmp) / 'notification.db'}", metadata, "notification-bench")
        upgrade_to_head(db, "gridgov_notification")
        channels = build_channels(settings, db)
        notifier = TicketEventNotifier(TemplateBook.load(registered()), channels[INBOX], None)
        planner = FollowupPlanner(TemplateBook.load(registered()), channels[INBOX], None, expiry_days=7,
                                  wake=notifier.wake)
        [spec] = consumer_specs(db, notifier, planner)
        handle = spec.handler
        worker = None
        if receiver:
            with db.session() as session:
                session.add(ContactPoint(id=str(uuid.uuid4()), address="department:water", channel="webhook",
                                         target=receiver.url, secret=SECRET, created_at=datetime.now(UTC),
                                         created_by="bench"))
                session.commit()
            worker = DeliveryWorker(db, channels, RetryPolicy(), concurrency=settings.delivery_concurrency,
                                    per_target=settings.delivery_concurrency, poll_interval_s=0.05,
                                    batch=settings.delivery_batch, wake=notifier.wake)
            worker.start()
        events = envelopes(n)
        t0 = time.perf_counter()
        for i in range(0, n, BATCH):
            handle(events[i:i + BATCH])
        consumed = time.perf_counter() - t0
        result = {"events": n, "consumer_seconds": round(consumed, 3)}
        if worker:
            deadline = time.monotonic() + 600
            while True:
                with db.engine.connect() as conn:
                    sent = conn.execute(select(func.count()).select_from(Delivery).where(
                        Delivery.channel == channel, Delivery.status == SENT)).scalar_one()
                if sent >= n or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            elapsed = time.perf_counter() - t0
            worker.stop()
            worker.join(30)
            result.update(delivered=sent, seconds=round(elapsed, 3), accepted_by_receiver=receiver.accepted)
        else:
            with db.engine.connect() as conn:
                sent = conn.execute(select(func.count()).select_from(Delivery).where(
                    Delivery.channel == channel, Delivery.status == SENT)).scalar_one()
            result.update(delivered=sent, seconds=round(consumed, 3))
        result["messages_per_s"] = round(result["delivered"] / result["seconds"])
        for c in channels.values():
            close = getattr(c, "close", None)
            if callable(close):
                close()
        db.engine.dispose()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    report: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "load_average_at_start": os.getloadavg()},
        "stack": "embedded (SQLite)", "batch": BATCH, "scenarios": {}}
    for channel in ("inbox", "webhook"):
        runs = []
        for _ in range(args.runs):
            receiver = Receiver() if channel == "webhook" else None
            try:
                runs.append(run(args.events, channel, receiver))
            finally:
                if receiver:
                    receiver.close()
            print(channel, json.dumps(runs[-1]), flush=True)
        report["scenarios"][channel] = {
            "median_messages_per_s": statistics.median(r["messages_per_s"] for r in runs), "runs": runs}
    report["load_average_at_end"] = os.getloadavg()
    out = ROOT / "bench" / "results" / "notification_delivery.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v["median_messages_per_s"] for k, v in report["scenarios"].items()}, indent=1))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
