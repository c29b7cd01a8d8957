"""Open311 GeoReport v2: JSON and XML round trips, filters, errors as the specification's error array."""

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from gridgov_cli.main import main as gridgov
from gridgov_common.bus.envelope import new_envelope
from gridgov_common.events.tickets import TicketEvent
from gridgov_event_intake.app import create_app
from gridgov_event_intake.reports import handlers
from gridgov_event_intake.settings import IntakeSettings

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
    assert {"service_code": "04002", "service_name": "Burst water main"}.items() <= services[7].items()
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
    assert (got["status"], got["status_notes"], got["service_code"]) == ("open", "received", "04002")
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
        handlers.follow_ticket(session, envelope)
        handlers.follow_ticket(session, envelope)  # a redelivery adds no second update
        session.commit()
    [got] = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert (got["status"], got["status_notes"], got["agency_responsible"]) == ("open", "dispatched", "water")
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
