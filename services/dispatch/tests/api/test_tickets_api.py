import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from gridgov_common.auth import Principal
from gridgov_common.errors import Conflict
from gridgov_common.events.tickets import TicketEvent
from gridgov_dispatch.tickets import handlers, service, transitions
from gridgov_dispatch.tickets.lifecycle import Action
from gridgov_dispatch.tickets.models import Ticket

GRID = "441900001001001"
OTHER_GRID = "441900001001002"
WATER_PRINCIPAL = Principal(sub="water-9", role="dept_dispatcher", department="water")


def water(token):
    return token("dept_dispatcher", sub="water-1", department="water")


def worker(token, grid=GRID):
    return token("grid_worker", sub="gw-7", grid=grid)


def drive_to(stack, ticket_id, *actions):
    """Take the closed loop's steps on a ticket, asserting each succeeds."""
    t, c = stack.token, stack.client
    steps = {
        "claim": lambda: c.post(f"/v1/tickets/{ticket_id}/claim", headers=water(t)),
        "handle": lambda: c.post(f"/v1/tickets/{ticket_id}/handle", json={"note": "关阀抢修完毕"}, headers=water(t)),
        "verify": lambda: c.post(f"/v1/tickets/{ticket_id}/verify", json={"passed": True, "note": "现场已修复"},
                                 headers=worker(t)),
        "close": lambda: c.post(f"/v1/tickets/{ticket_id}/close", json={"note": "结案"},
                                headers=t("command_centre")),
    }
    for action in actions:
        resp = steps[action]()
        assert resp.status_code == 200, (action, resp.text)
    return resp.json()


def test_consume_located_report_registers_and_dispatches_ticket(stack):
    before = datetime.now(UTC)
    ticket = stack.ticket_for(category="04002")
    assert ticket["state"] == "dispatched"
    assert ticket["department"] == "water"
    assert (ticket["grid_code"], ticket["village_code"], ticket["town_code"]) == (GRID, "441900001001", "441900001")
    deadline = datetime.fromisoformat(ticket["deadline"])
    assert deadline.tzinfo is not None
    # 自来水管破裂 (04 突发事件): claim within 1 clock hour (紧急工作时), counted day and night from dispatch.
    assert ticket["stage"] == "claim"
    assert before + timedelta(hours=1) <= deadline <= datetime.now(UTC) + timedelta(hours=1)
    detail = stack.client.get(f"/v1/tickets/{ticket['id']}", headers=stack.token("command_centre")).json()
    trail = [(s["seq"], s["action"], s["from_state"], s["to_state"], s["actor_role"]) for s in detail["transitions"]]
    assert trail == [
        (1, "register", None, "registered", "system"),
        (2, "dispatch", "registered", "dispatched", "system"),
    ]


def test_consume_unlocated_report_leaves_ticket_registered_for_triage(stack):
    ticket = stack.ticket_for(category="04002", status="unlocated")
    assert (ticket["state"], ticket["department"], ticket["deadline"]) == ("registered", None, None)
    assert ticket["location_status"] == "unlocated"


def test_consume_town_only_report_dispatches_ticket(stack):
    ticket = stack.ticket_for(category="01002", status="town_only")
    assert (ticket["state"], ticket["department"], ticket["grid_code"]) == ("dispatched", "urban-management", None)
    assert ticket["town_code"] == "441900001"


def test_consume_unroutable_category_leaves_ticket_registered(stack):
    ticket = stack.ticket_for(category="99001")
    assert (ticket["state"], ticket["department"]) == ("registered", None)


def test_drive_ticket_round_closed_loop_records_audit_trail(stack):
    ticket = stack.ticket_for()
    tid = ticket["id"]
    t, c = stack.token, stack.client
    claimed = drive_to(stack, tid, "claim")
    assert (claimed["state"], claimed["version"]) == ("claimed", 3)
    assert drive_to(stack, tid, "handle")["state"] == "handled"
    assert drive_to(stack, tid, "verify")["state"] == "verified"
    closed = drive_to(stack, tid, "close")
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    detail = c.get(f"/v1/tickets/{tid}", headers=worker(t)).json()
    assert [s["action"] for s in detail["transitions"]] == ["register", "dispatch", "claim", "handle", "verify",
                                                             "close"]
    assert [s["actor_id"] for s in detail["transitions"][2:]] == ["water-1", "water-1", "gw-7", "command_centre-1"]
    assert detail["transitions"][3]["note"] == "关阀抢修完毕"
    assert detail["allowed_actions"] == []


def test_publish_ticket_events_in_order_with_correlation(stack):
    envelope = stack.located()
    stack.publish(envelope)
    tid = stack.wait_ticket(envelope.key)["id"]
    drive_to(stack, tid, "claim", "handle", "verify", "close")
    events = stack.events(tid)
    assert [e.type for e in events] == ["ticket.registered", "ticket.dispatched", "ticket.claimed",
                                        "ticket.handled", "ticket.verified", "ticket.closed"]
    assert {e.correlation_id for e in events} == {envelope.key}
    assert [e.causation_id for e in events] == [str(envelope.id)] * 2 + [None] * 4
    assert {e.producer for e in events} == {"dispatch"}
    payloads = [TicketEvent.model_validate(e.payload) for e in events]
    assert [p.to_state for p in payloads] == ["registered", "dispatched", "claimed", "handled", "verified",
                                              "closed"]
    assert payloads[1].department == "water" and payloads[1].deadline is not None
    detail = stack.client.get(f"/v1/tickets/{tid}", headers=stack.token("admin")).json()
    assert stack.runtime.db.outbox_backlog() == 0
    assert len(detail["transitions"]) == len(events)


def test_verify_failed_ticket_goes_back_for_rework(stack):
    tid = stack.ticket_for()["id"]
    drive_to(stack, tid, "claim", "handle")
    resp = stack.client.post(f"/v1/tickets/{tid}/verify", json={"passed": False, "note": "仍在漏水"},
                             headers=worker(stack.token))
    assert resp.status_code == 200, resp.text
    assert resp.json()["state"] == "claimed"
    assert drive_to(stack, tid, "handle", "verify", "close")["state"] == "closed"
    types = [e.type for e in stack.events(tid)]
    assert types.count("ticket.reworked") == 1 and types.count("ticket.handled") == 2


def test_close_unclaimed_ticket_conflicts_naming_allowed_actions(stack):
    tid = stack.ticket_for()["id"]
    resp = stack.client.post(f"/v1/tickets/{tid}/close", headers=stack.token("command_centre"))
    assert resp.status_code == 409
    error = resp.json()["error"]
    assert error["code"] == "illegal_transition"
    assert "allowed: claim" in error["message"]
    assert error["details"][0]["field"] == "action"


def test_claim_ticket_twice_conflicts(stack):
    tid = stack.ticket_for()["id"]
    drive_to(stack, tid, "claim")
    resp = stack.client.post(f"/v1/tickets/{tid}/claim", headers=water(stack.token))
    assert resp.status_code == 409 and "allowed: return, handle" in resp.json()["error"]["message"]


def test_claim_ticket_of_another_department_is_403(stack):
    tid = stack.ticket_for()["id"]
    housing = stack.token("dept_dispatcher", department="housing")
    resp = stack.client.post(f"/v1/tickets/{tid}/claim", headers=housing)
    assert resp.status_code == 403
    assert resp.json()["error"]["details"][0]["field"] == "department"
    assert stack.client.get(f"/v1/tickets/{tid}", headers=housing).status_code == 403
    assert stack.client.get("/v1/tickets", headers=housing).json()["total"] == 0
    assert stack.client.get(f"/v1/tickets/{tid}", headers=water(stack.token)).json()["state"] == "dispatched"


def test_verify_ticket_of_another_grid_is_403(stack):
    tid = stack.ticket_for()["id"]
    drive_to(stack, tid, "claim", "handle")
    resp = stack.client.post(f"/v1/tickets/{tid}/verify", json={"passed": True},
                             headers=worker(stack.token, OTHER_GRID))
    assert resp.status_code == 403
    assert resp.json()["error"]["details"][0]["field"] == "grid"


def test_claim_ticket_as_grid_worker_is_403(stack):
    tid = stack.ticket_for()["id"]
    resp = stack.client.post(f"/v1/tickets/{tid}/claim", headers=worker(stack.token))
    assert resp.status_code == 403 and resp.json()["error"]["details"][0]["field"] == "role"


def test_tickets_without_token_are_401(stack):
    tid = stack.ticket_for()["id"]
    assert stack.client.get("/v1/tickets").status_code == 401
    assert stack.client.get(f"/v1/tickets/{tid}").status_code == 401
    assert stack.client.post(f"/v1/tickets/{tid}/claim").status_code == 401
    assert stack.client.get("/v1/sla/board").status_code == 401


def test_list_tickets_as_citizen_is_403(stack):
    assert stack.client.get("/v1/tickets", headers=stack.token("citizen")).status_code == 403


def test_get_unknown_ticket_is_404(stack):
    resp = stack.client.get("/v1/tickets/no-such-ticket", headers=stack.token("command_centre"))
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    assert stack.client.post("/v1/tickets/no-such-ticket/claim", headers=water(stack.token)).status_code == 404


def test_handle_ticket_without_note_is_422(stack):
    tid = stack.ticket_for()["id"]
    drive_to(stack, tid, "claim")
    resp = stack.client.post(f"/v1/tickets/{tid}/handle", json={}, headers=water(stack.token))
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "note"


def test_list_tickets_filters_by_state_and_caller_scope(stack):
    a = stack.ticket_for(category="04002")
    b = stack.ticket_for(category="01002", grid=OTHER_GRID)
    c = stack.ticket_for(category="04004")
    drive_to(stack, c["id"], "claim")
    t, client = stack.token, stack.client

    def ids(headers, **params):
        resp = client.get("/v1/tickets", params=params, headers=headers)
        assert resp.status_code == 200, resp.text
        return {i["id"] for i in resp.json()["items"]}

    assert ids(t("command_centre")) == {a["id"], b["id"], c["id"]}
    assert ids(water(t)) == {a["id"], c["id"]}
    assert ids(water(t), state="claimed") == {c["id"]}
    assert ids(worker(t)) == {a["id"], c["id"]}
    assert ids(worker(t, OTHER_GRID)) == {b["id"]}
    assert ids(t("dept_dispatcher", department="urban-management")) == {b["id"]}
    assert client.get("/v1/tickets", params={"state": "lost"}, headers=t("admin")).status_code == 422


def test_list_tickets_by_several_states_and_open_within_the_callers_scope(stack):
    a = stack.ticket_for(category="04002")  # water: dispatched
    b = stack.ticket_for(category="04004")  # water: claimed, then handled
    c = stack.ticket_for(category="04004")  # water: claimed
    d = stack.ticket_for(category="01002", grid=OTHER_GRID)  # urban-management: dispatched
    drive_to(stack, b["id"], "claim", "handle")
    drive_to(stack, c["id"], "claim")
    t, client = stack.token, stack.client

    def ids(headers, *params):
        resp = client.get("/v1/tickets", params=list(params), headers=headers)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        assert page["total"] == len(page["items"])
        return {i["id"] for i in page["items"]}

    todo = [("state", "dispatched"), ("state", "claimed"), ("state", "returned")]
    assert ids(water(t), *todo) == {a["id"], c["id"]}
    assert ids(t("command_centre"), *todo) == {a["id"], c["id"], d["id"]}
    assert ids(t("command_centre"), ("open", "true")) == {a["id"], b["id"], c["id"], d["id"]}
    assert ids(t("command_centre"), ("open", "false")) == set()
    assert ids(water(t), ("open", "true"), ("state", "handled")) == {b["id"]}
    assert ids(t("dept_dispatcher", department="urban-management"), ("open", "true"), *todo) == {d["id"]}
    assert ids(worker(t, OTHER_GRID), ("open", "true")) == {d["id"]}


@pytest.mark.parametrize("params, field", [
    ([("state", "dispatched"), ("state", "lost")], "state"),
    ([("state", "claimed")] * 20, "state"),
    ([("open", "maybe")], "open"),
    ([("state", "claimed\x00")], "state"),
])
def test_list_tickets_refuses_a_bad_state_or_open_naming_it_in_chinese(stack, params, field):
    resp = stack.client.get("/v1/tickets", params=params,
                            headers={**stack.token("command_centre"), "Accept-Language": "zh-CN"})
    assert resp.status_code == 422, resp.text
    detail = resp.json()["error"]["details"][0]
    assert detail["field"].split(".")[0] == field and any("\u4e00" <= ch <= "\u9fff" for ch in detail["reason"]), detail


def test_list_tickets_pages_oldest_first(stack):
    made = [stack.ticket_for()["id"] for _ in range(3)]
    headers = stack.token("command_centre")
    first = stack.client.get("/v1/tickets", params={"limit": 2}, headers=headers).json()
    second = stack.client.get("/v1/tickets", params={"limit": 2, "offset": 2}, headers=headers).json()
    assert (first["total"], first["limit"], second["offset"]) == (3, 2, 2)
    assert [i["id"] for i in first["items"] + second["items"]] == made
    assert stack.client.get("/v1/tickets", params={"limit": 0}, headers=headers).status_code == 422


def test_redelivered_located_message_keeps_one_ticket(stack):
    envelope = stack.located()
    # The same message twice, and the same report again under a new envelope id (republished after a crash).
    again = envelope.model_copy(update={"id": uuid.uuid4()})
    stack.publish(envelope, envelope, again)
    stack.wait_handled(3)
    page = stack.client.get("/v1/tickets", params={"report_id": envelope.key},
                            headers=stack.token("command_centre")).json()
    assert page["total"] == 1
    types = [e.type for e in stack.events(page["items"][0]["id"])]
    assert types == ["ticket.registered", "ticket.dispatched"]


def test_transition_on_stale_version_conflicts(stack):
    tid = stack.ticket_for()["id"]
    db = stack.runtime.db
    with db.session() as session:
        stale = service.get_or_raise(session, tid)  # read at version 2 ...
    drive_to(stack, tid, "claim")  # ... then someone else moves it on
    with db.session() as session, pytest.raises(Conflict) as caught:
        session.add(stale)
        transitions.transition(stack.runtime.ctx.snapshot(), session, stale, Action.CLAIM, WATER_PRINCIPAL)
    assert caught.value.code == "conflict" and caught.value.details[0].field == "version"
    assert [e.type for e in stack.events(tid)].count("ticket.claimed") == 1


def test_sla_board_counts_states_and_flags_overdue(stack):
    late = stack.ticket_for(category="04002")
    fresh = stack.ticket_for(category="01002")
    triage = stack.ticket_for(category="04002", status="unlocated")
    done = stack.ticket_for(category="04004")
    drive_to(stack, done["id"], "claim", "handle", "verify", "close")
    db = stack.runtime.db
    with db.session() as session:
        row = session.exec(select(Ticket).where(Ticket.id == late["id"])).one()
        row.deadline = datetime.now(UTC) - timedelta(minutes=5)
        session.add(row)
        session.commit()
    resp = stack.client.get("/v1/sla/board", headers=stack.token("command_centre"))
    assert resp.status_code == 200, resp.text
    board = resp.json()
    assert board["counts"] == {"registered": 1, "dispatched": 2, "claimed": 0, "handled": 0, "verified": 0,
                               "closed": 1, "returned": 0, "extension_requested": 0, "suspended": 0}
    assert (board["open_total"], board["overdue_total"]) == (3, 1)
    by_id = {i["id"]: i for i in board["open_tickets"]}
    assert set(by_id) == {late["id"], fresh["id"], triage["id"]}
    assert by_id[late["id"]]["overdue"] is True
    assert by_id[fresh["id"]]["overdue"] is False
    assert by_id[triage["id"]]["overdue"] is False and by_id[triage["id"]]["deadline"] is None
    assert board["open_tickets"][0]["id"] == late["id"]  # most urgent first
    assert by_id[late["id"]]["town_code"] == "441900001" and by_id[late["id"]]["department"] == "water"


def test_sla_board_as_dept_dispatcher_is_403(stack):
    assert stack.client.get("/v1/sla/board", headers=water(stack.token)).status_code == 403


def test_list_departments_is_seeded(stack):
    resp = stack.client.get("/v1/departments", headers=water(stack.token))
    assert resp.status_code == 200
    names = {d["code"]: d["name_zh"] for d in resp.json()}
    assert names["water"] == "水务局" and names["urban-management"] == "城市管理和综合执法局"


def test_register_same_report_racing_is_stopped_by_unique_report_id(stack, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    first = stack.located(category="05003")
    db, ctx = stack.runtime.db, stack.runtime.ctx.snapshot()
    register = db.idempotent_batch("test.register",
                                   lambda session, env: handlers.register_located_report(ctx, session, env))
    register([first])
    # A second delivery under a new envelope id whose existence check ran before the first one committed.
    racing = first.model_copy(update={"id": uuid.uuid4()})
    real = service.get_by_report
    calls = []

    def blind_once(session, report_id):
        calls.append(report_id)
        return None if len(calls) == 1 else real(session, report_id)

    monkeypatch.setattr(service, "get_by_report", blind_once)
    with pytest.raises(IntegrityError):  # the UNIQUE report_id turns it away; the runner retries
        register([racing])
    register([racing])  # the retry finds the ticket and changes nothing
    assert len(calls) == 2
    with db.session() as session:
        tickets = session.exec(select(Ticket).where(Ticket.report_id == first.key)).all()
    assert len(tickets) == 1 and tickets[0].department == "public-security"
    assert [e.type for e in stack.events(tickets[0].id)] == ["ticket.registered", "ticket.dispatched"]


def test_metrics_expose_tickets_by_state_and_breaches(stack):
    ticket = stack.ticket_for()
    stack.wait_ticket(ticket["report_id"])
    # /metrics answers loopback clients only (no GRIDGOV_METRICS_TOKEN in tests).
    text = TestClient(stack.client.app, client=("127.0.0.1", 50000)).get("/metrics").text
    assert 'gridgov_tickets{state="dispatched"} 1.0' in text
    assert "gridgov_sla_breaches 0.0" in text
    assert "gridgov_outbox_backlog" in text and "gridgov_consumer_lag" in text
    assert "gridgov_retention_deleted_total 0.0" in text  # a week's retention: nothing has expired


def test_consume_report_handled_on_spot_awaits_verification_without_department(stack):
    envelope = stack.located(category="01002")
    envelope.payload["report"].update(handled_on_spot=True, handled_note="已清理垃圾")
    stack.publish(envelope)
    ticket = stack.wait_ticket(envelope.key)
    assert ticket["state"] == "handled" and ticket["department"] is None
    detail = stack.client.get(f"/v1/tickets/{ticket['id']}", headers=stack.token("command_centre")).json()
    trail = [(s["action"], s["from_state"], s["to_state"]) for s in detail["transitions"]]
    assert trail == [("register", None, "registered"), ("handle", "registered", "handled")]
    assert "已清理垃圾" in detail["transitions"][1]["note"]
    assert [e.type for e in stack.events(ticket["id"])] == ["ticket.registered", "ticket.handled"]
    claim = stack.client.post(f"/v1/tickets/{ticket['id']}/claim", headers=water(stack.token))
    # A ticket handled on the spot belongs to no department, so the department guard refuses before the state's.
    assert claim.status_code == 403, claim.text
    assert claim.json()["error"]["details"][0]["field"] == "department"
    assert stack.client.get(f"/v1/tickets/{ticket['id']}", headers=stack.token("command_centre")).json()[
        "state"] == "handled"
    assert drive_to(stack, ticket["id"], "verify", "close")["state"] == "closed"
