"""Issue #11 on intake: the shared request guard (limits, text policy, strict numbers, outages, headers, /metrics),
on SQLite and on PostgreSQL where the database matters."""

import json
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from gridgov_common.db import make_engine
from gridgov_event_intake.app import create_app
from gridgov_event_intake.settings import IntakeSettings

GRID = "441900001001001"
PATROL = {"category_code": "01002", "description": "路边有暴露垃圾", "lon": 113.75, "lat": 23.02}


@pytest.fixture
def client(common_settings):
    with TestClient(create_app(IntakeSettings(common=common_settings))) as c:
        yield c


@pytest.fixture(params=["sqlite", "postgresql"])
def any_client(request, common_settings):
    """Intake on SQLite, then on a fresh PostgreSQL database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
        yield c


def stored_and_published(client) -> tuple[int, int]:
    """How many reports intake stored and how many it published."""
    from sqlalchemy import text

    runtime = client.app.state.runtime
    runtime.relay.drain()
    with runtime.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM report")).scalar_one()
    published = runtime.bus._conn().execute(
        "SELECT count(*) FROM log WHERE topic='gridgov.reports.received'").fetchone()[0]
    return stored, published


def fields(resp) -> list[str]:
    return [d["field"] for d in resp.json()["error"]["details"]]


@pytest.mark.parametrize(("change", "field"), [
    ({"description": "pipe\u0000burst"}, "description"),
    ({"handled_on_spot": True, "handled_note": "swept\u0000"}, "handled_note"),
    ({"media_ids": ["\u0000"]}, "media_ids.0"),
    ({"category_code": "0100\u00002"}, "category_code"),
])
def test_post_report_with_nul_in_any_string_is_422_naming_it_and_stores_nothing(any_client, token, change, field):
    resp = any_client.post("/v1/reports/patrol", json={**PATROL, **change}, headers=token("grid_worker", grid=GRID))
    assert resp.status_code == 422, resp.text
    assert fields(resp) == [field]
    assert stored_and_published(any_client) == (0, 0)


@pytest.mark.parametrize("char", ["\u0001", "\u001b", "\u007f", "\u0085", "\ud800"])
def test_post_report_with_control_character_is_422_naming_description(client, token, char):
    body = json.dumps({**PATROL, "description": f"pipe{char}burst"}).encode()  # ASCII: \ud800 as an escape
    resp = client.post("/v1/reports/patrol", content=body,
                       headers={**token("grid_worker", grid=GRID), "content-type": "application/json"})
    assert resp.status_code == 422
    assert fields(resp) == ["description"]
    assert stored_and_published(client) == (0, 0)


def test_post_report_with_newline_and_tab_in_description_is_accepted(client, token):
    resp = client.post("/v1/reports/patrol", json={**PATROL, "description": "第一行\n第二行\t完"},
                       headers=token("grid_worker", grid=GRID))
    assert resp.status_code == 202, resp.text


def test_get_with_nul_in_path_or_query_is_4xx_naming_it(any_client, token):
    resp = any_client.get("/v1/reports/%00", headers=token("command_centre"))
    assert resp.status_code == 422 and fields(resp) == ["report_id"]
    resp = any_client.get("/open311/v2/requests/ab%00.json")
    assert resp.status_code == 400 and "request_id" in resp.json()[0]["description"]
    resp = any_client.get("/open311/v2/requests.json", params={"service_request_id": "a\u0000"})
    assert resp.status_code == 400 and "service_request_id" in resp.json()[0]["description"]


def test_open311_xml_query_with_control_character_is_400_as_well_formed_xml_error_array(client):
    resp = client.get("/open311/v2/requests.xml", params={"status": "op\u0001en"})
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(resp.content)
    assert root.tag == "errors" and root.find("error/code").text == "400"
    assert "status" in root.find("error/description").text


def test_open311_post_with_nul_in_form_field_is_400_naming_it(client):
    resp = client.post("/open311/v2/requests.json", data={"api_key": "k", "service_code": "01002",
                                                          "description": "pipe\u0000", "lat": "23", "long": "113"})
    assert resp.status_code == 400
    assert "description" in resp.json()[0]["description"]
    assert stored_and_published(client) == (0, 0)


@pytest.mark.parametrize("raw", [b"true", b'"113.75"', b"NaN", b"1e308"])
def test_post_report_with_non_number_lon_is_422_naming_lon(client, token, raw):
    body = b'{"category_code": "01002", "description": "x", "lat": 23.02, "lon": ' + raw + b"}"
    resp = client.post("/v1/reports/patrol", content=body,
                       headers={**token("grid_worker", grid=GRID), "content-type": "application/json"})
    assert resp.status_code == 422, resp.text
    assert fields(resp) == ["lon"]
    assert stored_and_published(client) == (0, 0)


def test_post_citizen_report_with_bool_lat_is_422_naming_lat(client, token):
    body = {**PATROL, "lat": True, "device_id": "d-1", "media_ids": ["m"]}
    resp = client.post("/v1/reports/citizen", json=body, headers=token("citizen"))
    assert resp.status_code == 422 and "lat" in fields(resp)


def test_oversized_body_is_413_before_authentication_with_length_or_chunked(client):
    big = b"x" * (2 * 1024 * 1024)
    resp = client.post("/v1/reports/patrol", content=big, headers={"content-type": "application/json"})
    assert resp.status_code == 413  # not 401: refused before anything reads the body
    assert resp.json()["error"]["details"] == [{"field": "body", "reason": "larger than 1048576 bytes"}]

    def chunks():
        for _ in range(64):
            yield b"x" * 65536

    resp = client.post("/v1/reports/patrol", content=chunks(), headers={"content-type": "application/json"})
    assert resp.status_code == 413


def test_oversized_open311_post_is_413_as_error_array(client):
    resp = client.post("/open311/v2/requests.xml", content=b"a=" + b"x" * (2 * 1024 * 1024),
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 413
    assert ET.fromstring(resp.content).find("error/code").text == "413"


def test_media_upload_has_its_own_limit_above_the_json_default(client, token):
    settings = client.app.state.runtime.settings
    photo_sized = b"\x00" * (2 * 1024 * 1024)  # over the JSON default, under the media limit
    resp = client.post("/v1/media", content=photo_sized, headers={**token("citizen"), "content-type": "image/png"})
    assert resp.status_code == 415, resp.text  # reached intake's content check: not a PNG
    resp = client.post("/v1/media", content=b"\x00" * (settings.media_max_bytes + 128 * 1024),
                       headers={**token("citizen"), "content-type": "image/png"})
    assert resp.status_code == 413


def test_security_headers_on_every_answer(client, token):
    answers = [client.get("/healthz"), client.get("/v1/reports/nope"),
               client.get("/v1/reports/nope", headers=token("command_centre")),
               client.get("/open311/v2/services.xml"),
               client.post("/v1/reports/patrol", content=b"x" * (2 << 20), headers={"content-type": "text/plain"})]
    assert [a.status_code for a in answers] == [200, 401, 404, 200, 413]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    assert "unsafe-inline" not in docs.headers["content-security-policy"]


def test_metrics_without_token_setting_serve_loopback_only(client):
    resp = client.get("/metrics")  # the test client's address is "testclient", not loopback
    assert resp.status_code == 403 and fields(resp) == ["client"]
    loopback = TestClient(client.app, client=("127.0.0.1", 50000))
    assert "gridgov_http_request_seconds" in loopback.get("/metrics").text


def test_metrics_with_token_setting_need_the_bearer_token(common_settings):
    common = common_settings.model_copy(update={"metrics_token": SecretStr("scrape-me-please")})
    with TestClient(create_app(IntakeSettings(common=common)), client=("10.1.2.3", 5000)) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        resp = c.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert resp.status_code == 200 and "gridgov_http_request_seconds" in resp.text
    assert "metrics" not in c.app.openapi()["paths"]


def test_database_outage_is_503_with_retry_after_in_error_format(any_client, token, tmp_path):
    db = any_client.app.state.runtime.db
    healthy = db.engine
    down = ("postgresql+psycopg://gridgov:gridgov@127.0.0.1:1/gone" if healthy.dialect.name == "postgresql"
            else f"sqlite:///{tmp_path}/no-such-dir/gone.db")
    db.engine = make_engine(down)
    try:
        resp = any_client.get("/v1/reports/r-1", headers=token("command_centre"))
        assert resp.status_code == 503, resp.text
        assert resp.headers["retry-after"] == "5"
        assert resp.json()["error"]["code"] == "unavailable"
        resp = any_client.get("/open311/v2/requests/r-1.json")
        assert resp.status_code == 503 and resp.json()[0]["code"] == 503
    finally:
        db.engine.dispose()
        db.engine = healthy
