"""The full lifecycle through the API (issue #6): return and ruling, extension, suspension, supervision, reopen,
the SLA clock standing still while the command centre decides, and the scanner's warnings and escalations."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from gridgov_common.events.tickets import TicketEvent
from gridgov_dispatch.sla import handlers as sla_handlers
from gridgov_dispatch.tickets.models import Ticket


def water(token):
    return token("dept_dispatcher", sub="d-water", department="water")


def centre(token):
    return token("command_centre", sub="cc-1")


def post(stack, tid, action, headers, body=None, expect=200):
    resp = stack.client.post(f"/v1/tickets/{tid}/{action}", json=body, headers=headers)
    assert resp.status_code == expect, f"{action}: {resp.status_code} {resp.text}"
    return resp.json()


def error(resp):
    return resp.json()["error"]


def test_return_without_reason_is_422_naming_note_and_changes_nothing(stack):
    tid = stack.ticket_for()["id"]
    resp = stack.client.post(f"/v1/tickets/{tid}/return", json={}, headers=water(stack.token))
    assert resp.status_code == 422 and error(resp)["details"][0]["field"].endswith("note")
    assert stack.client.get(f"/v1/tickets/{tid}", headers=centre(stack.token)).json()["state"] == "dispatched"


def test_return_stops_clock_and_ruling_redispatches_with_fresh_claim_clock(stack):
    tid = stack.ticket_for()["id"]
    returned = post(stack, tid, "return", water(stack.token), {"note": "不属于供水管网"})
    assert returned["state"] == "returned" and returned["paused_at"] and returned["return_count"] == 1
    with stack.runtime.db.session() as session:
        assert session.get(Ticket, tid).next_check_at is None  # the scanner leaves a paused clock alone
    ruled = post(stack, tid, "rule_return", centre(stack.token), {"department": "housing"})
    assert (ruled["state"], ruled["department"], ruled["first_department"]) == ("dispatched", "housing", "water")
    assert ruled["paused_at"] is None and ruled["stage"] == "claim" and ruled["sla_level"] == "green"
    events = [TicketEvent.model_validate(e.payload) for e in stack.events(tid)]
    assert [e.action for e in events][-2:] == ["return", "rule_return"]
    assert events[-1].department == "housing"


def test_rule_return_to_unknown_department_is_422_and_changes_nothing(stack):
    tid = stack.ticket_for()["id"]
    post(stack, tid, "return", water(stack.token), {"note": "不属于我局"})
    resp = stack.client.post(f"/v1/tickets/{tid}/rule_return", json={"department": "no-such-bureau"},
                             headers=centre(stack.token))
    assert resp.status_code == 422 and error(resp)["details"][0]["field"] == "department"
    assert stack.client.get(f"/v1/tickets/{tid}", headers=centre(stack.token)).json()["state"] == "returned"


def test_rule_return_by_department_is_403(stack):
    tid = stack.ticket_for()["id"]
    post(stack, tid, "return", water(stack.token), {"note": "不属于我局"})
    post(stack, tid, "rule_return", water(stack.token), {"department": "water"}, expect=403)


def test_extension_pauses_clock_and_approval_moves_deadline_by_its_amount(stack):
    tid = stack.ticket_for()["id"]
    claimed = post(stack, tid, "claim", water(stack.token))
    with stack.runtime.db.session() as session:
        unit = session.get(Ticket, tid).stage_limit_unit  # ask in the stage's own unit: exact in any calendar
    asked = post(stack, tid, "request_extension", water(stack.token), {"amount": 4, "unit": unit, "note": "需协调停水"})
    assert asked["state"] == "extension_requested" and asked["paused_at"]
    approved = post(stack, tid, "approve_extension", centre(stack.token))
    assert approved["state"] == "claimed" and approved["paused_at"] is None
    cal = stack.runtime.ctx.calendar()
    before, after = datetime.fromisoformat(claimed["deadline"]), datetime.fromisoformat(approved["deadline"])
    granted = cal.working_seconds_between(before, cal.add(before, 4, unit).at, unit)
    moved = cal.working_seconds_between(before, after, unit)
    # The 4 units granted, plus at most the few seconds the clock stood still between the calls.
    assert granted <= moved < granted + 60


def test_refused_extension_resumes_clock_without_more_time(stack):
    tid = stack.ticket_for()["id"]
    claimed = post(stack, tid, "claim", water(stack.token))
    post(stack, tid, "request_extension", water(stack.token), {"amount": 2, "unit": "working_days", "note": "人手不足"})
    post(stack, tid, "refuse_extension", centre(stack.token), {}, expect=422)  # a refusal needs its reason
    refused = post(stack, tid, "refuse_extension", centre(stack.token), {"note": "请按期办结"})
    moved = datetime.fromisoformat(refused["deadline"]) - datetime.fromisoformat(claimed["deadline"])
    assert refused["state"] == "claimed" and moved < timedelta(hours=1)


def test_extension_with_bad_unit_is_422_naming_unit(stack):
    tid = stack.ticket_for()["id"]
    post(stack, tid, "claim", water(stack.token))
    resp = stack.client.post(f"/v1/tickets/{tid}/request_extension",
                             json={"amount": 2, "unit": "fortnights", "note": "x"}, headers=water(stack.token))
    assert resp.status_code == 422 and error(resp)["details"][0]["field"].endswith("unit")


def test_suspend_and_resume_keep_time_left(stack):
    tid = stack.ticket_for()["id"]
    claimed = post(stack, tid, "claim", water(stack.token))
    suspended = post(stack, tid, "suspend", centre(stack.token), {"note": "等待产权单位确认"})
    assert suspended["state"] == "suspended" and suspended["paused_at"]
    post(stack, tid, "handle", water(stack.token), {"note": "x"}, expect=409)
    resumed = post(stack, tid, "resume", centre(stack.token))
    assert resumed["state"] == "claimed"
    assert datetime.fromisoformat(resumed["deadline"]) >= datetime.fromisoformat(claimed["deadline"])


def test_supervise_keeps_state_and_is_published(stack):
    tid = stack.ticket_for()["id"]
    supervised = post(stack, tid, "supervise", centre(stack.token), {"note": "市指挥中心督办"})
    assert supervised["state"] == "dispatched" and supervised["supervised"] is True
    assert stack.events(tid)[-1].type == "ticket.supervised"


def test_manual_triage_dispatches_unlocated_ticket_to_named_department(stack):
    tid = stack.ticket_for(status="unlocated")["id"]
    post(stack, tid, "dispatch", centre(stack.token), {}, expect=422)
    dispatched = post(stack, tid, "dispatch", centre(stack.token), {"department": "water", "note": "人工分拨"})
    assert dispatched["state"] == "dispatched" and dispatched["department"] == "water"
    assert dispatched["stage"] == "claim" and dispatched["deadline"]


def test_reopen_closed_ticket_sends_it_back_as_rework(stack):
    tid = stack.ticket_for()["id"]
    for action, who, body in (("claim", water, None), ("handle", water, {"note": "已修复"})):
        post(stack, tid, action, who(stack.token), body)
    ticket = stack.client.get(f"/v1/tickets/{tid}", headers=centre(stack.token)).json()
    worker = stack.token("grid_worker", sub="gw-1", grid=ticket["grid_code"])
    post(stack, tid, "verify", worker, {"passed": True})
    post(stack, tid, "close", worker)
    post(stack, tid, "reopen", water(stack.token), expect=403)
    reopened = post(stack, tid, "reopen", centre(stack.token), {"note": "回访：问题未解决"})
    assert reopened["state"] == "claimed" and reopened["rework_count"] == 1 and reopened["closed_at"] is None
    assert reopened["stage"] == "handle"


def test_ticket_detail_explains_routing_decision(stack):
    tid = stack.ticket_for(category="04002")["id"]
    detail = stack.client.get(f"/v1/tickets/{tid}", headers=centre(stack.token)).json()
    assert detail["decision"]["department"] == "water"
    assert detail["rule_set_version"] >= 1 and detail["catalog_version"] >= 1
    assert detail["transitions"][1]["note"]  # the dispatch step says why


def _age(stack, tid, *, started_ago: timedelta, deadline_in: timedelta) -> None:
    """Move a ticket's clock into the past, as if time had passed (the scanner reads the rows)."""
    now = datetime.now(UTC)
    with stack.runtime.db.session() as session:
        row = session.exec(select(Ticket).where(Ticket.id == tid)).one()
        row.stage_started_at = now - started_ago
        row.deadline = now + deadline_in
        row.stage_limit_unit, row.stage_total_s = "clock_hours", (started_ago + deadline_in).total_seconds()
        row.next_check_at = now - timedelta(seconds=1)
        session.add(row)
        session.commit()


def test_scan_warns_at_warning_share_then_escalates_past_deadline(stack):
    tid = stack.ticket_for()["id"]
    ctx = stack.runtime.ctx
    _age(stack, tid, started_ago=timedelta(hours=9), deadline_in=timedelta(hours=1))  # 90 % used
    assert sla_handlers.scan_sla(ctx) == 1
    ticket = stack.client.get(f"/v1/tickets/{tid}", headers=centre(stack.token)).json()
    assert ticket["sla_level"] == "yellow" and ticket["state"] == "dispatched"
    assert sla_handlers.scan_sla(ctx) == 0  # nothing more is owed until the deadline

    _age(stack, tid, started_ago=timedelta(hours=25), deadline_in=timedelta(hours=-15))  # 1.5 stage lengths late
    assert sla_handlers.scan_sla(ctx) == 2  # village, then town; the city step is half a stage away
    ticket = stack.client.get(f"/v1/tickets/{tid}", headers=centre(stack.token)).json()
    assert (ticket["sla_level"], ticket["escalation_level"]) == ("red", 2)
    events = [e for e in stack.events(tid) if e.type == "ticket.escalated"]
    assert [TicketEvent.model_validate(e.payload).escalation_level for e in events] == [1, 2]
    breaches = stack.client.get("/v1/sla/breaches", headers=centre(stack.token)).json()
    assert tid in {item["id"] for item in breaches["items"]}
    overdue = stack.client.get("/v1/tickets", params={"overdue": True}, headers=centre(stack.token)).json()
    assert [t["id"] for t in overdue["items"]] == [tid]


def test_scan_by_two_watchers_at_once_gives_each_step_once(stack):
    tid = stack.ticket_for()["id"]
    _age(stack, tid, started_ago=timedelta(hours=40), deadline_in=timedelta(hours=-30))
    ctx = stack.runtime.ctx
    barrier = threading.Barrier(2)
    taken: list[int] = []

    def scan():
        barrier.wait()
        taken.append(sla_handlers.scan_sla(ctx))

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    escalations = [e for e in stack.events(tid) if e.type == "ticket.escalated"]
    assert len(escalations) == 3 and sum(taken) == 3


@pytest.mark.parametrize("backend", ["stack", pytest.param("pg_stack", marks=pytest.mark.distributed)],
                         ids=["sqlite", "postgresql"])
def test_claim_ticket_concurrently_exactly_one_wins(backend, request):
    stack = request.getfixturevalue(backend)
    tid = stack.ticket_for()["id"]
    barrier = threading.Barrier(4)
    results: list[int] = []

    def claim(sub):
        headers = stack.token("dept_dispatcher", sub=sub, department="water")
        barrier.wait()
        results.append(stack.client.post(f"/v1/tickets/{tid}/claim", headers=headers).status_code)

    threads = [threading.Thread(target=claim, args=(f"water-{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert sorted(results) == [200, 409, 409, 409]
    detail = stack.client.get(f"/v1/tickets/{tid}", headers=centre(stack.token)).json()
    assert [s["action"] for s in detail["transitions"]].count("claim") == 1
    assert detail["version"] == 3
