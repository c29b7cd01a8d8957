"""Issue #16 on the embedded stack: a ticket a camera or a sensor raised (channels video_ai, iot) closes without a
follow-up (回访) or an 已办结 message to the device; a person whose report was merged into it is still told and asked;
a sensing device's evidence on a ticket is no one's notice."""

import time
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from conftest import TEST_SECRET
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_common.settings import CommonSettings
from gridgov_notification.app import create_app
from gridgov_notification.followups.models import Followup
from gridgov_notification.inbox.models import InboxMessage
from gridgov_notification.settings import NotificationSettings

CAMERA, SENSOR = "44190000001320000001", "IOT-gas-3"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    common = CommonSettings(data_dir=tmp_path_factory.mktemp("notification"), jwt_secret=TEST_SECRET,
                            log_json=False)
    with TestClient(create_app(NotificationSettings(common=common))) as c:
        yield c


def event(action: str, to_state: str, channel: str, reporter_id: str, merged=()) -> Envelope:
    ticket_id = str(uuid.uuid4())
    payload = TicketEvent(
        ticket_id=ticket_id, report_id=f"R-{ticket_id}", action=action, from_state="verified", to_state=to_state,
        category_code="04003", department="gas", grid_code="441900001001001", village_code="441900001001",
        town_code="441900001", reporter_id=reporter_id, deadline=None, actor_id="cc-1", actor_role="command_centre",
        note="已处置", occurred_at=datetime.now(UTC), merged_report_ids=[r for r, _ in merged],
        merged_reporter_ids=[p for _, p in merged], channel=channel)
    return new_envelope(type=ticket_event_type(action), producer="dispatch", key=ticket_id, payload=payload,
                        correlation_id=payload.report_id)


def deliver(client, *envelopes: Envelope) -> None:
    """Publish ticket events and wait until the consumer handled them all."""
    runtime = client.app.state.runtime
    base = sum(r.handled for r in runtime.runners)
    runtime.bus.publish([OutgoingMessage(TICKETS_EVENTS, e.key, e.to_bytes()) for e in envelopes])
    deadline = time.monotonic() + 15
    while sum(r.handled for r in runtime.runners) < base + len(envelopes):
        assert time.monotonic() < deadline, "the consumer did not handle the events in time"
        time.sleep(0.02)


def rows(client, model, ticket_id: str) -> list:
    with client.app.state.runtime.db.session() as session:
        return list(session.exec(select(model).where(model.ticket_id == ticket_id)).all())


def test_closed_device_tickets_ask_and_tell_only_people_merged_into_them(client):
    alone = event("close", "closed", "iot", SENSOR)
    merged = event("close", "closed", "video_ai", CAMERA, merged=[("R-citizen", "wx-77")])
    citizen = event("close", "closed", "citizen", "wx-78")  # the usual case, for contrast
    deliver(client, alone, merged, citizen)
    alone_id, merged_id, citizen_id = (e.payload["ticket_id"] for e in (alone, merged, citizen))
    assert rows(client, Followup, alone_id) == [] and rows(client, InboxMessage, alone_id) == []
    [asked] = rows(client, Followup, merged_id)
    assert (asked.reporter_id, asked.report_id) == ("wx-77", "R-citizen")
    recipients = {m.recipient for m in rows(client, InboxMessage, merged_id)}
    assert recipients == {"user:wx-77"} and f"user:{CAMERA}" not in recipients
    assert [f.reporter_id for f in rows(client, Followup, citizen_id)] == ["wx-78"]


def test_sensor_evidence_files_no_message(client):
    evidence = event("sensor_evidence", "handled", "video_ai", CAMERA)
    deliver(client, evidence)
    assert rows(client, InboxMessage, evidence.payload["ticket_id"]) == []
