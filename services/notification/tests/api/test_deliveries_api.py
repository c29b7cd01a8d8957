"""Deliveries end to end on the embedded stack, against real endpoints on 127.0.0.1."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.events.tickets import TicketEvent
from gridgov_notification.app import create_app
from gridgov_notification.deliveries import service
from gridgov_notification.settings import NotificationSettings

from .conftest import WEBHOOK_SECRET

WAIT_S = 20.0
GRID = "441900001001001"
FAST = dict(delivery_max_attempts=3, delivery_backoff_base_s=0.05, delivery_backoff_cap_s=0.2,
            delivery_timeout_s=0.5, delivery_poll_interval_s=0.05, quiet_hours_enabled=False)


@pytest.fixture
def make_client(common_settings):
    clients = []

    def make(**overrides) -> TestClient:
        app = create_app(NotificationSettings(common=common_settings, **{**FAST, **overrides}))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def ticket_envelope(event_type: str, **change) -> Envelope:
    ticket_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    payload = dict(
        ticket_id=ticket_id, report_id=f"R-{ticket_id[:8]}", action=event_type.removeprefix("ticket."),
        from_state=None, to_state="dispatched", category_code="04002", department="water", grid_code=GRID,
        village_code="441900001001", town_code="441900001", reporter_id="citizen-42",
        deadline=now + timedelta(hours=24), actor_id="dispatch", actor_role="system", note=None, occurred_at=now)
    event = TicketEvent(**{**payload, **change})
    return new_envelope(type=event_type, producer="dispatch", key=ticket_id, payload=event,
                        correlation_id=event.report_id)


def publish(client, *envelopes: Envelope) -> None:
    client.app.state.runtime.bus.publish([OutgoingMessage(TICKETS_EVENTS, e.key, e.to_bytes()) for e in envelopes])


def add_contact(client, token, **body) -> dict:
    resp = client.post("/v1/contacts", json={"address": "department:water", **body}, headers=token("admin"))
    assert resp.status_code == 201, resp.text
    return resp.json()


def deliveries(client, token, **params) -> list[dict]:
    resp = client.get("/v1/deliveries", params=params, headers=token("command_centre"))
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


def wait_deliveries(client, token, predicate, **params) -> dict[str, dict]:
    """Deliveries by target once ``predicate(by_target)`` holds."""
    deadline = time.monotonic() + WAIT_S
    while True:
        by_target = {d["target"]: d for d in deliveries(client, token, **params)}
        if predicate(by_target):
            return by_target
        assert time.monotonic() < deadline, by_target
        time.sleep(0.05)


def settled(*targets):
    return lambda by: all(t in by and by[t]["status"] in ("sent", "dead") for t in targets)


def test_deliver_webhooks_signed_retried_and_dead_lettered_without_blocking_others(make_client, token, receivers):
    client = make_client()
    ok, slow, error = receivers["ok"], receivers["slow"], receivers["error"]
    for receiver in (ok, slow, error):
        add_contact(client, token, channel="webhook", target=receiver.url, secret=WEBHOOK_SECRET)
    env = ticket_envelope("ticket.dispatched")
    publish(client, env)

    # The working endpoint is served while the slow one is still timing out.
    early = wait_deliveries(client, token, lambda by: by.get(ok.url, {}).get("status") == "sent",
                            event_id=str(env.id))
    assert early[slow.url]["status"] in ("pending", "failed")

    by = wait_deliveries(client, token, settled(ok.url, slow.url, error.url), event_id=str(env.id))
    assert by[ok.url]["attempts"] == 1 and by[ok.url]["last_error"] is None
    sent_at = datetime.fromisoformat(by[ok.url]["sent_at"])
    assert abs(sent_at - datetime.now(UTC)) < timedelta(minutes=1)
    [hit] = ok.hits
    assert hit["valid"] and hit["delivery"] == by[ok.url]["id"]
    assert hit["json"]["ticket_id"] == env.key and hit["json"]["subject"].startswith("新工单待签收")
    assert hit["content_type"].startswith("application/json")

    assert by[error.url]["status"] == "dead" and by[error.url]["attempts"] == 3
    assert "HTTP 500" in by[error.url]["last_error"]
    assert len(error.hits) == 3 and len({h["delivery"] for h in error.hits}) == 1  # one id across retries

    assert by[slow.url]["status"] == "dead" and by[slow.url]["attempts"] == 3
    assert "timeout" in by[slow.url]["last_error"].lower()

    inbox = client.get("/v1/inbox", headers=token("dept_dispatcher", department="water")).json()
    assert inbox["total"] == 1  # the inbox got it at once, whatever the webhooks did


def test_webhook_with_wrong_secret_is_refused_permanently(make_client, token, receivers):
    client = make_client()
    add_contact(client, token, channel="webhook", target=receivers["ok"].url, secret="not-the-receivers-secret")
    env = ticket_envelope("ticket.dispatched")
    publish(client, env)
    by = wait_deliveries(client, token, settled(receivers["ok"].url), channel="webhook")
    assert by[receivers["ok"].url]["status"] == "dead" and by[receivers["ok"].url]["attempts"] == 1  # 4xx
    assert "HTTP 401" in by[receivers["ok"].url]["last_error"]


def test_redeliver_same_event_creates_no_second_delivery(make_client, token, receivers):
    client = make_client()
    ok = receivers["ok"]
    add_contact(client, token, channel="webhook", target=ok.url, secret=WEBHOOK_SECRET)
    env = ticket_envelope("ticket.dispatched")
    publish(client, env)
    wait_deliveries(client, token, settled(ok.url), event_id=str(env.id))

    publish(client, env)  # the bus delivers it again
    runtime = client.app.state.runtime
    with runtime.db.session() as session:  # and even past the handled-message record: the unique key holds
        runtime.notifier(session, env)
        session.commit()
    time.sleep(0.5)
    rows = deliveries(client, token, event_id=str(env.id))
    assert sorted(d["channel"] for d in rows) == ["inbox", "webhook"]
    assert len(ok.hits) == 1
    assert client.get("/v1/inbox", headers=token("dept_dispatcher", department="water")).json()["total"] == 1


def test_deliver_email_through_real_smtp_with_chinese_subject(make_client, token, smtp_server):
    port, mailbox = smtp_server
    client = make_client(smtp_port=port, smtp_sender="noreply@gridgov.example")
    add_contact(client, token, channel="email", target="water-dispatch@example.cn")
    env = ticket_envelope("ticket.dispatched")
    publish(client, env)
    wait_deliveries(client, token, settled("water-dispatch@example.cn"), channel="email")
    [(rcpt, message)] = mailbox.messages
    assert rcpt == ["water-dispatch@example.cn"]
    assert message["Subject"] == "【一网统管】新工单待签收：自来水管破裂（04002）"
    assert message["From"] == "noreply@gridgov.example"
    body = message.get_content()
    assert env.key in body and "请登录平台及时签收并处置" in body


def test_deliver_email_without_smtp_server_retries_then_dies(make_client, token):
    from .conftest import free_port

    client = make_client(smtp_port=free_port())
    add_contact(client, token, channel="email", target="nobody@example.cn")
    publish(client, ticket_envelope("ticket.dispatched"))
    by = wait_deliveries(client, token, settled("nobody@example.cn"), channel="email")
    assert by["nobody@example.cn"]["status"] == "dead" and by["nobody@example.cn"]["attempts"] == 3
    assert "SMTP unavailable" in by["nobody@example.cn"]["last_error"]


def test_deliver_sms_through_file_provider(make_client, token, common_settings):
    client = make_client()
    add_contact(client, token, channel="sms", target="13800138000")
    env = ticket_envelope("ticket.dispatched")
    publish(client, env)
    by = wait_deliveries(client, token, settled("13800138000"), channel="sms")
    assert by["13800138000"]["status"] == "sent"
    [line] = (common_settings.data_dir / "sms.log").read_text(encoding="utf-8").splitlines()
    sms = json.loads(line)
    assert sms["to"] == "13800138000" and sms["id"] == by["13800138000"]["id"]
    assert sms["text"].startswith("【一网统管】新工单待签收") and env.key in sms["text"]


def test_quiet_hours_defer_sms_but_not_inbox_or_escalation(make_client, token):
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    start = (local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    client = make_client(quiet_hours_enabled=True, quiet_hours_start=start, quiet_hours_end=end)
    add_contact(client, token, channel="sms", target="13800138000")
    routine, urgent = ticket_envelope("ticket.dispatched"), ticket_envelope("ticket.escalated", escalation_level=2)
    publish(client, routine, urgent)

    sent = wait_deliveries(client, token, settled("13800138000"), event_id=str(urgent.id), channel="sms")
    assert sent["13800138000"]["status"] == "sent"  # 超期升级 goes at night too
    [waiting] = deliveries(client, token, event_id=str(routine.id), channel="sms")
    assert waiting["status"] == "pending" and waiting["attempts"] == 0
    release = datetime.fromisoformat(waiting["next_attempt_at"])
    assert release > datetime.now(UTC) + timedelta(minutes=50)
    assert release.astimezone(ZoneInfo("Asia/Shanghai")).time().replace(second=0) == clock(end.hour, end.minute)
    inbox = client.get("/v1/inbox", headers=token("dept_dispatcher", department="water")).json()
    assert inbox["total"] == 2  # the inbox is never deferred


def test_claim_same_due_rows_by_two_workers_only_one_sends(make_client, token):
    client = make_client(run_delivery_worker=False)
    add_contact(client, token, channel="sms", target="13800138000")
    env = ticket_envelope("ticket.dispatched")
    publish(client, env)
    db = client.app.state.runtime.db
    deadline = time.monotonic() + WAIT_S
    while not (rows := deliveries(client, token, event_id=str(env.id), channel="sms")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ids = [r["id"] for r in rows]
    now = datetime.now(UTC)
    with db.session() as a:
        first = service.claim(a, ids, "worker-a", now, now + timedelta(seconds=60))
    with db.session() as b:
        second = service.claim(b, ids, "worker-b", now, now + timedelta(seconds=60))
    assert [r.id for r in first] == ids and second == []
    later = now + timedelta(seconds=61)  # the lease of a crashed worker expires: another may take the row
    with db.session() as b:
        assert [r.id for r in service.claim(b, ids, "worker-b", later, later + timedelta(seconds=60))] == ids


def test_delete_contact_dead_letters_its_waiting_deliveries(make_client, token, common_settings):
    client = make_client(run_delivery_worker=False)
    contact = add_contact(client, token, channel="webhook", target="http://127.0.0.1:9/hook", secret=WEBHOOK_SECRET)
    env = ticket_envelope("ticket.dispatched")
    publish(client, env)
    deadline = time.monotonic() + WAIT_S
    while not deliveries(client, token, event_id=str(env.id), channel="webhook"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert client.delete(f"/v1/contacts/{contact['id']}", headers=token("admin")).status_code == 204
    runtime = client.app.state.runtime
    from gridgov_notification.deliveries.policy import RetryPolicy
    from gridgov_notification.deliveries.worker import DeliveryWorker

    worker = DeliveryWorker(runtime.db, runtime.channels, RetryPolicy(3, 0.05, 0.2), poll_interval_s=0.05)
    worker.start()
    try:
        by = wait_deliveries(client, token, settled("http://127.0.0.1:9/hook"), channel="webhook")
    finally:
        worker.stop()
        worker.join(5)
    assert by["http://127.0.0.1:9/hook"]["status"] == "dead"
    assert by["http://127.0.0.1:9/hook"]["last_error"] == "contact point removed"


def test_get_deliveries_forbidden_to_departments_and_grid_workers(make_client, token):
    client = make_client()
    for headers in (token("dept_dispatcher", department="water"), token("grid_worker", grid=GRID)):
        assert client.get("/v1/deliveries", headers=headers).status_code == 403
    assert client.get("/v1/deliveries", headers=token("admin")).status_code == 200
    assert client.get("/v1/deliveries", params={"status": "lost"}, headers=token("admin")).status_code == 422


def test_deliveries_list_reads_newest_first_by_its_index_on_sqlite(make_client):
    """SQLite keeps no statistics, so the plan is the same for 10 deliveries as for 600,000: it must walk the
    (created_at, id) index, not sort the whole table for each page."""
    from tests.support.sql_plans import captured, plan

    db = make_client().app.state.runtime.db
    # the list's statement (the delivery worker runs its own meanwhile)
    with captured(db.engine, lambda s: "ORDER BY delivery.created_at DESC" in s) as seen, db.session() as session:
        service.list_filtered(session, status=None, channel=None, event_id=None, limit=50, offset=0)
    assert len(seen) == 1
    found = plan(db.engine, seen[0][0])
    assert "ix_delivery_created_at_id" in found and "TEMP B-TREE" not in found, found
