"""Issue #16: tickets of reports intake does not own (a camera's or a sensor's, raised by sensing) reach intake's
ticket-status consumer like every other; it handles them without error and changes nothing, and a sensing
device's evidence (``ticket.sensor_evidence_recorded``) is no news to a reporter merged into such a ticket."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from conftest import TEST_SECRET
from gridgov_common.auth import mint_token
from gridgov_common.bus.envelope import new_envelope
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_common.settings import CommonSettings
from gridgov_event_intake.app import create_app
from gridgov_event_intake.consumers import TICKET_STATUS
from gridgov_event_intake.reports.models import Report, ReportUpdate
from gridgov_event_intake.settings import IntakeSettings

GRID = "441900001001001"
PATROL = {"category_code": "04002", "description": "自来水管破裂，路面冒水", "lon": 113.75, "lat": 23.02}
STEPS = (("register", "registered"), ("dispatch", "dispatched"), ("sensor_evidence", "dispatched"),
         ("claim", "claimed"), ("handle", "handled"), ("sensor_evidence", "handled"), ("verify", "verified"),
         ("close", "closed"))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    common = CommonSettings(data_dir=tmp_path_factory.mktemp("intake"), jwt_secret=TEST_SECRET, log_json=False)
    with TestClient(create_app(IntakeSettings(common=common, citizen_reward_points=10))) as c:
        yield c


def events(ticket_id: str, report_id: str, channel: str, merged: tuple[str, ...] = ()) -> list:
    """A sensing ticket's life as dispatch publishes it: the device's evidence twice, verified by the device."""
    out = []
    for action, state in STEPS:
        note = "感知告警重复：累计 3 次" if action == "sensor_evidence" else None
        actor = ("system:sensing", "system") if action in ("sensor_evidence", "verify") else ("dispatch", "system")
        event = TicketEvent(ticket_id=ticket_id, report_id=report_id, action=action, from_state=None, to_state=state,
                            category_code="04002", department="water", grid_code=GRID, village_code=None,
                            town_code=None, reporter_id="44190000001320000001", deadline=None, actor_id=actor[0],
                            actor_role=actor[1], note=note,
                            occurred_at=datetime.now(UTC), channel=channel, merged_report_ids=list(merged),
                            merged_reporter_ids=["gw-1"] * len(merged))
        out.append(new_envelope(type=ticket_event_type(action), producer="dispatch", key=ticket_id, payload=event,
                                correlation_id=report_id))
    return out


def deliver(client, envelopes: list) -> None:
    """Hand a batch to intake's ticket-status consumer, as the bus runner does (an error would raise here)."""
    [spec] = [c for c in client.app.state.runtime.consumers if c.group == TICKET_STATUS.group]
    spec.handler(envelopes)


def test_sensor_evidence_is_not_routed_to_the_reporter():
    assert ticket_event_type("sensor_evidence") == "ticket.sensor_evidence_recorded"
    assert "ticket.sensor_evidence_recorded" not in TICKET_STATUS.handlers
    assert "ticket.verified" in TICKET_STATUS.handlers


@pytest.mark.parametrize("channel", ["video_ai", "iot"])
def test_ticket_of_a_report_intake_does_not_own_is_handled_and_changes_nothing(client, channel):
    with client.app.state.runtime.db.session() as session:
        before = (len(session.exec(select(Report.id)).all()), len(session.exec(select(ReportUpdate.id)).all()))
    batch = events(f"t-{channel}", f"r-sensing-{channel}", channel)
    deliver(client, batch)
    deliver(client, batch)  # redelivered
    with client.app.state.runtime.db.session() as session:
        after = (len(session.exec(select(Report.id)).all()), len(session.exec(select(ReportUpdate.id)).all()))
        assert session.get(Report, f"r-sensing-{channel}") is None
    assert after == before


def test_patrol_report_merged_into_a_sensing_ticket_follows_it_without_the_device_evidence(client):
    worker = mint_token(TEST_SECRET, sub="gw-1", role="grid_worker", grid=GRID)
    resp = client.post("/v1/reports/patrol", json=PATROL, headers={"Authorization": f"Bearer {worker}"})
    assert resp.status_code == 202, resp.text
    rid = resp.json()["report_id"]
    deliver(client, events("t-merged", "r-camera-1", "video_ai", merged=(rid,)))
    with client.app.state.runtime.db.session() as session:
        report = session.get(Report, rid)
        updates = session.exec(select(ReportUpdate.status).where(ReportUpdate.report_id == rid)).all()
    assert report.status == "closed" and report.ticket_id == "t-merged"
    # Every step but the device's evidence: registered, dispatched, claimed, handled, verified, closed.
    assert sorted(updates) == sorted(s for a, s in STEPS if a != "sensor_evidence")
