"""并案 across channels end to end (issue #5), on each stack: a hotline call and a citizen photo report of the
same burst pipe become one case, every reporter hears the outcome, and a dispatcher can split a report out."""

import time

import httpx
import pytest

from gridgov_cli.demo import DEMO_POINT
from gridgov_common.geo import wgs84_to_gcj02
from tests.e2e.conftest import _running_stack, stack_params
from tests.e2e.test_channels import upload, wait_ticket
from tests.support.flow import inbox_all

PIPE = "04002"  # 自来水管破裂: routed to water


@pytest.fixture(params=stack_params())
def merging_stack(request, tmp_path, monkeypatch):
    """The four services with merging on: same category within 80 m and 2 hours joins the open case."""
    monkeypatch.setenv("GRIDGOV_DISPATCH_MERGE_DISTANCE_M", "80")
    monkeypatch.setenv("GRIDGOV_DISPATCH_MERGE_WINDOW_MINUTES", "120")
    s = _running_stack(request.param, tmp_path)
    yield s
    s.close()


def wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def report_status(stack, report_id: str) -> str:
    resp = httpx.get(f"{stack.urls.intake}/v1/reports/{report_id}", headers=stack.auth(sub="cc", role="command_centre"))
    resp.raise_for_status()
    return resp.json()["status"]


def test_hotline_and_photo_of_one_pipe_merge_close_together_and_split(merging_stack):
    stack = merging_stack
    intake, dispatch = stack.urls.intake, stack.urls.dispatch
    centre = stack.auth(sub="cc", role="command_centre")
    hotline = httpx.post(f"{intake}/v1/reports/hotline", headers=centre, json={
        "order_no": "E2E-MERGE-1", "caller_phone": "13812345678", "address": "莞城街道 水管爆裂",
        "category_code": PIPE, "description": "路面冒水，水管爆裂", "lon": DEMO_POINT[0], "lat": DEMO_POINT[1]})
    assert hotline.status_code == 202, hotline.text
    case = wait_ticket(stack, hotline.json()["report_id"])

    # A citizen 20-odd metres away, phone in GCJ-02, photographs the same burst pipe.
    citizen = stack.auth(sub="wx-merge", role="citizen")
    gcj = wgs84_to_gcj02(DEMO_POINT[0] + 0.0002, DEMO_POINT[1])
    photo = httpx.post(f"{intake}/v1/reports/citizen", headers=citizen, json={
        "category_code": PIPE, "description": "这里水管破了", "device_id": "dev-merge", "lon": gcj[0], "lat": gcj[1],
        "media_ids": [upload(stack, citizen)]})
    assert photo.status_code == 202, photo.text
    photo_id = photo.json()["report_id"]

    detail = wait_for(lambda: (d := httpx.get(f"{dispatch}/v1/tickets/{case['id']}", headers=centre).json())
                      ["merged_reports"] and d, "the photo report to merge")
    [merged] = detail["merged_reports"]
    assert merged["report_id"] == photo_id and merged["channel"] == "citizen"
    assert 0 < merged["distance_m"] <= 80  # why it was merged, for the dispatcher
    assert httpx.get(f"{dispatch}/v1/tickets", params={"report_id": photo_id}, headers=centre).json()["items"] == []
    wait_for(lambda: report_status(stack, photo_id) == "dispatched", "the photo report to follow the case")

    # A third report of the same pipe, merged, then split out again by the water dispatcher: a case of its own.
    worker = stack.auth(sub="gw-merge", role="grid_worker")
    third = httpx.post(f"{intake}/v1/reports/patrol", headers=worker, json={
        "category_code": PIPE, "description": "水管破裂另一处？", "lon": DEMO_POINT[0], "lat": DEMO_POINT[1] + 0.0001})
    assert third.status_code == 202, third.text
    third_id = third.json()["report_id"]
    wait_for(lambda: len(httpx.get(f"{dispatch}/v1/tickets/{case['id']}", headers=centre)
                         .json()["merged_reports"]) == 2, "the third report to merge")
    water = stack.auth(sub="disp-water", role="dept_dispatcher", department="water")
    split = httpx.post(f"{dispatch}/v1/tickets/{case['id']}/split", headers=water, json={"report_id": third_id})
    assert split.status_code == 200, split.text
    own = split.json()
    assert own["id"] != case["id"] and own["report_id"] == third_id and own["state"] == "dispatched"

    # The case runs its loop; both reporters of the merged case hear the outcome, the split one does not.
    ticket_id = case["id"]
    for path, who, body in (("claim", water, None), ("handle", water, {"note": "已关阀抢修"})):
        resp = httpx.post(f"{dispatch}/v1/tickets/{ticket_id}/{path}", headers=who, json=body)
        assert resp.status_code == 200, resp.text
    verifier = stack.auth(sub="gw-merge", role="grid_worker", grid=case["grid_code"])
    for path, body in (("verify", {"passed": True}), ("close", None)):
        resp = httpx.post(f"{dispatch}/v1/tickets/{ticket_id}/{path}", headers=verifier, json=body)
        assert resp.status_code == 200, resp.text

    for report_id in (hotline.json()["report_id"], photo_id):
        wait_for(lambda r=report_id: report_status(stack, r) == "closed", f"report {report_id} to show closed")
    assert report_status(stack, third_id) == "dispatched"
    closed_notice = wait_for(lambda: [m for m in inbox_all(stack, sub="wx-merge", role="citizen")
                                      if m["title"] == "您反映的问题已办结"], "the citizen's close notice")
    assert len(closed_notice) == 1 and ticket_id in closed_notice[0]["body"]
    assert [m for m in inbox_all(stack, sub="gw-merge", role="grid_worker") if m["title"] == "您反映的问题已办结"] == []
