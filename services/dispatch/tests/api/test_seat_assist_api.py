"""Issue #17 in dispatch: a village_only report is dispatched, POST /v1/rules/preview, and a ruling on a return
(退单裁定) that re-categorises the ticket."""

import uuid
from datetime import UTC, datetime

import pytest

from gridgov_common.bus.envelope import new_envelope
from gridgov_common.events.reports import REPORT_LOCATED, Location, PlaceMatch, ReportLocated, ReportReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_dispatch.tickets.models import Ticket

TOWN, VILLAGE = "441900001", "441900001001"


def village_only_envelope(category="01002"):
    report_id = str(uuid.uuid4())
    payload = ReportLocated(
        report=ReportReceived(report_id=report_id, channel="hotline", category_code=category,
                              description="小区门口垃圾堆了三天", lon=None, lat=None, reporter_id="hotline-1",
                              reporter_role="command_centre", submitted_at=datetime.now(UTC),
                              address="石碣镇某社区某路"),
        location=Location(status="village_only", village_code=VILLAGE, town_code=TOWN,
                          place_match=PlaceMatch(matched_text="石碣镇某社区", level="village", confidence=0.95)))
    return new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id, payload=payload,
                        correlation_id=report_id)


def test_consume_village_only_report_dispatches_ticket(stack):
    envelope = village_only_envelope()
    stack.publish(envelope)
    ticket = stack.wait_ticket(envelope.key)
    assert (ticket["state"], ticket["department"], ticket["grid_code"]) == ("dispatched", "urban-management", None)
    assert (ticket["location_status"], ticket["village_code"], ticket["town_code"]) == ("village_only", VILLAGE,
                                                                                       TOWN)


def preview(stack, body, role="command_centre"):
    return stack.client.post("/v1/rules/preview", json=body, headers=stack.token(role, department="water"))


@pytest.mark.parametrize("role", ["command_centre", "admin", "dept_dispatcher"])
def test_preview_names_department_and_rule_per_category(stack, role):
    resp = preview(stack, {"category_codes": ["04002", "01002"], "channel": "hotline", "town_code": TOWN}, role)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["rule_set_version"] == 1
    by_code = {d["category_code"]: d for d in body["decisions"]}
    assert by_code["04002"]["department"] == "water" and by_code["04002"]["rule_id"] == "minor-04002"
    assert by_code["04002"]["department_name"]
    assert by_code["01002"]["department"] == "urban-management" and by_code["01002"]["reason"]


def test_preview_town_rule_applies_and_without_place_is_triage(stack):
    urgent = preview(stack, {"category_codes": ["05001"], "village_code": "441900006001"}).json()["decisions"][0]
    assert urgent["rule_id"] == "town-441900006-street-order"
    nowhere = preview(stack, {"category_codes": ["01002"]}).json()["decisions"][0]
    assert nowhere["department"] is None and "not located" in nowhere["reason"]


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("citizen", 403), ("grid_worker", 403),
                                              ("device_gateway", 403)])
def test_preview_refused_to_others(stack, role, status):
    headers = stack.token(role, grid="441900001001001") if role else {}
    resp = stack.client.post("/v1/rules/preview", json={"category_codes": ["01002"]}, headers=headers)
    assert resp.status_code == status


@pytest.mark.parametrize(("body", "field"), [
    ({"category_codes": []}, "category_codes"), ({"category_codes": ["01002"] * 6}, "category_codes"),
    ({"category_codes": ["99999"]}, "category_codes"), ({"category_codes": ["01002"], "channel": "fax"}, "channel"),
    ({"category_codes": ["01002"], "town_code": "abc"}, "town_code"), ({}, "category_codes"),
    ({"category_codes": ["01002"], "extra": 1}, "extra"), ({"category_codes": [1]}, "category_codes"),
])
def test_preview_bad_input_is_422_naming_field(stack, body, field):
    resp = preview(stack, body)
    assert resp.status_code == 422
    assert any(field in d["field"] for d in resp.json()["error"]["details"]), resp.text


def water(token):
    return token("dept_dispatcher", sub="d-water", department="water")


def centre(token):
    return token("command_centre", sub="cc-1")


def test_ruling_recategorises_ticket_and_clock_follows_new_category(stack):
    tid = stack.ticket_for(category="04002")["id"]
    assert stack.client.post(f"/v1/tickets/{tid}/return", json={"note": "不是供水问题，是垃圾"},
                             headers=water(stack.token)).status_code == 200
    resp = stack.client.post(f"/v1/tickets/{tid}/rule_return",
                             json={"department": "urban-management", "category_code": "01002"},
                             headers=centre(stack.token))
    assert resp.status_code == 200, resp.text
    assert resp.json()["category_code"] == "01002" and resp.json()["department"] == "urban-management"
    events = [TicketEvent.model_validate(e.payload) for e in stack.events(tid)]
    assert events[-1].action == "rule_return" and events[-1].category_code == "01002"
    claim = stack.runtime.ctx.catalog().resolved("01002").limits.claim
    with stack.runtime.db.session() as session:
        ticket = session.get(Ticket, tid)
        assert (ticket.stage, ticket.stage_limit_amount, ticket.stage_limit_unit) == ("claim", claim.amount,
                                                                                      claim.unit)


@pytest.mark.parametrize("code", ["99001", "01", "0100299"])
def test_ruling_with_unknown_category_is_422_and_changes_nothing(stack, code):
    tid = stack.ticket_for(category="04002")["id"]
    stack.client.post(f"/v1/tickets/{tid}/return", json={"note": "不属于我局"}, headers=water(stack.token))
    resp = stack.client.post(f"/v1/tickets/{tid}/rule_return", json={"category_code": code},
                             headers=centre(stack.token))
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "category_code"
    ticket = stack.client.get(f"/v1/tickets/{tid}", headers=centre(stack.token)).json()
    assert (ticket["state"], ticket["category_code"]) == ("returned", "04002")


def test_village_only_preview_and_recategorising_ruling_on_both_databases(any_stack):
    stack = any_stack
    envelope = village_only_envelope()
    stack.publish(envelope)
    assert stack.wait_ticket(envelope.key)["location_status"] == "village_only"
    decisions = preview(stack, {"category_codes": ["04002"], "village_code": VILLAGE}).json()["decisions"]
    assert decisions[0]["department"] == "water"
    tid = stack.ticket_for(category="04002")["id"]
    stack.client.post(f"/v1/tickets/{tid}/return", json={"note": "不属于我局"}, headers=water(stack.token))
    ruled = stack.client.post(f"/v1/tickets/{tid}/rule_return",
                              json={"department": "urban-management", "category_code": "01002"},
                              headers=centre(stack.token))
    assert ruled.status_code == 200 and ruled.json()["category_code"] == "01002"
