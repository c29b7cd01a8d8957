"""Open311 GeoReport v2: JSON and XML round trips, filters, errors as the specification's error array."""

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from gridgov_cli.main import main as gridgov
from gridgov_common.bus.envelope import new_envelope
from gridgov_common.categories import seed_book
from gridgov_common.events.tickets import TicketEvent
from gridgov_event_intake.app import create_app
from gridgov_event_intake.reports import handlers
from gridgov_event_intake.settings import IntakeSettings

SETTINGS = IntakeSettings()  # follow_ticket reads only the reward points: the defaults

FORM = {"service_code": "04002", "lat": "23.02", "long": "113.75", "description": "Burst water main",
        "first_name": "Li", "last_name": "Lei", "phone": "13812341234", "device_id": "ios-1"}


@pytest.fixture
def client(common_settings):
    with TestClient(create_app(IntakeSettings(common=common_settings))) as c:
        yield c


@pytest.fixture
def api_key(client, common_settings, capsys, monkeypatch):
    assert gridgov(["--data-dir", str(common_settings.data_dir), "apikey", "create", "fixmystreet"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("g311_")
    return key


def published_count(client) -> int:
    client.app.state.runtime.relay.drain()
    return client.app.state.runtime.bus._conn().execute(
        "SELECT count(*) FROM log WHERE topic='gridgov.reports.received'").fetchone()[0]


def test_get_services_lists_categories_in_json_and_xml(client):
    services = client.get("/open311/v2/services.json").json()
    [water] = [s for s in services if s["service_code"] == "04002"]
    assert water["service_name"] == "Burst water main"
    assert len(services) == len(seed_book())  # before dispatch publishes anything: the packaged first version
    root = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    assert root.find("service/service_code").text == services[0]["service_code"]


def test_get_service_definition_unknown_code_is_404_error_array(client):
    assert client.get("/open311/v2/services/04002.json").json() == {"service_code": "04002", "attributes": []}
    resp = client.get("/open311/v2/services/99999.json")
    assert resp.status_code == 404
    assert resp.json()[0]["code"] == 404 and "99999" in resp.json()[0]["description"]
    xml = ET.fromstring(client.get("/open311/v2/services/99999.xml").content)
    assert xml.tag == "errors" and xml.find("error/code").text == "404"


def test_post_request_json_round_trip_without_personal_data(client, api_key):
    resp = client.post("/open311/v2/requests.json", data={**FORM, "api_key": api_key})
    assert resp.status_code == 201, resp.text
    request_id = resp.json()[0]["service_request_id"]
    [got] = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert (got["status"], got["status_notes"], got["service_code"]) == ("open", "已受理", "04002")
    assert (got["lat"], got["long"]) == (23.02, 113.75)
    assert "13812341234" not in str(got) and "Lei" not in str(got)
    assert client.get(f"/open311/v2/tokens/{request_id}.json").json()[0]["service_request_id"] == request_id
    assert published_count(client) == 1


def test_post_request_xml_round_trip(client, api_key):
    resp = client.post("/open311/v2/requests.xml", data={**FORM, "api_key": api_key})
    assert resp.status_code == 201 and resp.headers["content-type"].startswith("application/xml")
    request_id = ET.fromstring(resp.content).find("request/service_request_id").text
    got = ET.fromstring(client.get(f"/open311/v2/requests/{request_id}.xml").content)
    assert got.tag == "service_requests"
    assert got.find("request/service_request_id").text == request_id
    assert got.find("request/status").text == "open"


@pytest.mark.parametrize(("change", "status", "word"), [
    ({"api_key": "wrong"}, 403, "api_key"),
    ({"api_key": None}, 403, "api_key"),
    ({"service_code": "99999"}, 400, "service_code"),
    ({"lat": None, "long": None}, 400, "lat"),
    ({"lat": "north"}, 400, "lat"),
    ({"long": "200"}, 400, "long"),
    ({"description": "x" * 2001}, 400, "description"),
])
def test_post_request_bad_form_is_error_array_and_nothing_stored(client, api_key, change, status, word):
    form = {**FORM, "api_key": api_key, **change}
    resp = client.post("/open311/v2/requests.json", data={k: v for k, v in form.items() if v is not None})
    assert resp.status_code == status
    [error] = resp.json()
    assert error["code"] == status and word in error["description"]
    assert client.get("/open311/v2/requests.json").json() == []
    assert published_count(client) == 0


def test_post_request_retry_with_idempotency_key_returns_original(client, api_key):
    headers = {"Idempotency-Key": "abc"}
    first = client.post("/open311/v2/requests.json", data={**FORM, "api_key": api_key}, headers=headers)
    again = client.post("/open311/v2/requests.json", data={**FORM, "api_key": api_key}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert published_count(client) == 1


def test_get_requests_filters_by_code_status_ids_and_dates(client, api_key):
    ids = [client.post("/open311/v2/requests.json", data={**FORM, "api_key": api_key, "service_code": code})
           .json()[0]["service_request_id"] for code in ("04002", "01002")]
    assert {r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()} == set(ids)
    by_code = client.get("/open311/v2/requests.json", params={"service_code": "01002"}).json()
    assert [r["service_request_id"] for r in by_code] == [ids[1]]
    by_id = client.get("/open311/v2/requests.json", params={"service_request_id": f"{ids[0]},nope"}).json()
    assert [r["service_request_id"] for r in by_id] == [ids[0]]
    assert client.get("/open311/v2/requests.json", params={"status": "closed"}).json() == []
    old = client.get("/open311/v2/requests.json", params={"end_date": "2020-01-01T00:00:00Z"}).json()
    assert old == []
    bad = client.get("/open311/v2/requests.json", params={"start_date": "yesterday"})
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400


def test_get_request_follows_ticket_department_deadline_and_updates(client, api_key):
    request_id = client.post("/open311/v2/requests.json", data={**FORM, "api_key": api_key}).json()[0][
        "service_request_id"]
    event = TicketEvent(ticket_id="t-1", report_id=request_id, action="dispatch", from_state="registered",
                        to_state="dispatched", category_code="04002", department="water", grid_code=None,
                        village_code=None, town_code=None, reporter_id="x", deadline="2026-12-01T10:00:00Z",
                        actor_id="dispatch", actor_role="system", occurred_at="2026-11-25T10:00:00Z")
    envelope = new_envelope(type="ticket.dispatched", producer="dispatch", key="t-1", payload=event,
                            correlation_id=request_id)
    with client.app.state.runtime.db.session() as session:
        handlers.follow_ticket(SETTINGS, session, envelope)
        handlers.follow_ticket(SETTINGS, session, envelope)  # a redelivery: no second update
        session.commit()
    [got] = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert (got["status"], got["status_notes"], got["agency_responsible"]) == ("open", "处理中", "water")
    assert got["expected_datetime"].startswith("2026-12-01T10:00:00")
    updates = client.get("/open311/v2/servicerequestupdates.json",
                         params={"start_date": "2026-11-01T00:00:00Z"}).json()
    assert [(u["service_request_id"], u["status"], u["update_id"]) for u in updates] == [
        (request_id, "open", str(envelope.id))]
    xml = ET.fromstring(client.get("/open311/v2/servicerequestupdates.xml",
                                   params={"start_date": "2026-11-01T00:00:00Z"}).content)
    assert xml.find("request_update/service_request_id").text == request_id


def test_get_request_missing_is_404_error_array(client):
    resp = client.get("/open311/v2/requests/nope.json")
    assert resp.status_code == 404 and resp.json()[0]["code"] == 404
    assert client.get("/open311/v2/tokens/nope.xml").status_code == 404


def test_apikey_create_twice_fails_and_stores_only_hash(client, api_key, common_settings):
    assert gridgov(["--data-dir", str(common_settings.data_dir), "apikey", "create", "fixmystreet"]) == 1
    from gridgov_event_intake.open311.models import ApiClient
    with client.app.state.runtime.db.session() as session:
        [row] = session.exec(__import__("sqlmodel").select(ApiClient)).all()
    assert row.key_hash != api_key and api_key not in row.key_hash


def test_get_unknown_open311_path_is_404_error_array(client):
    resp = client.get("/open311/v2/discovery.json")
    assert resp.status_code == 404 and resp.json()[0]["code"] == 404
    assert client.get("/open311/v2/services.json").status_code == 200  # the catch-all shadows nothing


# --- The public view (issue #11): what a city publishes, and nothing that breaks a client -------------------

EXACT = (113.75237, 23.02046)  # WGS84 lon, lat of a citizen's report: mid-cell on the 0.001° grid
MARKER = "INTERNAL-MARKER-7f3a"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_client(request, common_settings):
    """Intake on SQLite, then on a fresh PostgreSQL database: what is refused must be refused on both."""
    if request.param == "sqlite":
        with TestClient(create_app(IntakeSettings(common=common_settings))) as c:
            yield c
        return
    import uuid

    import psycopg
    from sqlalchemy import make_url

    from conftest import require_infra

    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL")
    name = f"gg_intake_o311_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    url = make_url(admin).set(drivername="postgresql+psycopg", username="gridgov", password="gridgov",
                              database=name).render_as_string(hide_password=False)
    try:
        with TestClient(create_app(IntakeSettings(common=common_settings, database_url=url))) as c:
            yield c
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two lon/lat points (equirectangular: exact enough over a few hundred metres)."""
    import math

    mean_lat = math.radians((a[1] + b[1]) / 2)
    dx = math.radians(a[0] - b[0]) * math.cos(mean_lat) * 6_371_000
    dy = math.radians(a[1] - b[1]) * 6_371_000
    return math.hypot(dx, dy)


def citizen_photo_report(client, token) -> str:
    """A citizen's photo report (随手拍) through the citizen API: GCJ-02 point, phone, device, account."""
    from gridgov_common.geo import wgs84_to_gcj02
    from gridgov_event_intake.media.samples import jpeg

    headers = token("citizen", sub="wx-openid-secret")
    upload = client.post("/v1/media", content=jpeg(), headers={**headers, "Content-Type": "image/jpeg"})
    assert upload.status_code == 201, upload.text
    lon, lat = wgs84_to_gcj02(*EXACT)
    resp = client.post("/v1/reports/citizen", headers=headers, json={
        "category_code": "01002", "description": "小区门口垃圾成堆", "device_id": "dev-secret-1",
        "phone": "13912345678", "lon": lon, "lat": lat, "media_ids": [upload.json()["media_id"]]})
    assert resp.status_code == 202, resp.text
    return resp.json()["report_id"]


def store_report(client, **fields) -> str:
    """A report written straight into intake's table, as the database may already hold it."""
    import uuid
    from datetime import UTC, datetime

    from gridgov_event_intake.reports.models import Report

    now = datetime.now(UTC)
    row = {"id": str(uuid.uuid4()), "channel": "patrol", "category_code": "01002", "description": "garbage",
           "lon": 113.75, "lat": 23.02, "reporter_id": "gw-1", "reporter_role": "grid_worker",
           "submitted_at": now, "updated_at": now, **fields}
    with client.app.state.runtime.db.session() as session:
        session.add(Report(**row))
        session.commit()
    return row["id"]


def test_get_citizen_photo_report_anonymously_shows_coarse_point_no_photo_no_reporter(client, token):
    report_id = citizen_photo_report(client, token)
    with client.app.state.runtime.db.session() as session:
        from gridgov_event_intake.reports.models import Report

        stored = session.get(Report, report_id)
    assert metres((stored.lon, stored.lat), EXACT) < 1  # intake keeps the exact point for the city's staff
    [got] = client.get(f"/open311/v2/requests/{report_id}.json").json()
    shown = (got["long"], got["lat"])
    assert 30 <= metres(shown, EXACT) <= 100, shown  # moved off the doorstep, still in the same block
    assert (round(shown[0] * 1000, 6), round(shown[1] * 1000, 6)) == (113752.0, 23020.0)  # on the 0.001° grid
    assert got["media_url"] is None
    assert got["address"] is None
    text = str(got)
    for secret in ("13912345678", "dev-secret-1", "wx-openid-secret", "citizen"):
        assert secret not in text
    listed = client.get("/open311/v2/requests.json").json()
    assert [(r["long"], r["lat"], r["media_url"]) for r in listed] == [(shown[0], shown[1], None)]
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{report_id}.xml").content)
    assert xml.find("request/media_url").text is None and float(xml.find("request/lat").text) == shown[1]


def test_get_media_of_citizen_report_is_404_unless_photos_are_public(client, token):
    report_id = citizen_photo_report(client, token)
    with client.app.state.runtime.db.session() as session:
        from sqlmodel import select

        from gridgov_event_intake.media.models import Media

        media_id = session.exec(select(Media.id).where(Media.report_id == report_id)).one()
    assert client.get(f"/open311/v2/media/{media_id}").status_code == 404
    client.app.state.runtime.settings.open311_public_media = True  # the city approves photos for publication
    [got] = client.get(f"/open311/v2/requests/{report_id}.json").json()
    assert got["media_url"].endswith(f"/open311/v2/media/{media_id}")
    photo = client.get(got["media_url"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"


def test_get_requests_lists_no_hotline_report_unless_the_city_lists_the_channel(client):
    hotline_id = store_report(client, channel="hotline", reporter_name="张三", reporter_phone="13812341234",
                              address="东城街道东城路 1 号", reporter_role="hotline_operator")
    patrol_id = store_report(client)
    assert [r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()] == [patrol_id]
    assert client.get(f"/open311/v2/requests/{hotline_id}.json").status_code == 404
    assert client.get(f"/open311/v2/tokens/{hotline_id}.json").status_code == 404
    by_id = client.get("/open311/v2/requests.json", params={"service_request_id": hotline_id}).json()
    assert by_id == []
    client.app.state.runtime.settings.open311_public_channels = ["patrol", "hotline"]
    [got] = client.get(f"/open311/v2/requests/{hotline_id}.json").json()
    assert "张三" not in str(got) and "13812341234" not in str(got) and "东城路" not in str(got)


def test_get_request_masks_phone_typed_into_description(client):
    report_id = store_report(client, description="call me on 13812345678 or +86 139 1234 5678")
    [got] = client.get(f"/open311/v2/requests/{report_id}.json").json()
    assert got["description"] == "call me on 138****5678 or +86 139 **** 5678"


def test_get_service_request_updates_publishes_no_internal_note(client, api_key):
    request_id = client.post("/open311/v2/requests.json", data={**FORM, "api_key": api_key}).json()[0][
        "service_request_id"]
    steps = [("dispatch", "registered", "dispatched", f"routing trace {MARKER}: rule 7 matched water"),
             ("return", "dispatched", "returned", f"退单理由 {MARKER}: 非本部门职责"),
             ("rework", "handled", "claimed", f"返工 {MARKER}: photo does not show the fix"),
             ("close", "verified", "closed", f"dispatcher note {MARKER}")]
    with client.app.state.runtime.db.session() as session:
        for minute, (action, before, after, note) in enumerate(steps):
            event = TicketEvent(ticket_id="t-1", report_id=request_id, action=action, from_state=before,
                                to_state=after, category_code="04002", department="water", grid_code=None,
                                village_code=None, town_code=None, reporter_id="x", deadline=None,
                                actor_id="d-1", actor_role="dept_dispatcher", note=note,
                                occurred_at=f"2026-11-25T10:0{minute}:00Z")
            handlers.follow_ticket(SETTINGS, session, new_envelope(
                type=f"ticket.{action}", producer="dispatch", key="t-1", payload=event, correlation_id=request_id))
        session.commit()
    window = {"start_date": "2026-11-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"}
    updates = client.get("/open311/v2/servicerequestupdates.json", params=window)
    assert [(u["status"], u["description"]) for u in updates.json()] == [
        ("open", "处理中"), ("open", "处理中"), ("open", "处理中"), ("closed", "已办结")]
    answers = [updates.text, client.get("/open311/v2/servicerequestupdates.xml", params=window).text,
               client.get(f"/open311/v2/requests/{request_id}.json").text,
               client.get(f"/open311/v2/requests/{request_id}.xml").text]
    for answer in answers:
        assert MARKER not in answer and "退单" not in answer and "routing" not in answer


def test_get_service_request_updates_of_hotline_report_are_not_listed(client):
    hotline_id = store_report(client, channel="hotline")
    event = TicketEvent(ticket_id="t-9", report_id=hotline_id, action="dispatch", from_state="registered",
                        to_state="dispatched", category_code="01002", department="city", grid_code=None,
                        village_code=None, town_code=None, reporter_id="x", deadline=None, actor_id="dispatch",
                        actor_role="system", occurred_at="2026-11-25T10:00:00Z")
    with client.app.state.runtime.db.session() as session:
        handlers.follow_ticket(SETTINGS, session, new_envelope(
            type="ticket.dispatched", producer="dispatch", key="t-9", payload=event, correlation_id=hotline_id))
        session.commit()
    assert client.get("/open311/v2/servicerequestupdates.json",
                      params={"start_date": "2026-11-01T00:00:00Z"}).json() == []


def test_get_requests_xml_is_well_formed_with_control_characters_stored(client):
    from xml.dom import minidom

    report_id = store_report(client, description="pipe\u0001 burst\u0000\u000b\u001f here\tnow\uffff",
                             address="x\u0002")
    for path in ("/open311/v2/requests.xml", f"/open311/v2/requests/{report_id}.xml"):
        resp = client.get(path)
        assert resp.status_code == 200
        root = ET.fromstring(resp.content)  # expat: refuses any character XML 1.0 forbids
        minidom.parseString(resp.content)  # and a second strict parser agrees
        assert root.find("request/description").text == "pipe burst here\tnow"
    json_answer = client.get(f"/open311/v2/requests/{report_id}.json").json()
    assert json_answer[0]["description"].startswith("pipe\u0001")  # JSON escapes it; nothing to drop there


def test_render_error_xml_with_control_character_is_well_formed():
    from gridgov_event_intake.open311 import render

    # An error echoes what the caller sent; whatever a guard upstream lets through, the document stays XML.
    document = render.to_xml("errors", "error", render.error_records(404, "service_code 99\u000199 not found"))
    assert ET.fromstring(document).find("error/description").text == "service_code 9999 not found"
    definition = render.definition_xml({"service_code": "a\u0008b", "attributes": [{"code": "\u0000x"}]})
    assert ET.fromstring(definition).find("attributes/attribute/code").text == "x"


@pytest.mark.parametrize("path", ["requests", "servicerequestupdates"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("param", "value"), [
    ("end_date", "0001-01-01"),
    ("end_date", "9999-12-31T23:59:59-12:00"),
    ("start_date", "9999-12-31T23:59:59-12:00"),
    ("start_date", "0001-01-01T00:00:00+14:00"),
    ("start_date", "2026-13-01"),
])
def test_get_with_date_out_of_range_or_malformed_is_400_naming_it(any_client, path, fmt, param, value):
    resp = any_client.get(f"/open311/v2/{path}.{fmt}", params={param: value})
    assert resp.status_code == 400, resp.text
    if fmt == "json":
        [error] = resp.json()
        code, description = error["code"], error["description"]
    else:
        root = ET.fromstring(resp.content)
        code, description = int(root.find("error/code").text), root.find("error/description").text
    assert code == 400 and param in description


@pytest.mark.parametrize("path", ["requests", "servicerequestupdates"])
def test_get_with_start_date_after_end_date_is_400_naming_start_date(client, path):
    resp = client.get(f"/open311/v2/{path}.json",
                      params={"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"})
    assert resp.status_code == 400 and "start_date" in resp.json()[0]["description"]


@pytest.mark.parametrize(("query", "name"), [
    ({"service_request_id": "abc\u0000"}, "service_request_id"),
    ({"service_code": "01002,\u0000"}, "service_code"),
    ({"end_date": "2026-01-01\u0000"}, "end_date"),
    ({"service_request_id": "x" * 101}, "service_request_id"),
])
def test_parse_filter_with_nul_or_overlong_id_is_400_naming_it(query, name):
    from datetime import UTC, datetime

    from gridgov_common.errors import ValidationFailed
    from gridgov_event_intake.open311 import handlers as open311

    # Behind the shared request guard, the Open311 queries refuse these themselves: PostgreSQL answers NUL
    # in a text parameter with an error, never with "no rows".
    with pytest.raises(ValidationFailed) as refused:
        open311.parse_filter(query, datetime.now(UTC))
    assert [d.field for d in refused.value.details] == [name]
