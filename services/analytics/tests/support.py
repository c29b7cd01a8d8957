"""Helpers of analytics' tests: ticket events, ratings and grids as the other services publish them, tokens, and
waiting for the read model."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from conftest import TEST_SECRET
from gridgov_common.auth import mint_token
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import FEEDBACK_RECEIVED, GRIDS_PUBLISHED, TICKETS_EVENTS
from gridgov_common.events.feedback import FEEDBACK_RECEIVED_TYPE, FeedbackReceived
from gridgov_common.events.grids import GRID_PUBLISHED_TYPE, GridPublished, grid_key, grid_message_id
from gridgov_common.events.tickets import TICKET_EVENT_NAMES, TicketEvent

WAIT_S = 20.0
TOWN, VILLAGE = "441900001", "441900001001"
GRIDS = ("441900001001001", "441900001001002")


def bearer(role: str) -> dict[str, str]:
    """A bearer header of a role."""
    return {"Authorization": f"Bearer {mint_token(TEST_SECRET, sub=f'{role}-1', role=role)}"}


def ticket_envelope(action: str, ticket_id: str, at: datetime, *, grid: str = GRIDS[0], category: str = "04002",
                    channel: str = "hotline", **change) -> Envelope:
    """A ticket transition as dispatch publishes it."""
    payload = dict(ticket_id=ticket_id, report_id=f"R-{ticket_id}", action=action, from_state=None,
                   to_state=action, category_code=category, department="water", grid_code=grid,
                   village_code=VILLAGE, town_code=TOWN, reporter_id="citizen-42",
                   deadline=at + timedelta(hours=24), actor_id="dispatch", actor_role="system", occurred_at=at,
                   channel=channel)
    event = TicketEvent(**{**payload, **change})
    return new_envelope(type=f"ticket.{TICKET_EVENT_NAMES[action]}", producer="dispatch", key=ticket_id,
                        payload=event, correlation_id=event.report_id)


def rating_envelope(ticket_id: str, at: datetime, satisfaction: int, solved: bool = True) -> Envelope:
    """A reporter's answer to a follow-up as notification publishes it."""
    answer = FeedbackReceived(followup_id=str(uuid.uuid4()), ticket_id=ticket_id, report_id=f"R-{ticket_id}",
                              reporter_id="citizen-42", channel="hotline", solved=solved,
                              satisfaction=satisfaction, answered_at=at, answered_by="reporter")
    return new_envelope(type=FEEDBACK_RECEIVED_TYPE, producer="notification", key=ticket_id, payload=answer,
                        correlation_id=answer.report_id)


def grid_envelope(grid: str, lon: float) -> Envelope:
    """A grid announcement of grid-registry (a small square)."""
    square = [[lon, 23.0], [lon + 0.01, 23.0], [lon + 0.01, 23.01], [lon, 23.01], [lon, 23.0]]
    published = GridPublished(grid_code=grid, grid_name=f"网格{grid[-3:]}", village_code=VILLAGE, town_code=TOWN,
                              grid_set_version="1", boundary={"type": "Polygon", "coordinates": [square]},
                              published_at=datetime(2026, 1, 1, tzinfo=UTC))
    envelope = new_envelope(type=GRID_PUBLISHED_TYPE, producer="grid-registry", key=grid_key(grid),
                            payload=published, correlation_id=grid)
    return envelope.model_copy(update={"id": grid_message_id(grid, "1")})


def publish(bus, *envelopes: Envelope) -> None:
    """Put envelopes on their topics."""
    topic = {"grid.published": GRIDS_PUBLISHED, FEEDBACK_RECEIVED_TYPE: FEEDBACK_RECEIVED}
    bus.publish([OutgoingMessage(topic.get(e.type, TICKETS_EVENTS), e.key, e.to_bytes()) for e in envelopes])


def wait_cube(client: TestClient, expect: dict[str, int], origin: str = "bus") -> dict:
    """The cube's status once its ``origin`` totals equal ``expect`` (fails after WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        status = client.get("/v1/admin/cube", headers=bearer("admin")).json()
        if status[origin] == expect or time.monotonic() > deadline:
            assert status[origin] == expect, status
            return status
        time.sleep(0.1)
