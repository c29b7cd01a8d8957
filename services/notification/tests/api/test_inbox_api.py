import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import TICKETS_EVENTS, dlq
from gridgov_common.events.tickets import TicketEvent
from gridgov_notification.app import create_app
from gridgov_notification.inbox.models import InboxMessage
from gridgov_notification.settings import NotificationSettings

WAIT_S = 15.0
GRID = "441900001001001"


@pytest.fixture
def client(common_settings):
    app = create_app(NotificationSettings(common=common_settings))
    with TestClient(app) as c:
        yield c


def ticket_envelope(event_type: str, ticket_id: str | None = None, **change) -> Envelope:
    ticket_id = ticket_id or str(uuid.uuid4())
    now = datetime.now(UTC)
    payload = dict(
        ticket_id=ticket_id, report_id=f"R-{ticket_id}", action=event_type.removeprefix("ticket."),
        from_state=None, to_state=event_type.removeprefix("ticket."), category_code="04002",
        department="water", grid_code=GRID, village_code="441900001001", town_code="441900001",
        reporter_id="citizen-42", deadline=now + timedelta(hours=24), actor_id="dispatch",
        actor_role="system", note=None, occurred_at=now,
    )
    event = TicketEvent(**{**payload, **change})
    return new_envelope(type=event_type, producer="dispatch", key=ticket_id, payload=event,
                        correlation_id=event.report_id)


def publish(client, *messages: Envelope | tuple[str, bytes]) -> None:
    out = []
    for m in messages:
        key, value = (m.key, m.to_bytes()) if isinstance(m, Envelope) else m
        out.append(OutgoingMessage(TICKETS_EVENTS, key, value))
    client.app.state.runtime.bus.publish(out)


def inbox(client, headers, **params) -> dict:
    resp = client.get("/v1/inbox", headers=headers, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_for(client, headers, total: int, **params) -> dict:
    deadline = time.monotonic() + WAIT_S
    while True:
        page = inbox(client, headers, **params)
        if page["total"] >= total or time.monotonic() > deadline:
            assert page["total"] == total, page
            return page
        time.sleep(0.05)


def read_dlq(client, timeout: float = 5.0, expect: int = 1) -> list[bytes]:
    group = f"test-dlq-{uuid.uuid4().hex[:6]}"
    consumer = client.app.state.runtime.bus.consumer(group, [dlq(TICKETS_EVENTS)])
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < expect and time.monotonic() < deadline:
            got += [r.value for r in consumer.poll(timeout=0.2)]
    finally:
        consumer.close()
    return got


def test_get_inbox_dispatched_ticket_reaches_its_department(client, token):
    env = ticket_envelope("ticket.dispatched")
    publish(client, env)
    page = wait_for(client, token("dept_dispatcher", department="water"), 1)
    [item] = page["items"]
    assert item["recipient"] == "department:water"
    assert item["ticket_id"] == env.key and item["source_event_id"] == str(env.id)
    assert item["event_type"] == "ticket.dispatched"
    assert item["title"].startswith("新工单待签收") and "04002" in item["title"]
    assert item["unread"] is True and item["read_at"] is None
    assert item["created_at"].endswith(("Z", "+00:00"))
    assert page["unread"] == 1


def test_get_inbox_other_department_sees_nothing(client, token):
    publish(client, ticket_envelope("ticket.dispatched"))
    wait_for(client, token("dept_dispatcher", department="water"), 1)
    assert inbox(client, token("dept_dispatcher", department="roads")) == {
        "items": [], "total": 0, "unread": 0, "limit": 50, "offset": 0}
    assert inbox(client, token("grid_worker", grid=GRID))["total"] == 0
    assert inbox(client, token("command_centre"))["total"] == 0


def test_get_inbox_closed_ticket_reaches_its_reporter(client, token):
    publish(client, ticket_envelope("ticket.closed", reporter_id="citizen-42"))
    # The outcome, and the follow-up (回访) asking for a rating.
    items = wait_for(client, token("citizen", sub="citizen-42"), 2)["items"]
    [item] = [i for i in items if i["event_type"] == "ticket.closed"]
    assert item["recipient"] == "user:citizen-42"
    assert item["title"] == "您反映的问题已办结"
    assert inbox(client, token("citizen", sub="citizen-43"))["total"] == 0


def test_get_inbox_handled_ticket_reaches_grid_workers(client, token):
    publish(client, ticket_envelope("ticket.handled"))
    [item] = wait_for(client, token("grid_worker", sub="w-1", grid=GRID), 1)["items"]
    assert item["recipient"] == f"grid:{GRID}" and "待核查" in item["title"]
    assert inbox(client, token("grid_worker", sub="w-2", grid="441900001001002"))["total"] == 0


def test_get_inbox_registered_without_department_reaches_command_centre(client, token):
    publish(client, ticket_envelope("ticket.registered", department=None))
    [item] = wait_for(client, token("command_centre"), 1)["items"]
    assert item["recipient"] == "role:command_centre" and "待分拨" in item["title"]


def test_deliver_same_envelope_twice_files_one_message(client, token):
    env = ticket_envelope("ticket.dispatched")
    # The close on the same key (same partition, after the duplicate) proves the duplicate was consumed.
    publish(client, env, env, ticket_envelope("ticket.closed", ticket_id=env.key, reporter_id="sentinel"))
    wait_for(client, token("citizen", sub="sentinel"), 2)  # closed, and its follow-up (回访)
    page = inbox(client, token("dept_dispatcher", department="water"))
    assert page["total"] == 1 and page["items"][0]["source_event_id"] == str(env.id)
    assert read_dlq(client, timeout=1.0) == []  # the duplicate was skipped, not refused by the database


def test_store_same_event_twice_for_one_recipient_is_refused(client):
    db = client.app.state.runtime.db
    row = dict(recipient="department:water", ticket_id="T", report_id="R", event_type="ticket.dispatched",
               source_event_id="E", title="t", body="b", created_at=datetime.now(UTC))
    with db.session() as session:
        session.add(InboxMessage(id="m-1", **row))
        session.commit()
    with db.session() as session, pytest.raises(IntegrityError):
        session.add(InboxMessage(id="m-2", **row))
        session.commit()


def test_consume_malformed_message_dead_letters_and_goes_on(client, token):
    good = ticket_envelope("ticket.dispatched")
    publish(client, (good.key, b"not json"), good)
    wait_for(client, token("dept_dispatcher", department="water"), 1)
    [dead] = read_dlq(client)
    assert b"not json" in dead and b"notification.inbox" in dead


def test_consume_unsubscribed_type_files_nothing_and_is_not_dead_lettered(client, token):
    key = str(uuid.uuid4())
    odd = new_envelope(type="ticket.claimed", producer="dispatch", key=key, correlation_id=key,
                       payload=ticket_envelope("ticket.claimed", ticket_id=key).model_copy(
                           update={"payload": {"unexpected": "shape"}}))
    publish(client, odd, ticket_envelope("ticket.closed", ticket_id=key, reporter_id="sentinel"))
    wait_for(client, token("citizen", sub="sentinel"), 2)  # closed, and its follow-up (回访)
    assert inbox(client, token("dept_dispatcher", department="water"))["total"] == 0
    assert read_dlq(client, timeout=1.0) == []


def test_post_inbox_read_flips_unread_count(client, token):
    water = token("dept_dispatcher", department="water")
    publish(client, ticket_envelope("ticket.dispatched"), ticket_envelope("ticket.dispatched"))
    page = wait_for(client, water, 2)
    first, second = page["items"]
    assert page["unread"] == 2
    resp = client.post(f"/v1/inbox/{first['id']}/read", headers=water)
    assert resp.status_code == 200, resp.text
    assert resp.json()["unread"] is False and resp.json()["read_at"] is not None
    page = inbox(client, water)
    assert (page["total"], page["unread"]) == (2, 1)
    unread_only = inbox(client, water, unread="true")
    assert [m["id"] for m in unread_only["items"]] == [second["id"]] and unread_only["total"] == 1
    again = client.post(f"/v1/inbox/{first['id']}/read", headers=water).json()
    assert again["read_at"] == resp.json()["read_at"]


def test_post_inbox_read_by_non_recipient_is_404(client, token):
    water = token("dept_dispatcher", department="water")
    publish(client, ticket_envelope("ticket.dispatched"))
    [item] = wait_for(client, water, 1)["items"]
    resp = client.post(f"/v1/inbox/{item['id']}/read", headers=token("dept_dispatcher", department="roads"))
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"
    assert client.post("/v1/inbox/no-such-id/read", headers=water).status_code == 404
    assert inbox(client, water)["unread"] == 1


def test_get_inbox_pages_newest_first(client, token):
    water = token("dept_dispatcher", department="water")
    ids = []
    for n in range(3):
        env = ticket_envelope("ticket.dispatched")
        publish(client, env)
        wait_for(client, water, n + 1)
        ids.append(str(env.id))
    first = inbox(client, water, limit=2)
    assert [m["source_event_id"] for m in first["items"]] == [ids[2], ids[1]] and first["total"] == 3
    rest = inbox(client, water, limit=2, offset=2)
    assert [m["source_event_id"] for m in rest["items"]] == [ids[0]] and rest["total"] == 3


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"offset": -1}])
def test_get_inbox_bad_paging_is_422(client, token, params):
    resp = client.get("/v1/inbox", params=params, headers=token("citizen"))
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == list(params)


def test_get_inbox_without_token_is_401(client):
    assert client.get("/v1/inbox").status_code == 401
    assert client.post("/v1/inbox/x/read").status_code == 401


def test_probes_answer(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "bus": True}


def test_inbox_page_and_unread_count_read_a_page_not_the_whole_inbox(client):
    """A role address (the command centre's) gets a message per ticket, ~2,400 a day. A page and the unread badge
    must read about a page of index entries, not every message: SQLite's VM steps are counted while the three
    statements of ``list_for`` run over 3,000 messages: 18,000 with the indexes of the whole order and of the
    unread ones, 128,400 with (recipient, created_at) alone."""
    from gridgov_notification.inbox import service

    db = client.app.state.runtime.db
    start = datetime(2026, 9, 8, tzinfo=UTC)
    rows = [dict(id=str(uuid.uuid4()), recipient="role:command_centre" if i % 3 else "user:cc-1",
                 ticket_id=str(uuid.uuid4()), report_id="R", event_type="ticket.registered",
                 source_event_id=str(uuid.uuid4()), title="t", body="b", created_at=start + timedelta(seconds=i),
                 read_at=None if i % 5 == 0 else start) for i in range(3_000)]
    with db.engine.begin() as conn:
        conn.execute(InboxMessage.__table__.insert(), rows)
    steps = [0]

    def count(_steps=steps) -> int:
        _steps[0] += 1
        return 0  # go on

    with db.session() as session:
        raw = session.connection().connection.driver_connection
        raw.set_progress_handler(count, 100)
        try:
            page = service.list_for(session, ["user:cc-1", "role:command_centre"], unread_only=False, limit=20,
                                    offset=0)
            unread = service.list_for(session, ["user:cc-1", "role:command_centre"], unread_only=True, limit=20,
                                      offset=0)
        finally:
            raw.set_progress_handler(None, 0)
    assert [m.created_at for m in page.items] == sorted((m.created_at for m in page.items), reverse=True)
    assert page.items[0].created_at == start + timedelta(seconds=2_999)
    assert (page.total, page.unread, unread.total) == (3_000, 600, 600)
    assert all(m.read_at is None for m in unread.items) and len(unread.items) == 20
    # the two totals walk the addresses' index entries (3,000 + 600); the pages and the unread count must not
    # add a sort or a row read per message on top of that
    assert steps[0] * 100 < 50_000, steps[0] * 100
