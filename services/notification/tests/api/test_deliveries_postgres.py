"""Delivery storage on PostgreSQL: no duplicates on redelivery, one claimant per row, outcomes recorded."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from conftest import require_infra
from gridgov_common.bus.envelope import new_envelope
from gridgov_common.db import Database
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.migrations import upgrade_to_head
from gridgov_notification.app import metadata
from gridgov_notification.channels import INBOX, build_channels, registered
from gridgov_notification.contacts.models import ContactPoint
from gridgov_notification.deliveries import service
from gridgov_notification.deliveries.handlers import TicketEventNotifier
from gridgov_notification.deliveries.models import Delivery
from gridgov_notification.inbox.models import InboxMessage
from gridgov_notification.settings import NotificationSettings
from gridgov_notification.templates import TemplateBook

pytestmark = pytest.mark.distributed


@pytest.fixture
def pg_db(common_settings):
    import psycopg

    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL/PostGIS")
    name = f"gg_notif_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    base = admin.rsplit("/", 1)[0]
    url = base.replace("postgresql://postgres@", "postgresql+psycopg://gridgov:gridgov@") + f"/{name}"
    db = Database(url, metadata, "notification-test")
    try:
        upgrade_to_head(db, "gridgov_notification")
        yield db
    finally:
        db.engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dispatched_envelope():
    now = datetime.now(UTC)
    event = TicketEvent(ticket_id="T-1", report_id="R-1", action="dispatch", from_state="registered",
                        to_state="dispatched", category_code="04002", department="water", grid_code=None,
                        village_code=None, town_code=None, reporter_id="u1", deadline=None, actor_id="rules",
                        actor_role="system", occurred_at=now)
    return new_envelope(type="ticket.dispatched", producer="dispatch", key="T-1", payload=event, correlation_id="R-1")


def test_deliveries_on_postgres_are_unique_claimed_once_and_settled(pg_db, common_settings):
    settings = NotificationSettings(common=common_settings, quiet_hours_enabled=False)
    channels = build_channels(settings, pg_db)
    notifier = TicketEventNotifier(TemplateBook.load(registered()), channels[INBOX], None)
    with pg_db.session() as session:
        session.add(ContactPoint(id="c1", address="department:water", channel="sms", target="13800138000",
                                 created_at=datetime.now(UTC), created_by="admin"))
        session.commit()
    env = dispatched_envelope()
    for _ in range(2):  # the same event twice, past the handled-message record: nothing doubles
        with pg_db.session() as session:
            notifier(session, env)
            session.commit()
    with pg_db.session() as session:
        rows = session.exec(select(Delivery)).all()
        assert sorted(r.channel for r in rows) == ["inbox", "sms"]
        assert len(session.exec(select(InboxMessage)).all()) == 1
    [sms] = [r for r in rows if r.channel == "sms"]
    now = datetime.now(UTC)
    with pg_db.session() as a:
        got_a = service.claim(a, [sms.id], "worker-a", now, now + timedelta(seconds=60))
    with pg_db.session() as b:
        got_b = service.claim(b, [sms.id], "worker-b", now, now + timedelta(seconds=60))
    assert [r.id for r in got_a] == [sms.id] and got_b == []
    with pg_db.session() as session:
        service.finish_many(session, [(sms.id, "worker-a", {"status": "sent", "attempts": 1, "sent_at": now,
                                                            "last_error": None})])
        session.commit()
    with pg_db.session() as session:
        settled = session.get(Delivery, sms.id)
        assert (settled.status, settled.attempts, settled.lease_owner) == ("sent", 1, None)
        assert abs(settled.sent_at - now) < timedelta(seconds=1)
