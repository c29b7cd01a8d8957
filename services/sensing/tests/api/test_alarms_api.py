"""The alarm APIs over HTTP on one embedded app (module-scoped): POST /v1/alarms (all or nothing, ≤ 10,000), the
alarm groups scoped by role, 核实 decisions, suppression rules and their replay, false-positive statistics.

The app runs without relay and consumers: the tests hand the outbox to the grouping consumer themselves
(``alarm_support.deliver``), so every step is deterministic."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from conftest import TEST_SECRET
from gridgov_common.auth import mint_token
from gridgov_common.bus.topics import ALARMS_RECEIVED, REPORTS_RECEIVED
from gridgov_common.settings import CommonSettings
from gridgov_common.web import create_service_app
from gridgov_sensing.alarms.models import Alarm, AlarmGroup
from gridgov_sensing.alarms.views import ROUTE_LIMITS
from gridgov_sensing.alarms.views import router as alarms_router
from gridgov_sensing.app import build_runtime
from gridgov_sensing.devices.models import Device
from gridgov_sensing.devices.service import bump_version
from gridgov_sensing.settings import SensingSettings
from gridgov_sensing.suppression.views import router as suppression_router
from gridgov_sensing.verification.models import VerificationTask
from gridgov_sensing.verification.views import router as verification_router
from services.sensing.tests.alarm_support import CAMERA, CAMERA_2, GRID, GRID_2, SENSOR, Clock, deliver, take_outbox

OTHER_DEPT_CAMERA = "44190000001320000009"


def auth(role: str, sub: str | None = None, **claims) -> dict[str, str]:
    token = mint_token(TEST_SECRET, sub=sub or f"{role}-1", role=role, **claims)
    return {"Authorization": f"Bearer {token}"}


GATEWAY = auth("device_gateway", "platform-1")
CC = auth("command_centre")
WORKER = auth("grid_worker", "worker-7", grid=GRID)
WORKER_2 = auth("grid_worker", "worker-8", grid=GRID_2)
URBAN = auth("dept_dispatcher", department="urban")
WATER = auth("dept_dispatcher", department="water")


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    common = CommonSettings(data_dir=tmp_path_factory.mktemp("sensing"), jwt_secret=TEST_SECRET, log_json=False)
    settings = SensingSettings(common=common, run_relay=False, run_consumers=False)
    app = create_service_app(title="sensing alarms", description="test", routers=[
        alarms_router, suppression_router, verification_router], route_limits=ROUTE_LIMITS,
        runtime_factory=lambda: build_runtime(settings))
    with TestClient(app) as client:
        now = datetime.now(UTC)
        with db_of(client).session() as session:
            for device_id, kind, grid, dept in ((CAMERA, "camera", GRID, "urban"),
                                                (CAMERA_2, "camera", GRID_2, "urban"),
                                                (SENSOR, "sensor", GRID, "water"),
                                                (OTHER_DEPT_CAMERA, "camera", GRID, "water")):
                session.add(Device(device_id=device_id, kind=kind, name=f"{device_id} 东城路口", lon=113.75,
                                   lat=23.02, grid_code=grid, village_code="441900001001", town_code="441900001",
                                   owner_department=dept, algorithms=[], created_at=now, updated_at=now))
            bump_version(session, "devices")
            session.commit()
        yield client


@pytest.fixture(autouse=True)
def clean(client):
    db = db_of(client)
    with db.engine.begin() as conn:
        for table in (Alarm.__table__, AlarmGroup.__table__, VerificationTask.__table__, db.tables.outbox,
                      db.tables.handled):
            conn.execute(delete(table))
    yield


def db_of(client):
    return client.app.state.runtime.db


def one(alarm_type="exposed_garbage", device_id=CAMERA, minutes_ago=1, **more):
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {"device_id": device_id, "alarm_type": alarm_type, "occurred_at": at.isoformat(), "confidence": 0.9,
            **more}


def post(client, alarms, headers=GATEWAY, **kw):
    return client.post("/v1/alarms", json={"alarms": alarms}, headers=headers, **kw)


def fields(response):
    return [d["field"] for d in response.json()["error"]["details"]]


def ingest(client, *alarms):
    assert post(client, list(alarms)).status_code == 202
    deliver(db_of(client), Clock(datetime.now(UTC)))


# --- POST /v1/alarms -----------------------------------------------------------------------------------------------

def test_a_gateway_posts_a_batch_and_gets_202(client):
    answer = post(client, [one(), one("manhole_displaced", SENSOR, evidence={"reading": 3.0, "unit": "cm"})])
    assert answer.status_code == 202 and answer.json() == {"accepted": 2}
    assert db_of(client).outbox_backlog() == 2


@pytest.mark.parametrize(("alarm", "field"), [
    (one(device_id="NOPE-1"), "alarms[0].device_id"),
    (one(alarm_type="no_such_type"), "alarms[0].alarm_type"),
    (one(minutes_ago=-60), "alarms[0].occurred_at"),
    (one(minutes_ago=8 * 24 * 60), "alarms[0].occurred_at"),
    ({**one(), "occurred_at": "2026-12-02T08:00:00"}, "alarms.0.occurred_at"),  # no zone
    ({**one(), "confidence": "0.9"}, "alarms.0.confidence"),
    ({**one(), "confidence": 1.5}, "alarms.0.confidence"),
    ({**one(), "device_id": "a b"}, "alarms.0.device_id"),
    ({**one(), "state": "burning"}, "alarms.0.state"),
    ({**one(), "evidence": {"snapshot_url": "javascript:alert(1)"}}, "alarms.0.evidence.snapshot_url"),
    ({**one(), "labels": {f"k{i}": "v" for i in range(21)}}, "alarms.0.labels"),
    ({k: v for k, v in one().items() if k != "device_id"}, "alarms.0.device_id"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(client, alarm, field):
    answer = post(client, [one(), alarm])
    assert answer.status_code == 422, answer.text
    assert field.replace("[0]", "[1]").replace(".0.", ".1.") in fields(answer)
    assert db_of(client).outbox_backlog() == 0


def test_refusals_are_in_chinese_when_asked(client):
    answer = post(client, [one(device_id="NOPE-1")], headers={**GATEWAY, "Accept-Language": "zh"})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["reason"] == "不是已登记的设备"


def test_an_empty_or_oversized_batch_or_not_json_is_refused(client):
    assert fields(post(client, [])) == ["alarms"]
    assert "alarms" in fields(post(client, [one()] * 10_001))
    answer = client.post("/v1/alarms", content=b"{not json", headers={**GATEWAY, "Content-Type": "application/json"})
    assert answer.status_code == 422 and fields(answer) == ["body"]
    assert db_of(client).outbox_backlog() == 0


def test_only_gateways_and_the_command_centre_may_post(client):
    assert post(client, [one()], headers={}).status_code == 401
    assert post(client, [one()], headers=WORKER).status_code == 403
    assert post(client, [one()], headers=auth("citizen")).status_code == 403
    assert post(client, [one()], headers=CC).status_code == 202


def test_ten_thousand_alarms_in_one_call(client):
    batch = [one(device_id=(CAMERA, CAMERA_2)[i % 2], alarm_id=f"big-{i}") for i in range(10_000)]
    started = time.perf_counter()
    answer = post(client, batch)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 202 and answer.json() == {"accepted": 10_000}
    print(f"POST /v1/alarms 10,000 alarms: {elapsed:.2f} s")
    envelopes = take_outbox(db_of(client), ALARMS_RECEIVED)
    assert len({e.id for e in envelopes}) == 10_000 and len({e.key for e in envelopes}) == 2


# --- alarm groups --------------------------------------------------------------------------------------------------

def test_groups_are_scoped_to_the_callers_grid_or_department(client):
    ingest(client, one(), one(minutes_ago=0), one(device_id=CAMERA_2), one("manhole_displaced", SENSOR),
           one(device_id=OTHER_DEPT_CAMERA))

    def listed(headers, **params):
        answer = client.get("/v1/alarm-groups", headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        return sorted(g["device_id"] for g in answer.json()["items"]), answer.json()["total"]

    assert listed(CC) == (sorted([CAMERA, CAMERA_2, SENSOR, OTHER_DEPT_CAMERA]), 4)
    assert listed(WORKER) == (sorted([CAMERA, SENSOR, OTHER_DEPT_CAMERA]), 3)
    assert listed(WORKER_2) == ([CAMERA_2], 1)
    assert listed(URBAN) == (sorted([CAMERA, CAMERA_2]), 2)
    assert listed(WATER) == (sorted([SENSOR, OTHER_DEPT_CAMERA]), 2)
    assert listed(CC, alarm_type="manhole_displaced", open="true") == ([SENSOR], 1)
    assert listed(CC, grid=GRID_2, state="case") == ([CAMERA_2], 1)
    assert client.get("/v1/alarm-groups", headers=auth("citizen")).status_code == 403

    [group] = [g for g in client.get("/v1/alarm-groups", headers=CC).json()["items"] if g["device_id"] == CAMERA]
    assert group["count"] == 2 and group["report_id"]
    by_report = client.get("/v1/alarm-groups", headers=CC, params={"report_id": group["report_id"]}).json()
    assert [g["id"] for g in by_report["items"]] == [group["id"]]
    detail = client.get(f"/v1/alarm-groups/{group['id']}", headers=WORKER)
    assert detail.status_code == 200 and len(detail.json()["alarms"]) == 2
    assert client.get(f"/v1/alarm-groups/{group['id']}", headers=WORKER_2).status_code == 404
    geo = client.get("/v1/alarm-groups.geojson", headers=CC, params={"bbox": "113,22,114,24"}).json()
    assert geo["type"] == "FeatureCollection" and geo["total"] == 4 and not geo["truncated"]
    assert client.get("/v1/alarm-groups.geojson", headers=CC, params={"bbox": "114,22,113,24"}).json()[
        "error"]["details"][0]["field"] == "bbox"


def test_the_list_puts_the_groups_waiting_on_someone_before_the_record_only_ones(client):
    # a case five minutes old and a record-only crowd alarm just now: the case comes first all the same
    ingest(client, one("street_vending", CAMERA_2, minutes_ago=5), one("crowd_gathering", CAMERA_2, minutes_ago=0))
    items = client.get("/v1/alarm-groups", headers=CC, params={"open": "true", "limit": 1000}).json()["items"]
    states = [g["state"] for g in items]
    waiting = [i for i, s in enumerate(states) if s in ("case", "pending_verification", "open")]
    recorded = [i for i, s in enumerate(states) if s == "recorded"]
    assert waiting and recorded and max(waiting) < min(recorded)
    crowd = next(g for g in items if g["alarm_type"] == "crowd_gathering")
    vending = next(g for g in items if g["alarm_type"] == "street_vending")
    def seen_at(g):
        return datetime.fromisoformat(g["last_seen"].replace("Z", "+00:00"))

    assert seen_at(crowd) > seen_at(vending) and items.index(vending) < items.index(crowd)
    for part in (waiting, recorded):  # the latest alarm first within each
        seen = [seen_at(items[i]) for i in part]
        assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(("params", "field"), [
    ({"state": "burning"}, "state"), ({"limit": 1001}, "limit"), ({"open": "maybe"}, "open"),
    ({"bbox": "a,b,c,d"}, "bbox"), ({"grid": "x" * 65}, "grid"), ({"offset": -1}, "offset"),
])
def test_bad_list_parameters_name_the_field(client, params, field):
    answer = client.get("/v1/alarm-groups", headers=CC, params=params)
    assert answer.status_code == 422 and fields(answer) == [field]


def test_an_unknown_group_is_404_and_a_malformed_id_422(client):
    assert client.get("/v1/alarm-groups/00000000-0000-0000-0000-000000000000", headers=CC).status_code == 404
    assert client.get("/v1/alarm-groups/nope", headers=CC).status_code == 422


# --- verification --------------------------------------------------------------------------------------------------

def test_a_grid_worker_confirms_or_rejects_and_the_rates_follow(client):
    ingest(client, one("piled_materials", evidence={"snapshot_url": "https://cam.example/p.jpg"}),
           one("piled_materials", OTHER_DEPT_CAMERA), one("piled_materials", CAMERA_2))
    take_outbox(db_of(client), REPORTS_RECEIVED)
    mine = client.get("/v1/verifications", headers=WORKER, params={"state": "pending"}).json()
    assert mine["total"] == 2 and {t["device_id"] for t in mine["items"]} == {CAMERA, OTHER_DEPT_CAMERA}
    task = next(t for t in mine["items"] if t["device_id"] == CAMERA)
    assert task["alarm_type_name"] == "乱堆物料" and task["evidence"]["snapshot_url"].endswith("p.jpg")
    assert client.get("/v1/verifications", headers=CC).json()["total"] == 3

    assert client.post(f"/v1/verifications/{task['id']}/decision", json={"outcome": "confirmed"},
                       headers=WORKER_2).status_code == 403
    assert client.post(f"/v1/verifications/{task['id']}/decision", json={"outcome": "maybe"},
                       headers=WORKER).json()["error"]["details"][0]["field"] == "outcome"
    done = client.post(f"/v1/verifications/{task['id']}/decision", json={"outcome": "confirmed", "note": "现场属实"},
                       headers=WORKER)
    assert done.status_code == 200 and done.json()["state"] == "confirmed" and done.json()["report_id"]
    [report] = take_outbox(db_of(client), REPORTS_RECEIVED)
    assert (report.payload["reporter_id"], report.payload["reporter_role"], report.payload["channel"]) == (
        "worker-7", "grid_worker", "video_ai")
    assert "网格员核实确认" in report.payload["description"]
    assert client.post(f"/v1/verifications/{task['id']}/decision", json={"outcome": "rejected"},
                       headers=WORKER).status_code == 409
    group = client.get(f"/v1/alarm-groups/{task['group_id']}", headers=CC).json()
    assert (group["state"], group["report_id"]) == ("case", report.payload["report_id"])

    other = next(t for t in mine["items"] if t["device_id"] == OTHER_DEPT_CAMERA)
    assert client.post(f"/v1/verifications/{other['id']}/decision", json={"outcome": "rejected"},
                       headers=WORKER).status_code == 200
    rejected = client.get(f"/v1/alarm-groups/{other['group_id']}", headers=CC).json()
    assert (rejected["state"], rejected["is_open"]) == ("false_positive", False)
    assert take_outbox(db_of(client), REPORTS_RECEIVED) == []

    stats = client.get("/v1/stats/false-positives", headers=CC, params={"by": "device"}).json()
    assert [(r["key"], r["verified"], r["rejected"], r["rate"]) for r in stats["rows"]] == [
        (OTHER_DEPT_CAMERA, 0, 1, 1.0), (CAMERA, 1, 0, 0.0)]
    by_type = client.get("/v1/stats/false-positives", headers=CC).json()["rows"]
    assert by_type == [{"key": "piled_materials", "name": "乱堆物料", "verified": 1, "rejected": 1, "rate": 0.5}]
    assert client.get("/v1/stats/false-positives", headers=CC, params={"by": "grid"}).status_code == 422
    assert client.get("/v1/stats/false-positives", headers=WORKER).status_code == 403
    assert client.post("/v1/verifications/00000000-0000-0000-0000-000000000000/decision",
                       json={"outcome": "confirmed"}, headers=WORKER).status_code == 404


# --- suppression rules ---------------------------------------------------------------------------------------------

def test_rules_are_written_monitored_replayed_and_enforced(client):
    snooze = client.post("/v1/suppression-rules", headers=CC, json={
        "name": "施工期间静默", "kind": "snooze", "mode": "monitor", "for": "2h", "device_ids": [CAMERA]})
    assert snooze.status_code == 201, snooze.text
    rule = snooze.json()
    ends = datetime.fromisoformat(rule["ends_at"])
    assert timedelta(minutes=119) < ends - datetime.now(UTC) <= timedelta(hours=2) and rule["active"]

    ingest(client, one(), one(device_id=CAMERA_2))
    groups = client.get("/v1/alarm-groups", headers=CC).json()["items"]
    assert len(groups) == 2  # monitored: nothing held back, but recorded
    assert next(g for g in groups if g["device_id"] == CAMERA)["monitored_by"] == [rule["id"]]

    replay = client.post(f"/v1/suppression-rules/{rule['id']}/replay", headers=CC).json()
    assert (replay["alarms_seen"], replay["would_suppress"], replay["by_alarm_type"]) == (
        2, 1, {"exposed_garbage": 1})

    enforced = client.put(f"/v1/suppression-rules/{rule['id']}", headers=CC, json={
        "name": "施工期间静默", "kind": "snooze", "mode": "enforce", "for": "2h", "device_ids": [CAMERA]})
    assert enforced.status_code == 200 and enforced.json()["mode"] == "enforce"
    ingest(client, one("street_vending"))
    assert [g["alarm_type"] for g in client.get("/v1/alarm-groups", headers=CC).json()["items"]].count(
        "street_vending") == 0
    listed = client.get("/v1/suppression-rules", headers=CC).json()
    assert listed["total"] == 1 and listed["items"][0]["mode"] == "enforce"


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "kind": "mute"}, "kind"),
    ({"name": "x", "kind": "snooze"}, "ends_at"),
    ({"name": "x", "kind": "snooze", "for": "2x"}, "for"),
    ({"name": "x", "kind": "snooze", "for": "31d"}, "for"),
    ({"name": "x", "kind": "maintenance"}, "device_ids"),
    ({"name": "x", "kind": "inhibit", "source_types": ["smoke_fire"]}, "equal"),
    ({"name": "x", "kind": "inhibit", "source_types": ["nope"], "equal": ["grid_code"]}, "source_types"),
    ({"name": "x", "kind": "confidence", "alarm_types": ["exposed_garbage"]}, "min_confidence"),
    ({"name": "x", "kind": "confidence", "min_confidence": 2}, "min_confidence"),
    ({"name": "", "kind": "snooze", "for": "1h"}, "name"),
    ({"name": "x", "kind": "snooze", "for": "1h", "mode": "loud"}, "mode"),
    ({"name": "x", "kind": "snooze", "starts_at": "2026-12-02T10:00:00+08:00",
      "ends_at": "2026-12-02T09:00:00+08:00"}, "ends_at"),
    ({"name": "x", "kind": "snooze", "starts_at": "9999-12-31T23:00:00+00:00", "for": "30d"}, "starts_at"),
    ({"name": "x", "kind": "snooze", "starts_at": "0001-01-01T00:00:00+14:00", "for": "1h"}, "starts_at"),
])
def test_a_rule_the_engine_cannot_use_is_refused_naming_the_field(client, body, field):
    answer = client.post("/v1/suppression-rules", headers=CC, json=body)
    assert answer.status_code == 422, answer.text
    assert field in fields(answer)


def test_a_rule_refused_says_why_in_chinese_when_asked_and_nothing_is_stored(client):
    before = client.get("/v1/suppression-rules", headers=CC).json()["total"]
    answer = client.post("/v1/suppression-rules", headers={**CC, "Accept-Language": "zh-CN"}, json={
        "name": "停电抑制", "kind": "inhibit", "alarm_types": ["smoke_fire"], "source_types": ["smoke_fire", "nope"]})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["message"] == "规则无法生效"
    assert [(d["field"], d["reason"]) for d in error["details"]] == [("source_types", "未知的告警类型：nope")]
    answer = client.post("/v1/suppression-rules", headers={**CC, "Accept-Language": "zh-CN"}, json={
        "name": "停电抑制", "kind": "inhibit", "alarm_types": ["smoke_fire"], "source_types": ["smoke_fire"]})
    assert {d["field"]: d["reason"] for d in answer.json()["error"]["details"]} == {
        "equal": "抑制规则须至少指定一个两条告警必须相同的字段（如同一网格）", "alarm_types": "告警类型不能抑制自身"}
    answer = client.post("/v1/suppression-rules", headers={**CC, "Accept-Language": "zh-CN"}, json={
        "name": "夜间低置信度", "kind": "confidence"})
    assert [(d["field"], d["reason"]) for d in answer.json()["error"]["details"]] == [
        ("min_confidence", "置信度下限规则须给出大于 0、不超过 1 的下限")]
    assert client.get("/v1/suppression-rules", headers=CC).json()["total"] == before


def test_rules_are_the_command_centres(client):
    assert client.get("/v1/suppression-rules", headers=WORKER).status_code == 403
    assert client.post("/v1/suppression-rules", headers=URBAN, json={"name": "x", "kind": "snooze",
                                                                      "for": "1h"}).status_code == 403
    assert client.put("/v1/suppression-rules/00000000-0000-0000-0000-000000000000", headers=CC, json={
        "name": "x", "kind": "snooze", "for": "1h"}).status_code == 404
    assert client.post("/v1/suppression-rules/00000000-0000-0000-0000-000000000000/replay",
                       headers=CC).status_code == 404
    answer = client.post("/v1/suppression-rules/00000000-0000-0000-0000-000000000000/replay", headers=CC,
                         params={"until": "0001-01-01T00:00:00+00:00"})
    assert answer.status_code == 422 and fields(answer) == ["until"]
    answer = client.get("/v1/stats/false-positives", headers=CC, params={"since": "0001-01-01T00:00:00+14:00"})
    assert answer.status_code == 422 and fields(answer) == ["since"]
