"""The command centre's API: SLA board, breaches, returned queue, map counts, indicators, and the scanner query.

Tickets are made through the embedded stack (located reports on the bus) and moved on through the API where an
endpoint exists. States and SLA fields no endpoint reaches yet in these tests (returned awaiting a ruling,
yellow/red levels set by the SLA clock, escalation steps, paused clocks) are written straight into the test
database through the app's runtime db session (``set_ticket`` / ``add_transition``), as the clock and the
lifecycle would leave them.
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from gridgov_dispatch.indicators.formulas import CHINA_TIME
from gridgov_dispatch.sla import scanner
from gridgov_dispatch.tickets.models import Ticket, TicketTransition
from tests.support.sql_plans import plan

TOWN = "441900001"
OTHER_TOWN = "441900002"
GRID = "441900001001001"
VILLAGE = "441900001001"


def water(token):
    return token("dept_dispatcher", sub="water-1", department="water")


def worker(token):
    return token("grid_worker", sub="gw-7", grid=GRID)


def set_ticket(stack, ticket_id: str, **values) -> None:
    """Write ticket columns directly (what the SLA clock or a lifecycle step not driven here would write)."""
    with stack.runtime.db.session() as session:
        row = session.exec(select(Ticket).where(Ticket.id == ticket_id)).one()
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
        session.commit()


def add_transition(stack, ticket_id: str, action: str, from_state: str, to_state: str, *, at: datetime,
                   actor_id: str = "water-1", actor_role: str = "dept_dispatcher", note: str | None = None) -> None:
    """Append an audit row directly, next in the ticket's sequence."""
    with stack.runtime.db.session() as session:
        seq = session.exec(select(func.max(TicketTransition.seq)).where(TicketTransition.ticket_id == ticket_id)).one()
        session.add(TicketTransition(ticket_id=ticket_id, seq=(seq or 0) + 1, action=action, from_state=from_state,
                                     to_state=to_state, actor_id=actor_id, actor_role=actor_role, note=note,
                                     event_id=str(uuid.uuid4()), at=at))
        session.commit()


def return_ticket(stack, ticket_id: str, note: str, at: datetime, actor_id: str = "water-1") -> None:
    """Leave a ticket returned (退单) awaiting a ruling, as the return action would."""
    set_ticket(stack, ticket_id, state="returned", paused_at=at, return_count=1)
    add_transition(stack, ticket_id, "return", "dispatched", "returned", at=at, note=note, actor_id=actor_id)


def drive(stack, ticket_id: str, *actions: str) -> None:
    """Take closed-loop steps through the API, asserting each succeeds."""
    t, c = stack.token, stack.client
    calls = {
        "claim": lambda: c.post(f"/v1/tickets/{ticket_id}/claim", headers=water(t)),
        "handle": lambda: c.post(f"/v1/tickets/{ticket_id}/handle", json={"note": "已处置"}, headers=water(t)),
        "verify": lambda: c.post(f"/v1/tickets/{ticket_id}/verify", json={"passed": True}, headers=worker(t)),
        "rework": lambda: c.post(f"/v1/tickets/{ticket_id}/verify", json={"passed": False, "note": "仍在漏水"},
                                 headers=worker(t)),
        "close": lambda: c.post(f"/v1/tickets/{ticket_id}/close", json={"note": "结案"}, headers=t("command_centre")),
    }
    for action in actions:
        resp = calls[action]()
        assert resp.status_code == 200, (action, resp.text)


def get(stack, path: str, role: str = "command_centre", **params):
    return stack.client.get(path, params=params, headers=stack.token(role))


# --- board --------------------------------------------------------------------------------------------------


def test_get_sla_board_counts_every_state_levels_and_open_by_department_and_town(stack):
    late = stack.ticket_for(category="04002")["id"]
    warned = stack.ticket_for(category="04002")["id"]
    urban = stack.ticket_for(category="01002")["id"]
    triage = stack.ticket_for(category="04002", status="unlocated")["id"]
    now = datetime.now(UTC)
    set_ticket(stack, late, sla_level="red", escalation_level=1, deadline=now - timedelta(hours=1))
    set_ticket(stack, warned, sla_level="yellow")
    return_ticket(stack, urban, "不属于本部门", now)
    board = get(stack, "/v1/sla/board").json()
    assert {"registered", "dispatched", "claimed", "handled", "verified", "closed", "returned",
            "extension_requested", "suspended"} <= set(board["counts"])
    assert (board["counts"]["returned"], board["counts"]["registered"]) == (1, 1)
    assert board["open_total"] == 4
    assert board["open_by_department"] == {"water": 2, "urban-management": 1, "none": 1}
    assert board["open_by_town"] == {TOWN: 3, "none": 1}
    assert (board["warning_total"], board["breach_total"]) == (1, 1)
    by_id = {i["id"]: i for i in board["open_tickets"]}
    assert board["open_tickets"][0]["id"] == late  # earliest deadline first
    assert (by_id[late]["sla_level"], by_id[late]["escalation_level"], by_id[late]["overdue"]) == ("red", 1, True)
    assert by_id[urban]["paused"] is True and by_id[late]["paused"] is False
    assert by_id[triage]["deadline"] is None and board["open_tickets"][-1]["id"] == triage


def test_get_sla_board_as_grid_worker_is_403(stack):
    assert get(stack, "/v1/sla/board", role="grid_worker").status_code == 403


# --- breaches -----------------------------------------------------------------------------------------------


def test_list_breaches_shows_red_open_tickets_with_overdue_time_and_escalation(stack):
    red = stack.ticket_for(category="04002")["id"]
    green = stack.ticket_for(category="04002")["id"]
    closed = stack.ticket_for(category="04002")["id"]
    now = datetime.now(UTC)
    set_ticket(stack, red, sla_level="red", escalation_level=2, deadline=now - timedelta(hours=3))
    set_ticket(stack, green, deadline=now - timedelta(minutes=1))  # overdue but the clock has not judged it yet
    drive(stack, closed, "claim", "handle", "verify", "close")
    set_ticket(stack, closed, sla_level="red")  # a closed case is no longer a breach to chase
    resp = get(stack, "/v1/sla/breaches")
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert (page["total"], [i["id"] for i in page["items"]]) == (1, [red])
    item = page["items"][0]
    assert (item["department"], item["town_code"], item["escalation_level_name"]) == ("water", TOWN, "town")
    assert 2.9 <= item["overdue_hours"] <= 3.1


def test_list_breaches_paused_ticket_stops_overdue_at_pause(stack):
    tid = stack.ticket_for(category="04002")["id"]
    now = datetime.now(UTC)
    set_ticket(stack, tid, sla_level="red", deadline=now - timedelta(hours=5), paused_at=now - timedelta(hours=4))
    item = get(stack, "/v1/sla/breaches").json()["items"][0]
    assert item["paused"] is True
    assert 0.9 <= item["overdue_hours"] <= 1.1


def test_list_breaches_filters_by_department_and_town_and_pages(stack):
    now = datetime.now(UTC)
    ids = [stack.ticket_for(category="04002")["id"] for _ in range(3)]
    urban = stack.ticket_for(category="01002")["id"]
    for hours, tid in enumerate([*ids, urban], start=1):
        set_ticket(stack, tid, sla_level="red", deadline=now - timedelta(hours=10 - hours))
    set_ticket(stack, ids[2], town_code=OTHER_TOWN)
    water_page = get(stack, "/v1/sla/breaches", department="water", limit=1, offset=1).json()
    assert (water_page["total"], [i["id"] for i in water_page["items"]]) == (3, [ids[1]])  # longest overdue first
    assert [i["id"] for i in get(stack, "/v1/sla/breaches", town=OTHER_TOWN).json()["items"]] == [ids[2]]
    assert get(stack, "/v1/sla/breaches", department="urban-management", town=TOWN).json()["total"] == 1


def test_list_breaches_as_dept_dispatcher_sees_own_department_only(stack):
    water_red = stack.ticket_for(category="04002")["id"]
    urban_red = stack.ticket_for(category="01002")["id"]
    for tid in (water_red, urban_red):
        set_ticket(stack, tid, sla_level="red")
    resp = stack.client.get("/v1/sla/breaches", headers=water(stack.token))
    assert [i["id"] for i in resp.json()["items"]] == [water_red]
    other = stack.client.get("/v1/sla/breaches", params={"department": "urban-management"},
                             headers=water(stack.token))
    assert other.status_code == 403
    assert other.json()["error"]["details"][0]["field"] == "department"


def test_list_breaches_bad_filters_are_422_and_grid_worker_403(stack):
    for params in ({"town": "not-a-town"}, {"department": "Water Bureau"}, {"limit": 0}, {"offset": -1}):
        resp = get(stack, "/v1/sla/breaches", **params)
        assert resp.status_code == 422, params
        assert resp.json()["error"]["details"][0]["field"] == next(iter(params))
    assert get(stack, "/v1/sla/breaches", role="grid_worker").status_code == 403


# --- returned queue -----------------------------------------------------------------------------------------


def test_list_returns_oldest_first_with_latest_reason_and_who(stack):
    newer = stack.ticket_for(category="04002")["id"]
    older = stack.ticket_for(category="01002")["id"]
    stack.ticket_for(category="04002")  # dispatched, not returned: not in the queue
    now = datetime.now(UTC)
    return_ticket(stack, newer, "非本部门职责", now - timedelta(minutes=5))
    # ``older`` was returned once, re-dispatched, and returned again: the queue shows the latest reason.
    add_transition(stack, older, "return", "dispatched", "returned", at=now - timedelta(hours=3), note="第一次退回",
                   actor_id="um-1")
    add_transition(stack, older, "rule_return", "returned", "dispatched", at=now - timedelta(hours=2),
                   actor_id="command_centre-1", actor_role="command_centre")
    return_ticket(stack, older, "应由住建处理", now - timedelta(hours=1), actor_id="um-2")
    resp = get(stack, "/v1/sla/returns")
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert page["total"] == 2
    assert [i["id"] for i in page["items"]] == [older, newer]
    first = page["items"][0]
    assert (first["reason"], first["returned_by"], first["returned_by_role"]) == ("应由住建处理", "um-2",
                                                                                   "dept_dispatcher")
    assert abs(datetime.fromisoformat(first["returned_at"]) - (now - timedelta(hours=1))) < timedelta(seconds=1)
    assert page["items"][1]["reason"] == "非本部门职责"


def test_list_returns_as_dept_dispatcher_is_403(stack):
    assert stack.client.get("/v1/sla/returns", headers=water(stack.token)).status_code == 403


# --- map counts ---------------------------------------------------------------------------------------------


def test_get_area_counts_per_grid_village_and_town(stack):
    a = stack.ticket_for(category="04002")["id"]
    b = stack.ticket_for(category="04002")["id"]
    stack.ticket_for(category="04002")
    done = stack.ticket_for(category="04002")["id"]
    stack.ticket_for(category="04002", status="unlocated")  # no area: left off the map
    set_ticket(stack, a, sla_level="yellow")
    set_ticket(stack, b, sla_level="red")
    drive(stack, done, "claim", "handle", "verify", "close")
    expected = {"open": 3, "yellow": 1, "red": 1}
    for level, code in (("grid", GRID), ("village", VILLAGE), ("town", TOWN)):
        resp = get(stack, "/v1/sla/counts", role="grid_worker", level=level)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {code: expected}, level


def test_get_area_counts_with_matching_etag_is_304_until_counts_change(stack):
    tid = stack.ticket_for(category="04002")["id"]
    first = get(stack, "/v1/sla/counts", role="dept_dispatcher", level="town")
    assert first.headers["cache-control"] == "max-age=15"
    etag = first.headers["etag"]
    headers = {**water(stack.token), "If-None-Match": etag}
    again = stack.client.get("/v1/sla/counts", params={"level": "town"}, headers=headers)
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag
    set_ticket(stack, tid, sla_level="red")
    changed = stack.client.get("/v1/sla/counts", params={"level": "town"}, headers=headers)
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()[TOWN]["red"] == 1


def test_get_area_counts_bad_level_is_422_and_citizen_403(stack):
    resp = get(stack, "/v1/sla/counts", level="county")
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "level"
    assert get(stack, "/v1/sla/counts", role="citizen", level="town").status_code == 403


# --- indicators ---------------------------------------------------------------------------------------------


def _today_period() -> str:
    # Yesterday to tomorrow (China time): the test's transitions fall inside even when it runs around midnight.
    today = datetime.now(CHINA_TIME).date()
    return f"{today - timedelta(days=1)}..{today + timedelta(days=1)}"


def test_get_indicators_counts_each_rate_with_numerator_and_denominator(stack):
    closed = stack.ticket_for(category="04002")["id"]
    reworked = stack.ticket_for(category="04002")["id"]
    returned = stack.ticket_for(category="04002")["id"]
    breached = stack.ticket_for(category="01002")["id"]
    drive(stack, closed, "claim", "handle", "verify", "close")
    drive(stack, reworked, "claim", "handle", "rework")
    now = datetime.now(UTC)
    return_ticket(stack, returned, "非本部门职责", now)
    set_ticket(stack, breached, sla_level="red", escalation_level=1, deadline=now - timedelta(minutes=30))
    add_transition(stack, breached, "escalate", "dispatched", "dispatched", at=now, actor_id="dispatch",
                   actor_role="system")
    resp = get(stack, "/v1/indicators", period=_today_period(), group_by="department")
    assert resp.status_code == 200, resp.text
    report = resp.json()
    total = report["city"]

    def counts(name, where=total):
        return where[name]["numerator"], where[name]["denominator"]

    assert counts("closure_rate") == (1, 2)  # due: the closed one and the open one whose deadline passed
    assert total["closure_rate"]["value"] == 0.5
    assert counts("on_time_closure_rate") == (1, 2)
    assert counts("rework_rate") == (1, 2)
    assert counts("return_rate") == (1, 4)
    assert counts("first_dispatch_accuracy") == (3, 4)
    assert total["breach_count"] == 1
    assert total["handling_count"] == 2 and total["mean_handling_hours"] is not None
    assert "satisfaction_rate" in total and total["satisfaction_rate"] is None
    groups = {g["group"]: g for g in report["groups"]}
    assert set(groups) == {"water", "urban-management"}
    assert counts("closure_rate", groups["water"]) == (1, 1)
    assert counts("closure_rate", groups["urban-management"]) == (0, 1)
    assert groups["urban-management"]["rework_rate"]["value"] is None  # nothing handled: null, not 0


def test_get_indicators_by_town_and_empty_period_gives_null_rates(stack):
    stack.ticket_for(category="04002")
    by_town = get(stack, "/v1/indicators", period=_today_period(), group_by="town").json()
    assert [g["group"] for g in by_town["groups"]] == [TOWN]
    assert by_town["groups"][0]["return_rate"] == {"value": 0.0, "numerator": 0, "denominator": 1}
    empty = get(stack, "/v1/indicators", period="2020-01").json()
    assert empty["groups"] == []
    assert empty["city"]["closure_rate"] == {"value": None, "numerator": 0, "denominator": 0}


def test_get_indicators_bad_period_or_group_is_422_and_dispatcher_403(stack):
    for params, field in (({"period": "2026-13"}, "period"), ({"period": "yesterday"}, "period"),
                          ({"period": "2026-11", "group_by": "grid"}, "group_by"), ({}, "period")):
        resp = get(stack, "/v1/indicators", **params)
        assert resp.status_code == 422, params
        assert resp.json()["error"]["details"][0]["field"] == field
    assert stack.client.get("/v1/indicators", params={"period": "2026-11"},
                            headers=water(stack.token)).status_code == 403


def test_openapi_documents_indicator_formulas(stack):
    description = stack.client.get("/openapi.json").json()["paths"]["/v1/indicators"]["get"]["description"]
    assert "按期结案率 on_time_closure_rate = closed on time ÷ due" in description
    assert "null until ratings arrive" in description


# --- the scanner query --------------------------------------------------------------------------------------


def test_scan_due_tickets_oldest_first_in_pages_without_changing_rows(stack):
    now = datetime.now(UTC)
    ids = [stack.ticket_for(category="04002")["id"] for _ in range(4)]
    later = stack.ticket_for(category="04002")["id"]
    closed = stack.ticket_for(category="04002")["id"]
    drive(stack, closed, "claim", "handle", "verify", "close")
    for minutes, tid in zip((40, 30, 30, 10), ids, strict=True):
        set_ticket(stack, tid, next_check_at=now - timedelta(minutes=minutes))
    set_ticket(stack, later, next_check_at=now + timedelta(minutes=5))
    set_ticket(stack, closed, next_check_at=now - timedelta(hours=1))  # closed: never due, whatever it says
    with stack.runtime.db.session() as session:
        first = scanner.due(session, now, 2)
        second = scanner.due(session, now, 2, scanner.page_key(first[-1]))
        third = scanner.due(session, now, 2, scanner.page_key(second[-1]))
    tied = sorted(ids[1:3])
    assert [t.id for t in first] == [ids[0], tied[0]]
    assert [t.id for t in second] == [tied[1], ids[3]]
    assert third == []


def test_scan_due_query_uses_next_check_index_on_sqlite(stack):
    db = stack.runtime.db
    compiled = scanner.due_query(datetime.now(UTC), 1000, (datetime.now(UTC), "x")).compile(db.engine)
    found = plan(db.engine, str(compiled))
    assert "ix_ticket_next_check_at" in found, found


# --- the ticket list by area (the risk map's drill-down) ---------------------------------------------------------


def test_list_tickets_filters_by_grid_and_village(stack):
    here = stack.ticket_for(category="04002")["id"]
    there = stack.ticket_for(category="04002")["id"]
    set_ticket(stack, there, grid_code="441900002001001", village_code="441900002001", town_code=OTHER_TOWN)
    by_grid = get(stack, "/v1/tickets", grid=GRID, limit=500).json()
    assert here in [t["id"] for t in by_grid["items"]]
    assert there not in [t["id"] for t in by_grid["items"]]
    assert all(t["grid_code"] == GRID for t in by_grid["items"])
    by_village = get(stack, "/v1/tickets", village="441900002001").json()
    assert [t["id"] for t in by_village["items"]] == [there]
    assert get(stack, "/v1/tickets", grid="x" * 21).status_code == 422
