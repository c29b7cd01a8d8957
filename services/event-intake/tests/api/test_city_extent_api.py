"""A location outside the city is refused at intake (issue #14): 422 naming lon and lat ("不在本市范围内" in
Chinese) on the patrol, citizen and hotline channels, after GCJ-02 conversion; Open311 answers its own error
array naming long and lat. Nothing stored, nothing published; on SQLite and on PostgreSQL. A point inside the
city's extent that no grid holds is still taken (it becomes a ticket for triage)."""


import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from gridgov_common.geo import wgs84_to_gcj02
from gridgov_event_intake.app import create_app
from gridgov_event_intake.media.samples import jpeg
from gridgov_event_intake.open311.handlers import create_client
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.settings import IntakeSettings

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
BEIJING = (116.39, 39.9)
OUTSIDE_EVERY_GRID = (113.51, 22.66)  # in the city's extent, ~18 km from every town of the demo city
PATROL = {"category_code": "01002", "description": "路边有暴露垃圾"}


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request, common_settings):
    """Intake on SQLite, then on a fresh PostgreSQL database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
        yield c


def stored_and_published(client) -> tuple[int, int]:
    runtime = client.app.state.runtime
    runtime.relay.drain()
    with runtime.db.session() as session:
        stored = session.exec(select(func.count()).select_from(Report)).one()
    published = runtime.bus._conn().execute(
        "SELECT count(*) FROM log WHERE topic='gridgov.reports.received'").fetchone()[0]
    return stored, published


def assert_outside_city(resp, fields=("lon", "lat"), chinese=False) -> None:
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert [d["field"] for d in error["details"]] == list(fields)
    if chinese:
        assert error["message"] == "位置不在本市范围内"
        assert all("不在本市范围内" in d["reason"] for d in error["details"])
    else:
        assert all("outside the city" in d["reason"] for d in error["details"])


def test_patrol_report_in_beijing_is_refused_naming_lon_and_lat_in_chinese(client, token):
    body = {**PATROL, "lon": BEIJING[0], "lat": BEIJING[1]}
    worker = token("grid_worker", sub="gw-1")
    assert_outside_city(client.post("/v1/reports/patrol", json=body, headers={**worker, **ZH}), chinese=True)
    assert_outside_city(client.post("/v1/reports/patrol", json=body, headers=worker))
    assert stored_and_published(client) == (0, 0)


def test_patrol_report_with_swapped_coordinates_is_refused(client, token):
    body = {**PATROL, "lon": 23.02, "lat": 113.75 - 90}  # lat/lon swapped by a client (and clipped to ±90)
    assert_outside_city(client.post("/v1/reports/patrol", json=body, headers=token("grid_worker")))
    assert stored_and_published(client) == (0, 0)


def test_citizen_report_outside_city_after_gcj02_conversion_is_refused(client, token):
    citizen = token("citizen", sub="wx-1")
    media = client.post("/v1/media", content=jpeg(), headers={**citizen, "Content-Type": "image/jpeg"})
    lon, lat = wgs84_to_gcj02(*BEIJING)
    body = {**PATROL, "device_id": "dev-1", "lon": lon, "lat": lat, "media_ids": [media.json()["media_id"]]}
    assert_outside_city(client.post("/v1/reports/citizen", json=body, headers={**citizen, **ZH}), chinese=True)
    assert stored_and_published(client) == (0, 0)


def test_hotline_report_with_coordinates_outside_city_is_refused_and_without_them_taken(client, token):
    centre = token("command_centre")
    order = {**PATROL, "order_no": "GD-1", "address": "北京市东城区"}
    lon, lat = wgs84_to_gcj02(*BEIJING)
    assert_outside_city(client.post("/v1/reports/hotline", json={**order, "lon": lon, "lat": lat, "crs": "gcj02"},
                                    headers=centre))
    assert stored_and_published(client) == (0, 0)
    assert client.post("/v1/reports/hotline", json=order, headers=centre).status_code == 202  # address only
    assert stored_and_published(client) == (1, 1)


def test_patrol_report_inside_city_but_outside_every_grid_is_taken(client, token):
    body = {**PATROL, "lon": OUTSIDE_EVERY_GRID[0], "lat": OUTSIDE_EVERY_GRID[1]}
    assert client.post("/v1/reports/patrol", json=body, headers=token("grid_worker")).status_code == 202
    assert stored_and_published(client) == (1, 1)


def test_open311_request_outside_city_is_error_array_naming_long_and_lat(client):
    key = create_client(client.app.state.runtime.db, "fixmystreet")
    form = {"api_key": key, "service_code": "04002", "description": "Burst water main", "lat": "39.9",
            "long": "116.39"}
    resp = client.post("/open311/v2/requests.json", data=form)
    assert resp.status_code == 400
    [error] = resp.json()
    assert error["code"] == 400 and "long" in error["description"] and "lat" in error["description"]
    assert "outside the city" in error["description"]
    assert stored_and_published(client) == (0, 0)


def test_city_extent_setting_moves_the_border(common_settings, token):
    settings = IntakeSettings(common=common_settings, city_extent=(116.0, 39.5, 117.0, 40.5))  # another city
    with TestClient(create_app(settings)) as c:
        worker = token("grid_worker")
        inside = c.post("/v1/reports/patrol", json={**PATROL, "lon": BEIJING[0], "lat": BEIJING[1]}, headers=worker)
        outside = c.post("/v1/reports/patrol", json={**PATROL, "lon": 113.75, "lat": 23.02}, headers=worker)
    assert inside.status_code == 202
    assert_outside_city(outside)
