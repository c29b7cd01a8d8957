"""Every intake channel end to end into a ticket (issue #5), on each stack."""

import time

import httpx

from gridgov_cli.demo import DEMO_POINT
from gridgov_common.geo import wgs84_to_gcj02
from gridgov_event_intake.media.samples import jpeg


def wait_ticket(stack, report_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = httpx.get(f"{stack.urls.dispatch}/v1/tickets", params={"report_id": report_id},
                         headers=stack.auth(sub="cc", role="command_centre"))
        resp.raise_for_status()
        if resp.json()["items"]:
            return resp.json()["items"][0]
        time.sleep(0.1)
    raise AssertionError(f"no ticket for report {report_id}")


def upload(stack, headers):
    resp = httpx.post(f"{stack.urls.intake}/v1/media", content=jpeg(),
                      headers={**headers, "Content-Type": "image/jpeg"})
    assert resp.status_code == 201, resp.text
    return resp.json()["media_id"]


def test_each_channel_reaches_a_ticket_and_direct_answers_do_not(stack):
    intake, centre = stack.urls.intake, stack.auth(sub="cc", role="command_centre")
    hotline = httpx.post(f"{intake}/v1/reports/hotline", headers=centre, json={
        "order_no": "E2E-0001", "caller_phone": "13812341234", "address": "莞城街道", "category_code": "01002",
        "description": "e2e hotline", "lon": DEMO_POINT[0], "lat": DEMO_POINT[1]})
    assert hotline.status_code == 202, hotline.text
    answered = httpx.post(f"{intake}/v1/reports/hotline", headers=centre, json={
        "order_no": "E2E-0002", "address": "莞城街道", "category_code": "01002", "description": "咨询",
        "answer": "已直接答复"})
    assert answered.status_code == 202 and answered.json()["status"] == "closed"

    citizen = stack.auth(sub="wx-e2e", role="citizen")
    gcj = wgs84_to_gcj02(*DEMO_POINT)
    photo = httpx.post(f"{intake}/v1/reports/citizen", headers=citizen, json={
        "category_code": "01002", "description": "e2e 随手拍", "device_id": "dev-e2e", "lon": gcj[0], "lat": gcj[1],
        "media_ids": [upload(stack, citizen)]})
    assert photo.status_code == 202, photo.text

    worker = stack.auth(sub="gw-e2e", role="grid_worker")
    on_spot = httpx.post(f"{intake}/v1/reports/patrol", headers=worker, json={
        "category_code": "01002", "description": "e2e 自行处置", "lon": DEMO_POINT[0], "lat": DEMO_POINT[1],
        "handled_on_spot": True, "handled_note": "已清理", "media_ids": [upload(stack, worker)]})
    assert on_spot.status_code == 202, on_spot.text

    for resp in (hotline, photo):
        ticket = wait_ticket(stack, resp.json()["report_id"])
        assert ticket["grid_code"] and ticket["state"] == "dispatched", ticket
    handled = wait_ticket(stack, on_spot.json()["report_id"])
    assert handled["state"] == "handled" and handled["department"] is None
    verifier = stack.auth(sub="gw-e2e", role="grid_worker", grid=handled["grid_code"])
    verified = httpx.post(f"{stack.urls.dispatch}/v1/tickets/{handled['id']}/verify", headers=verifier,
                          json={"passed": True})
    assert verified.status_code == 200, verified.text
    resp = httpx.get(f"{stack.urls.dispatch}/v1/tickets", params={"report_id": answered.json()["report_id"]},
                     headers=centre)
    assert resp.json()["items"] == []
