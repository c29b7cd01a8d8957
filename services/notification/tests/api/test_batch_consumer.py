"""The ticket-event consumer works a polled batch as a batch (#18): contact points from memory checked once per
batch, inbox messages and deliveries written in one statement per table at commit — with the same result as one
message at a time, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from gridgov_common.auth import Principal
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.db import Database
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.migrations import upgrade_to_head
from gridgov_notification.app import metadata
from gridgov_notification.channels import INBOX, build_channels, registered
from gridgov_notification.consumers import consumer_specs
from gridgov_notification.contacts import handlers as contacts
from gridgov_notification.contacts.models import ContactPoint
from gridgov_notification.contacts.schemas import ContactPointCreate
from gridgov_notification.contacts.service import bump_version
from gridgov_notification.deliveries.handlers import TicketEventNotifier
from gridgov_notification.deliveries.models import Delivery
from gridgov_notification.followups.handlers import FollowupPlanner
from gridgov_notification.followups.models import Followup
from gridgov_notification.inbox.models import InboxMessage
from gridgov_notification.settings import NotificationSettings
from gridgov_notification.templates import TemplateBook

ADMIN = Principal(sub="admin-1", role="admin")
GRID = "441900001001001"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def url(request, tmp_path):
    """A fresh, migrated notification database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'notification.db'}"
    return request.getfixturevalue("pg_url")


class Consumer:
    """One process's view: its own engine (hence its own cached contact points) and the real batch handler."""

    def __init__(self, url: str, common_settings):
        self.db = Database(url, metadata, "notification-test")
        settings = NotificationSettings(common=common_settings, quiet_hours_enabled=False)
        self.channels = build_channels(settings, self.db)
        templates = TemplateBook.load(registered())
        notifier = TicketEventNotifier(templates, self.channels[INBOX], None)
        planner = FollowupPlanner(templates, self.channels[INBOX], None, expiry_days=7, wake=notifier.wake)
        self.handle = consumer_specs(self.db, notifier, planner)[0].handler

    def inbox(self) -> list[tuple]:
        with self.db.engine.connect() as conn:
            return sorted(conn.execute(select(
                InboxMessage.event_type, InboxMessage.ticket_id, InboxMessage.recipient, InboxMessage.title,
            )).all())

    def deliveries(self) -> list[tuple]:
        with self.db.engine.connect() as conn:
            return sorted(conn.execute(select(
                Delivery.event_type, Delivery.ticket_id, Delivery.address, Delivery.channel, Delivery.target,
                Delivery.status, Delivery.template, Delivery.subject,
            )).all())

    def followups(self) -> list[tuple]:
        with self.db.engine.connect() as conn:
            return sorted(conn.execute(select(Followup.ticket_id, Followup.reporter_id)).all())

    def close(self) -> None:
        for channel in self.channels.values():
            close = getattr(channel, "close", None)
            if callable(close):
                close()
        self.db.engine.dispose()


@pytest.fixture
def consumers(url, common_settings):
    """``consumers(n)``: n consumers (n processes) on one migrated database."""
    made: list[Consumer] = []

    def make(n: int = 1) -> list[Consumer]:
        for _ in range(n):
            made.append(Consumer(url, common_settings))
        if len(made) == n:
            upgrade_to_head(made[0].db, "gridgov_notification")
        return made[-n:]

    yield make
    for consumer in made:
        consumer.close()


def ticket(event_type: str, ticket_id: str | None = None, **change) -> Envelope:
    ticket_id = ticket_id or str(uuid.uuid4())
    now = datetime.now(UTC)
    payload = dict(ticket_id=ticket_id, report_id=f"R-{ticket_id[:8]}", action=event_type.removeprefix("ticket."),
                   from_state=None, to_state="dispatched", category_code="04002", department="water",
                   grid_code=GRID, village_code="441900001001", town_code="441900001", reporter_id="citizen-42",
                   deadline=now + timedelta(hours=24), actor_id="dispatch", actor_role="system", note=None,
                   occurred_at=now)
    event_ = TicketEvent(**{**payload, **change})
    return new_envelope(type=event_type, producer="dispatch", key=ticket_id, payload=event_,
                        correlation_id=event_.report_id)


def mixed_batch() -> list[Envelope]:
    """Events of several types, two tickets closed (one with a merged reporter: two follow-ups)."""
    return [ticket("ticket.dispatched"), ticket("ticket.dispatched", department="roads"),
            ticket("ticket.handled"), ticket("ticket.escalated", escalation_level=2),
            ticket("ticket.closed", merged_reporter_ids=["citizen-7"]), ticket("ticket.claimed"),
            ticket("ticket.closed"), ticket("ticket.registered", department=None)]


def add_contacts(db: Database) -> None:
    with db.session() as session:
        for i, (address, channel, target) in enumerate([
                ("department:water", "webhook", "http://127.0.0.1:9/hook"), ("department:water", "sms", "13800138000"),
                ("role:command_centre", "email", "cc@example.cn"), (f"grid:{GRID}", "sms", "13900139000"),
                ("user:citizen-42", "sms", "13700137000")]):
            session.add(ContactPoint(id=f"c{i}", address=address, channel=channel, target=target,
                                     created_at=datetime.now(UTC), created_by="test"))
        session.commit()


def webhook_targets(consumer: Consumer) -> list[str]:
    return [d[4] for d in consumer.deliveries() if d[3] == "webhook"]


def test_contact_point_changed_by_another_process_is_seen_by_the_next_batch(consumers):
    consumer, api = consumers(2)
    consumer.handle([ticket("ticket.dispatched")])  # the consumer's cache now holds "no contact points"
    assert webhook_targets(consumer) == []
    added = contacts.add_contact(api.db, ADMIN, ContactPointCreate(
        address="department:water", channel="webhook", target="http://127.0.0.1:9/a", secret="s" * 20))
    consumer.handle([ticket("ticket.dispatched")])
    assert webhook_targets(consumer) == ["http://127.0.0.1:9/a"]
    contacts.remove_contact(api.db, added.id)
    consumer.handle([ticket("ticket.dispatched")])
    assert webhook_targets(consumer) == ["http://127.0.0.1:9/a"]  # only the batch before the removal
    # A second contact point added and the first kept removed: count and counter both move.
    contacts.add_contact(api.db, ADMIN, ContactPointCreate(
        address="department:water", channel="webhook", target="http://127.0.0.1:9/b", secret="s" * 20))
    consumer.handle([ticket("ticket.dispatched")])
    assert sorted(webhook_targets(consumer)) == ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]


def test_contact_point_deactivated_in_the_database_is_seen_by_the_next_batch(consumers):
    consumer, api = consumers(2)
    add_contacts(api.db)
    consumer.handle([ticket("ticket.dispatched")])
    assert webhook_targets(consumer) == ["http://127.0.0.1:9/hook"]
    with api.db.session() as session:  # by hand, counter bumped as the service does
        session.get(ContactPoint, "c0").active = False
        bump_version(session)
        session.commit()
    consumer.handle([ticket("ticket.dispatched")])
    assert webhook_targets(consumer) == ["http://127.0.0.1:9/hook"]


def test_batch_reads_contact_points_once_not_per_message(consumers):
    [consumer] = consumers(1)
    add_contacts(consumer.db)
    statements: list[str] = []
    listener = lambda _conn, _cur, sql, *_args: statements.append(sql)  # noqa: E731
    event.listen(consumer.db.engine, "before_cursor_execute", listener)
    try:
        consumer.handle([ticket("ticket.dispatched") for _ in range(40)])
        first = [s for s in statements if "contact_point" in s]
        statements.clear()
        consumer.handle([ticket("ticket.dispatched") for _ in range(40)])
        second = [s for s in statements if "contact_point" in s]
    finally:
        event.remove(consumer.db.engine, "before_cursor_execute", listener)
    assert len(first) == 2  # the stamp, then the load (the cache was empty)
    assert len(second) == 1  # the stamp only: unchanged, served from memory
    assert len([d for d in consumer.deliveries() if d[3] == "sms"]) == 80


def forget_handled(consumer: Consumer) -> None:
    """Delete what the consumer wrote and its handled-message records, so the same events are handled anew."""
    with consumer.db.engine.begin() as conn:
        for table in ("inbox_message", "delivery", "followup", "handled_message"):
            conn.exec_driver_sql(f"DELETE FROM {table}")


def test_batch_files_what_one_message_at_a_time_files(consumers):
    [consumer] = consumers(1)
    add_contacts(consumer.db)
    envelopes = mixed_batch()
    consumer.handle(envelopes)
    got = (consumer.inbox(), consumer.deliveries(), consumer.followups())
    forget_handled(consumer)
    for envelope in envelopes:  # the same events one at a time, as the runner retries a failed batch
        consumer.handle([envelope])
    assert (consumer.inbox(), consumer.deliveries(), consumer.followups()) == got
    assert len(got[0]) == 11 and len(got[2]) == 2  # one follow-up per closed ticket's own reporter
    assert {d[3] for d in got[1]} == {"inbox", "webhook", "sms", "email"}


def test_duplicate_message_in_a_batch_and_its_redelivery_file_once(consumers):
    [consumer] = consumers(1)
    add_contacts(consumer.db)
    dispatched, closed = ticket("ticket.dispatched"), ticket("ticket.closed")
    consumer.handle([dispatched, closed, dispatched, closed])
    once = (consumer.inbox(), consumer.deliveries(), consumer.followups())
    consumer.handle([closed, dispatched])  # redelivered after the commit
    assert (consumer.inbox(), consumer.deliveries(), consumer.followups()) == once
    assert len(once[0]) == 3 and len(once[2]) == 1  # department, reporter's closed notice, follow-up request


def test_failing_message_leaves_nothing_of_its_batch_and_one_at_a_time_files_the_rest(consumers):
    [consumer] = consumers(1)
    add_contacts(consumer.db)
    good = [ticket("ticket.dispatched"), ticket("ticket.closed")]
    bad = ticket("ticket.dispatched").model_copy(update={"payload": {"ticket_id": "T-bad"}})  # fails validation
    batch = [good[0], bad, good[1]]
    with pytest.raises(Exception):  # noqa: B017 - whatever the payload's validation raises
        consumer.handle(batch)
    assert consumer.inbox() == [] and consumer.deliveries() == [] and consumer.followups() == []
    with consumer.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(consumer.db.tables.handled)).scalar_one() == 0
    for envelope in batch:  # the runner's fallback: one message at a time, the poison one dead-lettered
        if envelope is bad:
            with pytest.raises(Exception):  # noqa: B017
                consumer.handle([envelope])
        else:
            consumer.handle([envelope])
    filed = (consumer.inbox(), consumer.deliveries(), consumer.followups())
    forget_handled(consumer)
    consumer.handle(good)  # the good messages alone, as one batch
    assert (consumer.inbox(), consumer.deliveries(), consumer.followups()) == filed
    assert len(filed[0]) == 3


def test_rolled_back_transaction_forgets_its_staged_rows(consumers):
    [consumer] = consumers(1)
    notifier = TicketEventNotifier(TemplateBook.load(registered()), consumer.channels[INBOX], None)
    with consumer.db.session() as session:
        notifier(session, ticket("ticket.dispatched"))
        session.rollback()
        notifier(session, ticket("ticket.dispatched", department="roads"))
        session.commit()
    assert [row[2] for row in consumer.inbox()] == ["department:roads"]


def test_redelivery_without_its_handled_record_asks_nobody_twice(consumers):
    [consumer] = consumers(1)
    add_contacts(consumer.db)
    batch = [ticket("ticket.dispatched"), ticket("ticket.closed", merged_reporter_ids=["citizen-7"])]
    consumer.handle(batch)
    once = (consumer.inbox(), consumer.deliveries(), consumer.followups())
    with consumer.db.engine.begin() as conn:  # the records gone (say, purged): only the unique keys guard now
        conn.exec_driver_sql("DELETE FROM handled_message")
    consumer.handle(batch)
    assert (consumer.inbox(), consumer.deliveries(), consumer.followups()) == once
