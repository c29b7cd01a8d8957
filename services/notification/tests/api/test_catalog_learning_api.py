"""notification learns dispatch's catalog versions from ``gridgov.catalog.published`` and names a ticket's
category in its inbox messages from the highest version learned (embedded stack; dispatch is played by
messages put on the bus)."""

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import CATALOG_PUBLISHED, TICKETS_EVENTS
from gridgov_common.categories import seed_book
from gridgov_common.events.catalog import (
    CATALOG_PUBLISHED_TYPE,
    CatalogPublished,
    CategoryEntry,
    catalog_key,
    catalog_message_id,
)
from gridgov_common.events.tickets import TicketEvent
from gridgov_notification.app import create_app
from gridgov_notification.catalog.models import CatalogVersion
from gridgov_notification.consumers import CATALOG
from gridgov_notification.settings import NotificationSettings

NEW_CODE = "30001"  # not in the packaged first version
NEW_NAME = "共享单车乱停放"
WAIT_S = 15.0
LINK = re.compile(r"/followups/[A-Za-z0-9_-]+")  # the page's link; the API is under /v1


@pytest.fixture
def client(common_settings):
    with TestClient(create_app(NotificationSettings(common=common_settings))) as c:
        yield c


def version_envelope(version: int, *extra: tuple[str, str, str]) -> Envelope:
    """A catalog version as dispatch announces it: the seed's middle classes plus ``extra``."""
    entries = [CategoryEntry(code=c.code, name_zh=c.name_zh, name_en=c.name_en) for c in seed_book()]
    entries += [CategoryEntry(code=code, name_zh=zh, name_en=en) for code, zh, en in extra]
    payload = CatalogPublished(version=version, published_at=datetime.now(UTC), categories=entries)
    envelope = new_envelope(type=CATALOG_PUBLISHED_TYPE, producer="dispatch", key=catalog_key(version),
                            payload=payload, correlation_id=catalog_key(version))
    return envelope.model_copy(update={"id": catalog_message_id(version)})


def announce(client, *envelopes: Envelope) -> None:
    """Put announcements on the bus and wait until notification's catalog consumer has handled them."""
    runtime = client.app.state.runtime
    [runner] = [r for r in runtime.runners if r.group == CATALOG.group]
    before = runner.handled
    runtime.bus.publish([OutgoingMessage(CATALOG_PUBLISHED, e.key, e.to_bytes()) for e in envelopes])
    deadline = time.monotonic() + WAIT_S
    while runner.handled < before + len(envelopes):
        assert time.monotonic() < deadline, "notification's catalog consumer did not handle the announcement"
        time.sleep(0.02)


def dispatched(category_code: str, event_type: str = "ticket.dispatched") -> Envelope:
    """A ticket event (``ticket.dispatched`` to the water department by default) of ``category_code``."""
    ticket_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    action = event_type.removeprefix("ticket.")
    event = TicketEvent(
        ticket_id=ticket_id, report_id=f"R-{ticket_id}", action=action, from_state="registered",
        to_state=action, category_code=category_code, department="water", grid_code="441900001001001",
        village_code="441900001001", town_code="441900001", reporter_id="citizen-42",
        deadline=now + timedelta(hours=24), actor_id="dispatch", actor_role="system", note=None, occurred_at=now)
    return new_envelope(type=event_type, producer="dispatch", key=ticket_id, payload=event,
                        correlation_id=event.report_id)


def inbox_item(client, headers, ticket_id: str, event_type: str = "ticket.dispatched") -> dict:
    """The inbox message of ``event_type`` about ``ticket_id``, once the ticket consumer has filed it."""
    deadline = time.monotonic() + WAIT_S
    while True:
        resp = client.get("/v1/inbox", headers=headers)
        assert resp.status_code == 200, resp.text
        items = [i for i in resp.json()["items"] if i["ticket_id"] == ticket_id and i["event_type"] == event_type]
        if items:
            return items[0]
        assert time.monotonic() < deadline, f"no {event_type} inbox message for ticket {ticket_id}"
        time.sleep(0.05)


def inbox_title(client, headers, ticket_id: str) -> str:
    """The title of the ``ticket.dispatched`` inbox message about ``ticket_id``."""
    return inbox_item(client, headers, ticket_id)["title"]


def test_inbox_names_new_category_after_learning_version_and_shows_bare_code_before(client, token):
    headers = token("dept_dispatcher", department="water")
    before = dispatched(NEW_CODE)
    client.app.state.runtime.bus.publish([OutgoingMessage(TICKETS_EVENTS, before.key, before.to_bytes())])
    # Before any version is learned: the packaged first version, which does not list the new code.
    assert inbox_title(client, headers, before.key) == f"新工单待签收：{NEW_CODE}"
    seeded = seed_book().get("04002")
    assert seeded is not None

    announce(client, version_envelope(2, (NEW_CODE, NEW_NAME, "Shared bikes parked badly")))
    with client.app.state.runtime.db.session() as session:
        assert session.exec(select(CatalogVersion.version)).all() == [2]
    after = dispatched(NEW_CODE)
    client.app.state.runtime.bus.publish([OutgoingMessage(TICKETS_EVENTS, after.key, after.to_bytes())])
    assert inbox_title(client, headers, after.key) == f"新工单待签收：{NEW_NAME}（{NEW_CODE}）"
    # A code of the first version keeps its name under the learned version.
    old = dispatched("04002")
    client.app.state.runtime.bus.publish([OutgoingMessage(TICKETS_EVENTS, old.key, old.to_bytes())])
    assert inbox_title(client, headers, old.key) == f"新工单待签收：{seeded.name_zh}（04002）"


def test_learn_catalog_version_announced_twice_stores_it_once(client):
    first = version_envelope(2, (NEW_CODE, NEW_NAME, "Shared bikes"))
    again = first.model_copy(update={"occurred_at": datetime.now(UTC)})  # the announcement at the next start
    announce(client, first, again, version_envelope(3, (NEW_CODE, NEW_NAME, "Shared bikes")))
    with client.app.state.runtime.db.session() as session:
        assert session.exec(select(CatalogVersion.version).order_by(CatalogVersion.version)).all() == [2, 3]


def test_followup_names_new_category_after_learning_version(client, token):
    announce(client, version_envelope(2, (NEW_CODE, NEW_NAME, "Shared bikes")))
    closed = dispatched(NEW_CODE, "ticket.closed")
    client.app.state.runtime.bus.publish([OutgoingMessage(TICKETS_EVENTS, closed.key, closed.to_bytes())])
    headers = token("citizen", sub="citizen-42")
    outcome = inbox_item(client, headers, closed.key, "ticket.closed")
    assert f"{NEW_NAME}（{NEW_CODE}）" in outcome["body"]
    ask = inbox_item(client, headers, closed.key, "followup.requested")
    resp = client.get("/v1" + LINK.search(ask["body"])[0])
    assert resp.status_code == 200, resp.text
    assert resp.json()["category_code"] == NEW_CODE and resp.json()["category_name"] == NEW_NAME
