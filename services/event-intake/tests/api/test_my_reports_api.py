"""The reporter's own reports (issue #14): ``GET /v1/reports?mine=true``, newest first, with public progress and
the public reply, never another's; on SQLite and on PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gridgov_common.bus.envelope import new_envelope
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.geo import wgs84_to_gcj02
from gridgov_event_intake.app import create_app
from gridgov_event_intake.media.samples import jpeg
from gridgov_event_intake.reports.handlers import follow_ticket
from gridgov_event_intake.settings import IntakeSettings

GRID = "441900001001001"
POINT = wgs84_to_gcj02(113.7518, 23.0205)
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def client(request, common_settings):
    """Intake on SQLite, then on a fresh PostgreSQL database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
        yield c


def citizen_report(client, headers, description: str) -> str:
    media = client.post("/v1/media", content=jpeg(), headers={**headers, "Content-Type": "image/jpeg"})
    assert media.status_code == 201, media.text
    resp = client.post("/v1/reports/citizen", headers=headers, json={
        "category_code": "01002", "description": description, "device_id": f"dev-{uuid.uuid4().hex[:8]}",
        "lon": POINT[0], "lat": POINT[1], "media_ids": [media.json()["media_id"]]})
    assert resp.status_code == 202, resp.text
    return resp.json()["report_id"]


def ticket_event(client, report_id: str, action: str, to_state: str, note: str | None = None) -> None:
    """Record a ticket event as intake's ticket-status consumer does."""
    now = datetime.now(UTC)
    event = TicketEvent(ticket_id=f"T-{report_id[:8]}", report_id=report_id, action=action, from_state=None,
                        to_state=to_state, category_code="01002", department="urban-management", grid_code=GRID,
                        village_code=None, town_code=None, reporter_id="x", deadline=now + timedelta(days=1),
                        actor_id="someone", actor_role="system", note=note, occurred_at=now)
    envelope = new_envelope(type=f"ticket.{action}", producer="dispatch", key=event.ticket_id, payload=event,
                            correlation_id=report_id)
    runtime = client.app.state.runtime
    with runtime.db.session() as session:
        follow_ticket(runtime.settings, session, envelope)
        session.commit()


def mine(client, headers, **params):
    resp = client.get("/v1/reports", params={"mine": "true", **params}, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_list_my_reports_newest_first_with_public_progress_and_reply(client, token):
    me = token("citizen", sub="c-me")
    first = citizen_report(client, me, "第一次上报")
    second = citizen_report(client, me, "第二次上报")
    ticket_event(client, first, "register", "registered")
    ticket_event(client, first, "dispatch", "dispatched")
    ticket_event(client, first, "return", "returned", note="不属于本部门职责")  # a desk note: never shown
    ticket_event(client, first, "dispatch", "dispatched")
    ticket_event(client, first, "close", "closed", note="垃圾已清运完毕")
    page = mine(client, me)
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [second, first]
    closed = page["items"][1]
    assert closed["status"] == "closed" and closed["public_status"] == "已办结"
    assert closed["reply"] == "垃圾已清运完毕" and closed["media_ids"]
    assert [s["label"] for s in closed["progress"]] == ["已提交", "已受理", "已派遣", "处理中", "已派遣", "已办结"]
    assert "不属于本部门职责" not in str(page)
    fresh = page["items"][0]
    assert fresh["public_status"] == "已受理" and fresh["reply"] is None
    assert [s["label"] for s in fresh["progress"]] == ["已提交"]


def test_list_my_reports_never_shows_anothers(client, token):
    citizen_report(client, token("citizen", sub="c-other"), "别人的上报")
    assert mine(client, token("citizen", sub="c-me")) == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_list_my_reports_as_grid_worker_shows_own_patrol_reports(client, token):
    worker = token("grid_worker", sub="gw-1", grid=GRID)
    resp = client.post("/v1/reports/patrol", headers=worker, json={
        "category_code": "01002", "description": "巡查发现垃圾", "lon": 113.7518, "lat": 23.0205})
    assert resp.status_code == 202, resp.text
    other = token("grid_worker", sub="gw-2", grid=GRID)
    assert [i["id"] for i in mine(client, worker)["items"]] == [resp.json()["report_id"]]
    assert mine(client, other)["total"] == 0


def test_list_my_reports_pages_with_limit_and_offset(client, token):
    me = token("citizen", sub="c-pager")
    ids = [citizen_report(client, me, f"上报 {n}") for n in range(3)]
    page = mine(client, me, limit=2, offset=1)
    assert page["total"] == 3 and [i["id"] for i in page["items"]] == [ids[1], ids[0]]


@pytest.mark.parametrize(("params", "field"), [({"mine": "false"}, "mine"), ({}, "mine"),
                                               ({"mine": "true", "limit": 0}, "limit"),
                                               ({"mine": "true", "limit": 101}, "limit"),
                                               ({"mine": "true", "offset": -1}, "offset")])
def test_list_reports_with_bad_query_is_422_naming_the_field(client, token, params, field):
    resp = client.get("/v1/reports", params=params, headers={**token("citizen", sub="c-me"), **ZH})
    assert resp.status_code == 422, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


def test_list_my_reports_needs_a_reporter_login(client, token):
    assert client.get("/v1/reports", params={"mine": "true"}).status_code == 401
    assert client.get("/v1/reports", params={"mine": "true"},
                      headers=token("dept_dispatcher", department="water")).status_code == 403
