"""The raw alarm topic (gridgov.alarms.raw) on the embedded bus: a video platform's ``alarm.raw`` becomes an alarm
once, however often it is redelivered; one that is not an alarm, or that ingest refuses, is dead-lettered with the
reason naming the field, and the stream goes on."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.interface import OutgoingMessage, open_bus
from gridgov_common.bus.topics import ALARMS_RAW, dlq
from gridgov_common.events.alarms import ALARM_RAW
from services.sensing.tests.support import GRID_B, IN_B, FakeRegistry, bearer, sensing_client

ADMIN = bearer("admin")
CAMERA = "44190000001328000001"


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Iterator[tuple[TestClient, object]]:
    """A sensing app of this module's own, with a camera in grid B, and its embedded bus."""
    data_dir = tmp_path_factory.mktemp("sensing-raw")
    with sensing_client(data_dir, FakeRegistry()) as client:
        resp = client.post("/v1/devices", headers=ADMIN, json={
            "device_id": CAMERA, "kind": "camera", "name": "东城 平台摄像机", "lon": IN_B[0], "lat": IN_B[1],
            "owner_department": "urban-management", "algorithms": ["illegal_parking", "street_vending"]})
        assert resp.status_code == 201, resp.text
        bus = open_bus(f"sqlite:///{data_dir / 'bus.db'}")
        try:
            yield client, bus
        finally:
            bus.close()


def raw_message(payload: dict, envelope_id: uuid.UUID | None = None) -> OutgoingMessage:
    """An ``alarm.raw`` envelope as the platform publishes it (key = device id)."""
    env = Envelope(id=envelope_id or uuid.uuid4(), type=ALARM_RAW, producer="city-video-platform",
                   key=str(payload.get("device_id", "x")), correlation_id=str(uuid.uuid4()), payload=payload)
    return OutgoingMessage(ALARMS_RAW, env.key, env.to_bytes())


def alarm(alarm_type: str = "illegal_parking", **more) -> dict:
    """A platform's alarm for the camera."""
    return {"device_id": CAMERA, "alarm_type": alarm_type, "occurred_at": datetime.now(UTC).isoformat(),
            "confidence": 0.97, "evidence": {"snapshot_url": "https://vms.example.cn/p/1.jpg"}, **more}


def group(client, alarm_type: str) -> dict | None:
    """The camera's open group of a type."""
    resp = client.get("/v1/alarm-groups", params={"grid": GRID_B, "alarm_type": alarm_type, "open": "true"},
                      headers=ADMIN)
    assert resp.status_code == 200, resp.text
    found = [g for g in resp.json()["items"] if g["device_id"] == CAMERA]
    return found[0] if found else None


def wait_for(probe, timeout: float = 20.0):
    """Poll until truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.1)
    return probe()


def dead_letters(bus, expected: int) -> list[dict]:
    """The DLQ records of the raw topic, once ``expected`` are there."""
    consumer = bus.consumer(f"test-raw-dlq-{uuid.uuid4().hex[:6]}", [dlq(ALARMS_RAW)])
    records: list[dict] = []
    try:
        deadline = time.monotonic() + 20
        while len(records) < expected and time.monotonic() < deadline:
            records += [json.loads(r.value) for r in consumer.poll(timeout=0.5)]
    finally:
        consumer.close()
    return records


def test_raw_alarm_becomes_one_group_and_a_redelivery_changes_nothing(raw):
    client, bus = raw
    message = raw_message(alarm())
    bus.publish([message, message])  # delivered twice: the same envelope id
    g = wait_for(lambda: group(client, "illegal_parking"))
    assert g is not None and g["count"] == 1
    bus.publish([raw_message(alarm(alarm_id="plat-77"))])
    g = wait_for(lambda: (x := group(client, "illegal_parking")) and x["count"] == 2 and x)
    assert g["count"] == 2
    bus.publish([raw_message(alarm(alarm_id="plat-77"))])  # a new envelope, the producer's same alarm id
    bus.publish([raw_message(alarm("street_vending"))])  # a barrier: once this one is grouped, the above was seen
    assert wait_for(lambda: group(client, "street_vending"))
    assert group(client, "illegal_parking")["count"] == 2


def test_bad_raw_alarms_are_dead_lettered_naming_the_field_and_the_stream_goes_on(raw):
    client, bus = raw
    before = (group(client, "street_vending") or {"count": 0})["count"]
    bus.publish([
        raw_message({"device_id": CAMERA, "alarm_type": "street_vending"}),  # no occurred_at
        raw_message(alarm("street_vending", device_id="44190000001328009999")),  # not registered
        raw_message(alarm("street_vending", occurred_at=(datetime.now(UTC) - timedelta(days=9)).isoformat())),
        OutgoingMessage(ALARMS_RAW, CAMERA, b"{not an envelope"),
        raw_message(alarm("street_vending")),
    ])
    assert wait_for(lambda: (g := group(client, "street_vending")) and g["count"] == before + 1)
    errors = sorted(r["error"] for r in dead_letters(bus, 4))
    assert len(errors) == 4, errors
    assert any("payload.occurred_at: Field required" in e for e in errors), errors
    assert any("payload.device_id: not a registered device" in e for e in errors), errors
    assert any("payload.occurred_at: more than 7 days in the past" in e for e in errors), errors
    assert any("not JSON" in e or "envelope" in e.lower() for e in errors), errors
