"""The full ticket lifecycle end to end (issue #6), on each stack: return and ruling, extension, suspension,
supervision and rework, with the SLA clock standing still while the ticket waits on the command centre, every
step audited, published, and seen by the reporter."""

from datetime import datetime, timedelta, timezone

import httpx
import sqlalchemy

from gridgov_cli.demo import DEMO_POINT
from tests.e2e.test_loop import post_report, tickets_for

CHINA = timezone(timedelta(hours=8))


def act(stack, ticket_id, action, who, body=None, expect=200):
    resp = httpx.post(f"{stack.urls.dispatch}/v1/tickets/{ticket_id}/{action}", headers=who, json=body)
    assert resp.status_code == expect, f"{action}: {resp.status_code} {resp.text}"
    return resp.json()


def test_ticket_runs_return_ruling_extension_suspension_and_rework_to_closure(stack):
    report_id = post_report(stack, *DEMO_POINT, category="04002")  # 自来水管破裂 → water
    ticket = stack.wait_for("the dispatched ticket",
                            lambda: (t := tickets_for(stack, report_id)) and t[0]["state"] == "dispatched" and t[0])
    tid, grid = ticket["id"], ticket["grid_code"]
    assert ticket["department"] == "water" and ticket["stage"] == "claim" and ticket["deadline"]
    centre = stack.auth(sub="cc", role="command_centre")
    water = stack.auth(sub="d-water", role="dept_dispatcher", department="water")
    housing = stack.auth(sub="d-housing", role="dept_dispatcher", department="housing")
    worker = stack.auth(sub="gw-1", role="grid_worker", grid=grid)

    # 退单: water says it is not theirs; the clock stands until the command centre rules.
    returned = act(stack, tid, "return", water, {"note": "属燃气管道，非供水管网"})
    assert returned["state"] == "returned" and returned["paused_at"]
    queue = httpx.get(f"{stack.urls.dispatch}/v1/sla/returns", headers=centre).json()
    assert tid in {item["id"] for item in queue["items"]}
    act(stack, tid, "claim", water, expect=409)
    ruled = act(stack, tid, "rule_return", centre,
                {"department": "housing", "note": "改派住建", "category_code": "04003"})  # 燃气管道破裂
    assert ruled["state"] == "dispatched" and ruled["department"] == "housing"
    assert ruled["category_code"] == "04003"
    assert ruled["first_department"] == "water" and ruled["paused_at"] is None and ruled["stage"] == "claim"

    act(stack, tid, "claim", water, expect=403)  # no longer water's
    act(stack, tid, "claim", housing)
    # 延期: asked, the clock stands; approved, the deadline moves later by the extension.
    before = act(stack, tid, "supervise", centre, {"note": "请加快处置"})
    assert before["supervised"] and before["state"] == "claimed"
    asked = act(stack, tid, "request_extension", housing, {"amount": 2, "unit": "working_days", "note": "需停水施工"})
    assert asked["state"] == "extension_requested" and asked["paused_at"]
    approved = act(stack, tid, "approve_extension", centre)
    assert approved["state"] == "claimed" and approved["deadline"] > before["deadline"]
    # 挂起 and 恢复.
    act(stack, tid, "suspend", centre, {"note": "等待燃气公司配合"})
    resumed = act(stack, tid, "resume", centre)
    assert resumed["state"] == "claimed" and resumed["paused_at"] is None

    # 返工 after a failed on-site check, then the loop closes.
    act(stack, tid, "handle", housing, {"note": "已临时封堵", "photos": ["media-1"]})
    reworked = act(stack, tid, "verify", worker, {"passed": False, "note": "仍在漏"})
    assert reworked["state"] == "claimed" and reworked["rework_count"] == 1
    act(stack, tid, "handle", housing, {"note": "已更换管段", "photos": ["media-2", "media-3"]})
    act(stack, tid, "verify", worker, {"passed": True})
    closed = act(stack, tid, "close", centre)
    assert closed["state"] == "closed" and closed["stage"] is None

    detail = httpx.get(f"{stack.urls.dispatch}/v1/tickets/{tid}", headers=centre).json()
    assert [t["action"] for t in detail["transitions"]] == [
        "register", "dispatch", "return", "rule_return", "claim", "supervise", "request_extension",
        "approve_extension", "suspend", "resume", "handle", "rework", "handle", "verify", "close"]
    assert detail["transitions"][2]["note"] == "属燃气管道，非供水管网"
    assert detail["transitions"][12]["photos"] == ["media-2", "media-3"]
    assert detail["decision"]["department"] == "water"  # the rules' first decision stays on record

    # The reporter sees it closed; the indicators count the return and the rework.
    stack.wait_for("the report to show closed", lambda: httpx.get(
        f"{stack.urls.intake}/v1/reports/{report_id}", headers=centre).json()["status"] == "closed")
    today = datetime.now(CHINA).date().isoformat()
    indicators = httpx.get(f"{stack.urls.dispatch}/v1/indicators", params={"period": today, "group_by": "department"},
                           headers=centre)
    assert indicators.status_code == 200, indicators.text
    city = indicators.json()["city"]
    assert (city["return_rate"]["numerator"], city["return_rate"]["denominator"]) == (1, 1)
    assert (city["first_dispatch_accuracy"]["numerator"], city["first_dispatch_accuracy"]["denominator"]) == (0, 1)
    assert (city["rework_rate"]["numerator"], city["closure_rate"]["numerator"]) == (1, 1)

    # The command centre's re-categorisation reached intake over the bus as a labelled example for the assistant.
    engine = sqlalchemy.create_engine(stack.database_url("event-intake"))
    try:
        def learned():
            with engine.connect() as conn:
                return conn.execute(sqlalchemy.text("SELECT text, code FROM assist_examples WHERE report_id = :r"),
                                    {"r": report_id}).all()
        assert stack.wait_for("intake's labelled example", learned) == [("e2e", "04003")]
    finally:
        engine.dispose()
