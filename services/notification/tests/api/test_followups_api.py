"""Follow-ups (回访) through the API on the embedded stack: created when a ticket closes, shown and answered by
link without login, recorded for a hotline caller by a 12345 operator, answered once, and published."""

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import FEEDBACK_RECEIVED, TICKETS_EVENTS
from gridgov_common.events.feedback import FeedbackReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_notification.app import create_app
from gridgov_notification.followups.models import Followup
from gridgov_notification.settings import NotificationSettings

WAIT_S = 15.0
LINK = re.compile(r"/followups/([A-Za-z0-9_-]+)")  # the page's link; the API is under /v1


@pytest.fixture
def client(common_settings):
    app = create_app(NotificationSettings(common=common_settings))
    with TestClient(app) as c:
        yield c


def closed_envelope(reporter_id="wx-42", merged=(), channel="citizen", note="垃圾已清运") -> Envelope:
    ticket_id = str(uuid.uuid4())
    event = TicketEvent(
        ticket_id=ticket_id, report_id=f"R-{ticket_id}", action="close", from_state="verified", to_state="closed",
        category_code="01002", department="urban", grid_code="441900001001001", village_code="441900001001",
        town_code="441900001", reporter_id=reporter_id, deadline=None, actor_id="cc-1", actor_role="command_centre",
        note=note, occurred_at=datetime.now(UTC), merged_report_ids=[r for r, _ in merged],
        merged_reporter_ids=[p for _, p in merged], channel=channel)
    return new_envelope(type="ticket.closed", producer="dispatch", key=ticket_id, payload=event,
                        correlation_id=event.report_id)


def publish(client, *envelopes: Envelope) -> None:
    client.app.state.runtime.bus.publish([OutgoingMessage(TICKETS_EVENTS, e.key, e.to_bytes()) for e in envelopes])


def followups_of(client, ticket_id: str, count: int) -> list[Followup]:
    deadline = time.monotonic() + WAIT_S
    while True:
        with client.app.state.runtime.db.session() as session:
            rows = list(session.exec(select(Followup).where(Followup.ticket_id == ticket_id)).all())
        if len(rows) >= count or time.monotonic() > deadline:
            assert len(rows) == count, rows
            return rows
        time.sleep(0.05)


def link_in_inbox(client, headers, ticket_id: str) -> str:
    """The follow-up link the recipient reads in their inbox (the path, token included)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        items = client.get("/v1/inbox", headers=headers).json()["items"]
        asks = [i for i in items if i["ticket_id"] == ticket_id and i["event_type"] == "followup.requested"]
        if asks or time.monotonic() > deadline:
            assert len(asks) == 1, items
            return "/v1" + LINK.search(asks[0]["body"])[0]
        time.sleep(0.05)


def feedback_published(client, expect: int, timeout: float = 5.0) -> list[Envelope]:
    client.app.state.runtime.relay.drain()
    consumer = client.app.state.runtime.bus.consumer(f"test-{uuid.uuid4().hex[:6]}", [FEEDBACK_RECEIVED])
    got: list[Envelope] = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < expect and time.monotonic() < deadline:
            got += [Envelope.from_bytes(r.value) for r in consumer.poll(timeout=0.2)]
        if expect == 0:
            got += [Envelope.from_bytes(r.value) for r in consumer.poll(timeout=0.3)]
    finally:
        consumer.close()
    return got


def citizen_link(client, token, **kw) -> tuple[Envelope, str]:
    env = closed_envelope(**kw)
    publish(client, env)
    return env, link_in_inbox(client, token("citizen", sub=kw.get("reporter_id", "wx-42")), env.key)


def test_get_followup_shows_ticket_outcome_without_login(client, token):
    env, link = citizen_link(client, token)
    resp = client.get(link)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["ticket_id"] == env.key and body["category_name"] == "暴露垃圾"
    assert body["closed_note"] == "垃圾已清运" and body["answered"] is False and body["expired"] is False
    assert body["callback"] is False
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)


def test_get_followup_never_shows_another_reporters_data(client, token):
    env = closed_envelope(merged=[("R-other", "hotline:13800-77")])
    publish(client, env)
    link = link_in_inbox(client, token("citizen", sub="wx-42"), env.key)
    text = client.get(link).text
    assert "13800-77" not in text and "R-other" not in text and "wx-42" not in text and env.payload["report_id"] \
        not in text


def test_post_followup_records_answer_and_publishes_feedback_received(client, token):
    env, link = citizen_link(client, token)
    resp = client.post(link, json={"solved": False, "satisfaction": 1, "comment": "垃圾又堆起来了"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["answered"] is True and resp.json()["satisfaction"] == 1
    assert client.get(link).json()["answered"] is True
    [published] = feedback_published(client, 1)
    assert (published.type, published.key, published.producer) == ("feedback.received", env.key, "notification")
    feedback = FeedbackReceived.model_validate(published.payload)
    [followup] = followups_of(client, env.key, 1)
    assert (feedback.followup_id, feedback.ticket_id, feedback.report_id) == (followup.id, env.key,
                                                                              env.payload["report_id"])
    assert (feedback.reporter_id, feedback.channel, feedback.solved, feedback.satisfaction) == (
        "wx-42", "citizen", False, 1)
    assert feedback.comment == "垃圾又堆起来了" and feedback.answered_by == "reporter"
    assert followup.token not in published.to_bytes().decode()  # the credential never leaves the service


def test_post_followup_twice_is_409_and_publishes_once(client, token):
    _env, link = citizen_link(client, token)
    assert client.post(link, json={"solved": True, "satisfaction": 5}).status_code == 200
    again = client.post(link, json={"solved": False, "satisfaction": 1})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_answered"
    assert client.get(link).json()["satisfaction"] == 5
    assert len(feedback_published(client, 2, timeout=2.0)) == 1


def test_post_followup_expired_is_410_and_writes_nothing(client, token):
    env, link = citizen_link(client, token)
    with client.app.state.runtime.db.session() as session:
        row = session.exec(select(Followup).where(Followup.ticket_id == env.key)).one()
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(row)
        session.commit()
    resp = client.post(link, json={"solved": True, "satisfaction": 4})
    assert resp.status_code == 410 and resp.json()["error"]["code"] == "gone"
    assert resp.json()["error"]["details"][0]["field"] == "token"
    shown = client.get(link).json()
    assert shown["expired"] is True and shown["answered"] is False
    assert feedback_published(client, 0, timeout=1.0) == []


def test_followup_unknown_token_is_404(client):
    assert client.get("/v1/followups/no-such-token").status_code == 404
    resp = client.post("/v1/followups/no-such-token", json={"solved": True, "satisfaction": 5})
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("body", "field"), [
    ({"solved": True, "satisfaction": 0}, "satisfaction"),
    ({"solved": True, "satisfaction": 6}, "satisfaction"),
    ({"solved": True, "satisfaction": "good"}, "satisfaction"),
    ({"satisfaction": 3}, "solved"),
    ({"solved": True, "satisfaction": 3, "comment": "长" * 501}, "comment"),
    ({"solved": True, "satisfaction": 3, "reporter_id": "x"}, "reporter_id"),
])
def test_post_followup_bad_fields_is_422_naming_field_and_writes_nothing(client, token, body, field):
    env, link = citizen_link(client, token)
    resp = client.post(link, json=body)
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]
    [followup] = followups_of(client, env.key, 1)
    assert followup.answered_at is None
    assert client.get(link).json()["answered"] is False


def test_post_followup_token_too_long_is_422(client):
    resp = client.post("/v1/followups/" + "a" * 65, json={"solved": True, "satisfaction": 5})
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "token"


def test_hotline_followup_reaches_command_centre_and_operator_records_answer(client, token):
    env = closed_envelope(reporter_id="hotline:DG-2026-0042", channel="hotline")
    publish(client, env)
    centre = token("command_centre", sub="op-12345")
    link = link_in_inbox(client, centre, env.key)
    items = client.get("/v1/inbox", headers=centre).json()["items"]
    [todo] = [i for i in items if i["event_type"] == "followup.requested"]
    assert todo["title"].startswith("回访待办") and "DG-2026-0042" in todo["body"]
    assert client.get(link).json()["callback"] is True

    answer = {"solved": True, "satisfaction": 4, "comment": "来电人表示已修好"}
    assert client.post(link, json=answer).status_code == 401  # nobody may answer as the caller without login
    assert client.post(link, json=answer, headers=token("citizen", sub="wx-1")).status_code == 403
    assert client.get(link).json()["answered"] is False
    resp = client.post(link, json=answer, headers=centre)
    assert resp.status_code == 200, resp.text
    [published] = feedback_published(client, 1)
    feedback = FeedbackReceived.model_validate(published.payload)
    assert (feedback.answered_by, feedback.reporter_id, feedback.channel) == (
        "operator:op-12345", "hotline:DG-2026-0042", "hotline")


def test_operator_may_not_answer_a_citizens_followup(client, token):
    _env, link = citizen_link(client, token)
    resp = client.post(link, json={"solved": True, "satisfaction": 5}, headers=token("command_centre"))
    assert resp.status_code == 403
    assert client.get(link).json()["answered"] is False
    assert feedback_published(client, 0, timeout=1.0) == []


def test_post_followup_with_invalid_bearer_is_401(client, token):
    _env, link = citizen_link(client, token)
    resp = client.post(link, json={"solved": True, "satisfaction": 5}, headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    assert client.get(link).json()["answered"] is False


def test_closed_ticket_asks_every_reporter_once_even_when_delivered_twice(client, token):
    env = closed_envelope(merged=[("R-2", "gw-5"), ("R-3", "hotline:H-7"), ("R-4", "wx-42")])
    publish(client, env, env)
    rows = followups_of(client, env.key, 3)
    assert sorted(r.reporter_id for r in rows) == ["gw-5", "hotline:H-7", "wx-42"]
    assert len({r.token for r in rows}) == 3
    assert {r.report_id for r in rows} == {env.payload["report_id"], "R-2", "R-3"}
    link_in_inbox(client, token("citizen", sub="wx-42"), env.key)  # exactly one ask each
    link_in_inbox(client, token("grid_worker", sub="gw-5"), env.key)
    link_in_inbox(client, token("command_centre"), env.key)
    time.sleep(0.3)
    assert len(followups_of(client, env.key, 3)) == 3


def test_closed_event_redelivered_without_handled_record_asks_nobody_twice(client, token):
    runtime = client.app.state.runtime
    env = closed_envelope()
    publish(client, env)
    [first] = followups_of(client, env.key, 1)
    link = link_in_inbox(client, token("citizen", sub="wx-42"), env.key)
    # As if the handled-message record were lost: (event id, reporter) is the last guard.
    with runtime.db.session() as session:
        session.execute(runtime.db.tables.handled.delete())
        session.commit()
    runtime.consumers[0].handler([env])
    [again] = followups_of(client, env.key, 1)
    assert again.token == first.token
    assert link_in_inbox(client, token("citizen", sub="wx-42"), env.key) == link


def test_other_ticket_events_make_no_followup(client):
    env = closed_envelope()
    other = new_envelope(type="ticket.handled", producer="dispatch", key=env.key,
                         payload=TicketEvent.model_validate({**env.payload, "action": "handle",
                                                            "to_state": "handled"}),
                         correlation_id=env.correlation_id)
    publish(client, other)
    handled_ids(client, {str(other.id)})  # consumed and done with...
    assert followups_of(client, env.key, 0) == []  # ...and it asked nobody anything
    publish(client, env)
    [row] = followups_of(client, env.key, 1)  # the close that follows does ask, once
    assert row.report_id == env.payload["report_id"]


def handled_ids(client, ids: set[str]) -> None:
    """Wait until the consumer has recorded these message ids as handled."""
    runtime = client.app.state.runtime
    deadline = time.monotonic() + WAIT_S
    while True:
        with runtime.db.session() as session:
            seen = {row.message_id for row in session.execute(runtime.db.tables.handled.select())}
        if ids <= seen or time.monotonic() > deadline:
            assert ids <= seen, f"not handled in {WAIT_S} s: {ids - seen}"
            return
        time.sleep(0.05)
