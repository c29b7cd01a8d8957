"""Privacy of reports by role (issue #11): a department scope on reports as on tickets, kept current from the
ticket's events; photos readable only by whoever may read their report; the caller's name and phone masked."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from gridgov_common.bus.envelope import new_envelope
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_event_intake.app import create_app
from gridgov_event_intake.consumers import TICKET_STATUS
from gridgov_event_intake.media.samples import jpeg
from gridgov_event_intake.settings import IntakeSettings

GRID, OTHER_GRID = "441900001001001", "441900001001002"
HOTLINE = {"order_no": "GD20261201-0042", "caller_name": "张三", "caller_phone": "13812341234",
           "address": "东城街道东城路 1 号", "category_code": "04002", "description": "自来水管破裂"}
PATROL = {"category_code": "01002", "description": "路边有暴露垃圾", "lon": 113.75, "lat": 23.02}


@pytest.fixture
def client(common_settings):
    with TestClient(create_app(IntakeSettings(common=common_settings))) as c:
        yield c


def follow(client, report_id: str, action: str, to_state: str, department: str | None, grid: str | None = GRID):
    """Deliver one ticket event to intake's ticket-events consumer, as the bus runner does."""
    event = TicketEvent(ticket_id="t-1", report_id=report_id, action=action, from_state=None, to_state=to_state,
                        category_code="04002", department=department, grid_code=grid, village_code=None,
                        town_code=None, reporter_id="x", deadline=None, actor_id="a", actor_role="system",
                        occurred_at=datetime.now(UTC))
    [spec] = [c for c in client.app.state.runtime.consumers if c.group == TICKET_STATUS.group]
    spec.handler([new_envelope(type=ticket_event_type(action), producer="dispatch", key="t-1", payload=event,
                               correlation_id=report_id)])


def patrol_with_photo(client, token) -> tuple[str, str]:
    """A grid worker's patrol report with one photo, dispatched to the water department; (report, media) ids."""
    worker = token("grid_worker", sub="gw-1", grid=GRID)
    media_id = client.post("/v1/media", content=jpeg(), headers={**worker, "Content-Type": "image/jpeg"}).json()[
        "media_id"]
    resp = client.post("/v1/reports/patrol", json={**PATROL, "media_ids": [media_id]}, headers=worker)
    assert resp.status_code == 202, resp.text
    report_id = resp.json()["report_id"]
    follow(client, report_id, "dispatch", "dispatched", "water")
    return report_id, media_id


def test_get_report_of_another_department_is_404_with_its_photo(client, token):
    report_id, media_id = patrol_with_photo(client, token)
    other = token("dept_dispatcher", sub="d-housing", department="housing")
    resp = client.get(f"/v1/reports/{report_id}", headers=other)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    missing = client.get("/v1/reports/no-such-report", headers=other)
    assert missing.json()["error"]["message"].replace("no-such-report", report_id) == resp.json()["error"]["message"]
    assert client.get(f"/v1/media/{media_id}", headers=other).status_code == 404


def test_get_report_of_own_department_gives_it_and_its_photo(client, token):
    report_id, media_id = patrol_with_photo(client, token)
    water = token("dept_dispatcher", sub="d-water", department="water")
    resp = client.get(f"/v1/reports/{report_id}", headers=water)
    assert resp.status_code == 200 and resp.json()["media_ids"] == [media_id]
    photo = client.get(f"/v1/media/{media_id}", headers=water)
    assert photo.status_code == 200 and photo.content == jpeg(with_exif=False)
    assert photo.headers["x-content-type-options"] == "nosniff"


def test_get_report_follows_redispatch_to_new_department(client, token):
    report_id, _ = patrol_with_photo(client, token)
    follow(client, report_id, "rule_return", "dispatched", "housing")  # 退单裁定: re-dispatched to housing
    assert client.get(f"/v1/reports/{report_id}",
                      headers=token("dept_dispatcher", department="water")).status_code == 404
    assert client.get(f"/v1/reports/{report_id}",
                      headers=token("dept_dispatcher", department="housing")).status_code == 200


def test_get_report_by_grid_worker_only_in_their_grid(client, token):
    report_id, media_id = patrol_with_photo(client, token)
    colleague = token("grid_worker", sub="gw-2", grid=GRID)
    stranger = token("grid_worker", sub="gw-3", grid=OTHER_GRID)
    assert client.get(f"/v1/reports/{report_id}", headers=colleague).status_code == 200
    assert client.get(f"/v1/media/{media_id}", headers=colleague).status_code == 200
    assert client.get(f"/v1/reports/{report_id}", headers=stranger).status_code == 404
    assert client.get(f"/v1/media/{media_id}", headers=stranger).status_code == 404


def test_get_media_of_another_citizen_is_404_before_and_after_its_report(client, token):
    owner, other = token("citizen", sub="wx-owner"), token("citizen", sub="wx-other")
    media_id = client.post("/v1/media", content=jpeg(), headers={**owner, "Content-Type": "image/jpeg"}).json()[
        "media_id"]
    assert client.get(f"/v1/media/{media_id}", headers=other).status_code == 404
    assert client.get(f"/v1/media/{media_id}", headers=token("command_centre")).status_code == 404  # no report yet
    assert client.get(f"/v1/media/{media_id}", headers=owner).status_code == 200
    body = {"category_code": "01002", "description": "垃圾", "device_id": "d-1", "lon": 113.75, "lat": 23.02,
            "media_ids": [media_id]}
    assert client.post("/v1/reports/citizen", json=body, headers=owner).status_code == 202
    assert client.get(f"/v1/media/{media_id}", headers=other).status_code == 404
    assert client.get(f"/v1/media/{media_id}", headers=owner).status_code == 200
    assert client.get(f"/v1/media/{media_id}", headers=token("command_centre")).status_code == 200


def test_get_hotline_report_masks_caller_name_and_phone_for_grid_worker(client, token):
    rid = client.post("/v1/reports/hotline", json=HOTLINE, headers=token("command_centre")).json()["report_id"]
    follow(client, rid, "dispatch", "dispatched", "water")
    resp = client.get(f"/v1/reports/{rid}", headers=token("grid_worker", grid=GRID))
    assert resp.status_code == 200
    assert (resp.json()["reporter_name"], resp.json()["reporter_phone"]) == ("张*", "138****1234")
    full = client.get(f"/v1/reports/{rid}", headers=token("command_centre")).json()
    assert (full["reporter_name"], full["reporter_phone"]) == ("张三", "13812341234")
