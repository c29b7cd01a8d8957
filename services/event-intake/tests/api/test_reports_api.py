import json
import time

import pytest
from fastapi.testclient import TestClient

from gridgov_common.bus.embedded import EmbeddedBus
from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_event_intake.app import create_app
from gridgov_event_intake.settings import IntakeSettings

GOOD = {"category_code": "01002", "description": "路边有暴露垃圾", "lon": 113.75, "lat": 23.02}


@pytest.fixture
def client(common_settings):
    app = create_app(IntakeSettings(common=common_settings))
    with TestClient(app) as c:
        yield c


def published(client) -> list[Envelope]:
    runtime = client.app.state.runtime
    runtime.relay.drain()
    bus: EmbeddedBus = runtime.bus
    conn = bus._conn()
    rows = conn.execute("SELECT value FROM log WHERE topic=? ORDER BY appended_at", (REPORTS_RECEIVED,)).fetchall()
    return [Envelope.from_bytes(bytes(r[0])) for r in rows]


def test_post_patrol_report_accepts_and_publishes(client, token):
    resp = client.post("/v1/reports/patrol", json=GOOD, headers=token("grid_worker", grid="441900001001001"))
    assert resp.status_code == 202, resp.text
    report_id = resp.json()["report_id"]
    got = client.get(f"/v1/reports/{report_id}", headers=token("grid_worker", grid="441900001001001"))
    assert got.status_code == 200
    assert got.json()["status"] == "received"
    envelopes = published(client)
    assert [e.key for e in envelopes] == [report_id]
    assert envelopes[0].type == "report.received"
    assert envelopes[0].correlation_id == report_id
    assert envelopes[0].payload["category_code"] == "01002"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category_code": "99999"}, "category_code"),
        ({"category_code": None}, "category_code"),
        ({"lon": 181}, "lon"),
        ({"lat": -91}, "lat"),
        ({"description": "x" * 2001}, "description"),
        ({"description": ""}, "description"),
    ],
)
def test_post_patrol_report_bad_field_is_named_and_nothing_stored(client, token, change, field):
    body = {**GOOD, **change}
    if change.get("category_code", "") is None:
        del body["category_code"]
    resp = client.post("/v1/reports/patrol", json=body, headers=token("grid_worker"))
    assert resp.status_code == 422
    details = resp.json()["error"]["details"]
    assert field in [d["field"] for d in details], details
    assert published(client) == []


def test_post_patrol_report_malformed_json_is_refused(client, token):
    resp = client.post("/v1/reports/patrol", content=b"{not json",
                       headers={**token("grid_worker"), "Content-Type": "application/json"})
    assert resp.status_code == 422
    assert "malformed JSON" in json.dumps(resp.json())
    assert published(client) == []


def test_post_patrol_report_without_token_is_401(client):
    assert client.post("/v1/reports/patrol", json=GOOD).status_code == 401


def test_post_patrol_report_as_citizen_is_403(client, token):
    resp = client.post("/v1/reports/patrol", json=GOOD, headers=token("citizen"))
    assert resp.status_code == 403
    assert resp.json()["error"]["details"][0]["field"] == "role"


def test_get_report_of_someone_else_is_hidden(client, token):
    rid = client.post("/v1/reports/patrol", json=GOOD, headers=token("grid_worker", sub="a")).json()["report_id"]
    assert client.get(f"/v1/reports/{rid}", headers=token("grid_worker", sub="b")).status_code == 404
    assert client.get(f"/v1/reports/{rid}", headers=token("command_centre")).status_code == 200


def test_probes_answer(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "bus": True}
    loopback = TestClient(client.app, client=("127.0.0.1", 50000))  # /metrics answers loopback clients only
    assert "gridgov_http_request_seconds" in loopback.get("/metrics").text
    time.sleep(0)
