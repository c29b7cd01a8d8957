"""sensing's platform: the MQTT subscriber's two hands into the service (accept: ingest, all or nothing; reject:
a dead letter on ``gridgov.alarms.raw.dlq`` with the reason) and ``/readyz`` reporting the broker."""

from __future__ import annotations

import json
import socket
import time
import uuid
from datetime import UTC, datetime

import pytest

from gridgov_common.bus.topics import ALARMS_RAW, dlq
from gridgov_common.errors import ValidationFailed
from gridgov_common.events.alarms import AlarmIn
from services.sensing.tests.support import IN_A, FakeRegistry, bearer, sensing_client


def test_mqtt_refusal_becomes_a_dead_letter_with_its_reason(client):
    runtime = client.app.state.runtime
    reason = f"alarms[0].occurred_at: in the future ({uuid.uuid4().hex[:8]})"
    runtime.reject_mqtt('{"alarms": [{"device_id": "井盖-1"}]}'.encode(), reason)
    consumer = runtime.open_bus().consumer(f"test-mqtt-dlq-{uuid.uuid4().hex[:6]}", [dlq(ALARMS_RAW)])
    found: list[dict] = []
    try:
        deadline = time.monotonic() + 10
        while not found and time.monotonic() < deadline:
            found = [r for r in (json.loads(x.value) for x in consumer.poll(timeout=0.5)) if r["error"] == reason]
    finally:
        consumer.close()
    assert len(found) == 1
    assert (found[0]["consumer"], found[0]["topic"]) == ("sensing.mqtt", "mqtt:gridgov/alarms/#")
    assert json.loads(found[0]["value"]) == {"alarms": [{"device_id": "井盖-1"}]}


def test_mqtt_batch_of_an_unknown_device_is_refused_whole(client):
    runtime = client.app.state.runtime
    camera = "44190000001329999001"
    assert client.post("/v1/devices", headers=bearer("admin"), json={
        "device_id": camera, "kind": "camera", "name": "路口", "lon": IN_A[0], "lat": IN_A[1],
        "algorithms": ["exposed_garbage"]}).status_code == 201
    now = datetime.now(UTC)
    good = AlarmIn(device_id=camera, alarm_type="exposed_garbage", occurred_at=now)
    unknown = AlarmIn(device_id="IOT-nowhere-1", alarm_type="manhole_displaced", occurred_at=now)
    with pytest.raises(ValidationFailed) as refused:
        runtime.accept_mqtt([good, unknown])
    assert [d.field for d in refused.value.details] == ["alarms[1].device_id"]
    runtime.accept_mqtt([good])  # the good one alone goes in: its group counts it once (the refused batch, never)

    def group() -> dict | None:
        items = client.get("/v1/alarm-groups", params={"alarm_type": "exposed_garbage"},
                           headers=bearer("admin")).json()["items"]
        return next((g for g in items if g["device_id"] == camera), None)

    deadline = time.monotonic() + 20
    while group() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a second alarm of the refused batch, had it been staged, would be grouped by now too
    assert group() is not None and group()["count"] == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("run_consumers", "expected"), [(True, 503), (False, 200)])
def test_readyz_reports_the_broker_where_this_process_subscribes(tmp_path, run_consumers, expected):
    url = f"mqtt://127.0.0.1:{_closed_port()}"
    with sensing_client(tmp_path, FakeRegistry(), mqtt_url=url, run_consumers=run_consumers) as c:
        resp = c.get("/readyz")
        assert resp.status_code == expected, resp.text
        checks = resp.json()["checks"]
        assert checks.get("mqtt") is (False if run_consumers else None)
        assert checks["database"] and checks["bus"]
