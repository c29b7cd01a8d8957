"""Follow-up (回访) end to end (issue #7), on each stack: a citizen's photo report is closed, the citizen is asked
in their inbox, answers "not solved, 1 of 5" by link without login, and the case is back with its department
(返工) with the rating in its audit trail; 满意率 counts the rating."""

import re
from datetime import datetime, timedelta, timezone

import httpx

from gridgov_cli.demo import DEMO_POINT
from gridgov_common.geo import wgs84_to_gcj02
from tests.e2e.test_channels import upload, wait_ticket
from tests.e2e.test_lifecycle import act

CHINA = timezone(timedelta(hours=8))
LINK = re.compile(r"/followups/[A-Za-z0-9_-]+")  # the page's link; the API is under /v1


def test_bad_followup_rating_reopens_citizen_ticket_and_counts_in_satisfaction_rate(stack):
    intake, dispatch, notification = stack.urls.intake, stack.urls.dispatch, stack.urls.notification
    citizen = stack.auth(sub="wx-followup", role="citizen")
    gcj = wgs84_to_gcj02(*DEMO_POINT)
    photo = httpx.post(f"{intake}/v1/reports/citizen", headers=citizen, json={
        "category_code": "01002", "description": "e2e 随手拍：路边垃圾堆积", "device_id": "dev-followup",
        "lon": gcj[0], "lat": gcj[1], "media_ids": [upload(stack, citizen)]})
    assert photo.status_code == 202, photo.text
    ticket = wait_ticket(stack, photo.json()["report_id"])
    tid = ticket["id"]
    stack.wait_for("the dispatched ticket", lambda: httpx.get(
        f"{dispatch}/v1/tickets/{tid}", headers=stack.auth(sub="cc", role="command_centre")
    ).json()["state"] == "dispatched")
    ticket = httpx.get(f"{dispatch}/v1/tickets/{tid}", headers=stack.auth(sub="cc", role="command_centre")).json()
    department, grid = ticket["department"], ticket["grid_code"]
    dept = stack.auth(sub="d-1", role="dept_dispatcher", department=department)
    centre = stack.auth(sub="cc", role="command_centre")
    act(stack, tid, "claim", dept)
    act(stack, tid, "handle", dept, {"note": "已清运", "photos": ["media-after"]})
    act(stack, tid, "verify", stack.auth(sub="gw-1", role="grid_worker", grid=grid), {"passed": True})
    act(stack, tid, "close", centre, {"note": "垃圾已清运完毕"})

    def followup_link():
        items = httpx.get(f"{notification}/v1/inbox", headers=citizen).json()["items"]
        asks = [i for i in items if i["ticket_id"] == tid and i["event_type"] == "followup.requested"]
        return asks and "/v1" + LINK.search(asks[0]["body"])[0]

    link = stack.wait_for("the follow-up link in the citizen's inbox", followup_link, timeout=60)
    shown = httpx.get(f"{notification}{link}")  # no login: the link is the credential
    assert shown.status_code == 200, shown.text
    assert shown.json()["ticket_id"] == tid and shown.json()["closed_note"] == "垃圾已清运完毕"
    assert shown.json()["category_name"] == "暴露垃圾" and shown.json()["answered"] is False

    answered = httpx.post(f"{notification}{link}", json={"solved": False, "satisfaction": 1,
                                                          "comment": "第二天又堆满了"})
    assert answered.status_code == 200, answered.text
    assert httpx.post(f"{notification}{link}", json={"solved": True, "satisfaction": 5}).status_code == 409

    def reworked():
        body = httpx.get(f"{dispatch}/v1/tickets/{tid}", headers=centre).json()
        return body["state"] == "claimed" and body

    after = stack.wait_for("the ticket back with its department (返工)", reworked, timeout=60)
    assert after["department"] == department and after["rework_count"] == 1
    [reopen] = [t for t in after["transitions"] if t["action"] == "reopen"]
    assert "满意度 1/5" in reopen["note"] and "第二天又堆满了" in reopen["note"] and reopen["actor_role"] == "system"

    today = datetime.now(CHINA).date().isoformat()
    indicators = httpx.get(f"{dispatch}/v1/indicators", params={"period": today}, headers=centre)
    assert indicators.status_code == 200, indicators.text
    rate = indicators.json()["city"]["satisfaction_rate"]
    assert (rate["numerator"], rate["denominator"]) == (0, 1)
