"""Sensing end to end (issue #16), on each stack: alarms from cameras and sensors, through their real adapters,
become tickets in dispatch — once per fingerprint, whatever the repeats, races and instances.

- a camera's GB/T 28181 alarm Notify and a sensor's MQTT alarm (a real Mosquitto) each become exactly one ticket,
  of channel ``video_ai`` and ``iot``; repeats count on the one alarm group and reach the ticket as evidence;
- a sensor's "resolved" reaches the ticket; an MQTT message that is not an alarm is dead-lettered with the reason
  (``gridgov.alarms.raw.dlq``) and the next one is taken;
- an alarm a snooze rule covers is stored and opens nothing (no group, no report);
- a ``verify_first`` alarm waits for the grid worker's 核实 and becomes a ticket once confirmed;
- 8 producer threads posting the same fingerprints to 2 sensing instances (both consuming) at the same moment:
  one group and one ticket per fingerprint, and every alarm counted exactly once.

One stack per kind for the module (a start costs seconds): every test uses devices of its own.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from conftest import require_infra
from gridgov_cli.demo import DEMO_CAMERA, DEMO_POINT, run_sensing_demo
from gridgov_common.bus.interface import open_bus
from gridgov_common.bus.topics import ALARMS_RAW, dlq
from tests.e2e.conftest import stack_of, stack_params

pytestmark = pytest.mark.e2e

CHINA = timezone(timedelta(hours=8))
XML = {"Content-Type": "Application/MANSCDP+xml"}
_serial = itertools.count(1)


@pytest.fixture(scope="module", params=stack_params())
def stack(request, tmp_path_factory):
    """Every service on one stack of each kind; sensing subscribed to the test broker when there is one."""
    kind = request.param
    tag = uuid.uuid4().hex[:8]
    # A repeat tells dispatch at most once a second here (10 minutes by default, which a test cannot wait for).
    extra = {"GRIDGOV_SENSING_REPEAT_EVENT_INTERVAL_S": "1"}
    mqtt_url = os.environ.get("GRIDGOV_TEST_MQTT_URL")
    if mqtt_url:
        extra |= {"GRIDGOV_SENSING_MQTT_URL": mqtt_url, "GRIDGOV_SENSING_MQTT_TOPIC": f"gridgov-e2e/{tag}/alarms/#",
                 "GRIDGOV_SENSING_MQTT_CLIENT_ID": f"gridgov-sensing-e2e-{tag}"}
    s = stack_of(kind, tmp_path_factory.mktemp(f"sensing-{kind}"), extra_env=extra)
    s.mqtt_topic = f"gridgov-e2e/{tag}/alarms"
    try:
        s.start()
        yield s
    finally:  # also after a failed start: its databases, topics and broker session go
        s.close()
        if mqtt_url:
            _forget_session(mqtt_url, extra["GRIDGOV_SENSING_MQTT_CLIENT_ID"])


def _forget_session(url: str, client_id: str) -> None:
    """Drop the test's persistent session on the shared broker."""
    host, port = url.removeprefix("mqtt://").rsplit(":", 1)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    client.connect(host, int(port), clean_start=True, properties=props)
    client.loop_start()
    deadline = time.monotonic() + 10
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()


# --- helpers ----------------------------------------------------------------------------------------------------


def admin(stack) -> dict[str, str]:
    return stack.auth(sub="admin-1", role="admin")


def sensing(stack) -> str:
    return stack.url("sensing")


def register(stack, kind: str, algorithms: list[str], at=DEMO_POINT) -> dict:
    """A device of this test's own at ``at`` (the demo city's grid there, looked up by grid-registry)."""
    n = next(_serial)
    device_id = f"44190000001327{n:06d}" if kind == "camera" else f"IOT-e2e-{uuid.uuid4().hex[:6]}-{n}"
    resp = httpx.post(f"{sensing(stack)}/v1/devices", headers=admin(stack), timeout=30, json={
        "device_id": device_id, "kind": kind, "name": f"e2e {kind} {n}", "lon": at[0], "lat": at[1],
        "owner_department": "urban-management", "algorithms": algorithms})
    assert resp.status_code == 201, resp.text
    device = resp.json()
    assert device["grid_code"], device
    return device


def notify(device_id: str, sn: int, event: str, state: str = "firing") -> bytes:
    """A GB/T 28181 alarm Notify for a camera's AI algorithm (time in China local time, as platforms send it)."""
    moment = datetime.now(UTC).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S")
    return (f'<?xml version="1.0" encoding="UTF-8"?><Notify><CmdType>Alarm</CmdType><SN>{sn}</SN>'
            f"<DeviceID>{device_id}</DeviceID><AlarmPriority>3</AlarmPriority><AlarmMethod>5</AlarmMethod>"
            f"<AlarmTime>{moment}</AlarmTime><Info><AlarmType>11</AlarmType><AlarmTypeParam><EventType>{event}"
            f"</EventType></AlarmTypeParam><Confidence>0.95</Confidence><AlarmState>{state}</AlarmState>"
            f"<SnapshotURL>https://vms.example.cn/snap/{device_id}-{sn}.jpg</SnapshotURL></Info></Notify>").encode()


def post_notify(stack, device_id: str, sn: int, event: str, state: str = "firing") -> None:
    resp = httpx.post(f"{sensing(stack)}/v1/gb28181/notify", content=notify(device_id, sn, event, state),
                      headers={**stack.auth(sub="vms-1", role="device_gateway"), **XML}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert "<Result>OK</Result>" in resp.text


def sensor_alarm(device_id: str, alarm_type: str, state: str = "firing", reading: float = 1.0, **more) -> dict:
    return {"alarm_id": f"e2e-{uuid.uuid4().hex}", "device_id": device_id, "alarm_type": alarm_type, "state": state,
            "occurred_at": datetime.now(UTC).isoformat(), "evidence": {"reading": reading, "unit": "mm"}, **more}


def mqtt_publish(stack, payload: dict | bytes) -> None:
    """Publish one message to the broker at QoS 1, as a sensor gateway does."""
    import json

    url = require_infra("GRIDGOV_TEST_MQTT_URL", "Mosquitto (MQTT broker)")
    host, port = url.removeprefix("mqtt://").rsplit(":", 1)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.connect(host, int(port))
    client.loop_start()
    try:
        body = payload if isinstance(payload, bytes) else json.dumps(payload)
        client.publish(f"{stack.mqtt_topic}/gw-e2e", body, qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def dead_letter(stack, topic: str, marker: bytes) -> dict:
    """The DLQ record of ``topic`` whose original value holds ``marker``."""
    import json

    if stack.kind == "distributed":
        bus = open_bus(f"kafka://{stack.env['GRIDGOV_KAFKA_BOOTSTRAP_SERVERS']}",
                       namespace=stack.env["GRIDGOV_TOPIC_NAMESPACE"])
    else:
        bus = open_bus(f"sqlite:///{stack.data_dir / 'bus.db'}")
    consumer = bus.consumer(f"e2e-dlq-{uuid.uuid4().hex[:8]}", [dlq(topic)])
    try:
        def find():
            records = [json.loads(r.value) for r in consumer.poll(timeout=1.0)]
            return next((r for r in records if marker.decode() in r["value"]), None)

        return stack.wait_for(f"the DLQ record on {dlq(topic)}", find)
    finally:
        consumer.close()
        bus.close()


def groups(stack, device: dict, alarm_type: str | None = None) -> list[dict]:
    """The alarm groups of one device (of one type)."""
    params = {"grid": device["grid_code"], "limit": 1000}
    if alarm_type:
        params["alarm_type"] = alarm_type
    resp = httpx.get(f"{sensing(stack)}/v1/alarm-groups", params=params, headers=admin(stack), timeout=30)
    resp.raise_for_status()
    return [g for g in resp.json()["items"] if g["device_id"] == device["device_id"]]


def tickets_for(stack, report_id: str) -> list[dict]:
    resp = httpx.get(f"{stack.url('dispatch')}/v1/tickets", params={"report_id": report_id},
                     headers=stack.auth(sub="cc", role="command_centre"), timeout=30)
    resp.raise_for_status()
    return resp.json()["items"]


def ticket_detail(stack, ticket_id: str) -> dict:
    resp = httpx.get(f"{stack.url('dispatch')}/v1/tickets/{ticket_id}",
                     headers=stack.auth(sub="cc", role="command_centre"), timeout=30)
    resp.raise_for_status()
    return resp.json()


def case_of(stack, device: dict, alarm_type: str) -> tuple[dict, dict]:
    """The device's one group of a type once it has a report, and that report's one ticket."""
    group = stack.wait_for(f"the {alarm_type} group of {device['device_id']} with a report",
                           lambda: (g := groups(stack, device, alarm_type)) and g[0]["report_id"] and g[0])
    ticket = stack.wait_for("its ticket", lambda: (t := tickets_for(stack, group["report_id"])) and t[0])
    return group, ticket


def sensor_steps(stack, ticket_id: str) -> list[dict]:
    return [t for t in ticket_detail(stack, ticket_id)["transitions"] if t["action"] == "sensor_evidence"]


# --- the tests ----------------------------------------------------------------------------------------------------


def test_camera_alarm_via_gb28181_becomes_one_ticket_and_repeats_attach(stack):
    camera = register(stack, "camera", ["exposed_garbage"])
    post_notify(stack, camera["device_id"], 1, "exposed_garbage")
    group, ticket = case_of(stack, camera, "exposed_garbage")
    assert ticket["channel"] == "video_ai" and ticket["reporter_id"] == camera["device_id"]
    assert ticket["category_code"].startswith("01")  # 暴露垃圾 01002, or its middle class

    time.sleep(1.1)  # past the repeat interval since the case opened
    for sn in (2, 3, 4):
        post_notify(stack, camera["device_id"], sn, "exposed_garbage")
    grown = stack.wait_for("the repeats counted",
                           lambda: (g := groups(stack, camera, "exposed_garbage")) and g[0]["count"] == 4 and g)
    assert len(grown) == 1 and grown[0]["id"] == group["id"] and grown[0]["report_id"] == group["report_id"]
    steps = stack.wait_for("the repeat's evidence on the ticket", lambda: sensor_steps(stack, ticket["id"]))
    assert camera["device_id"] in steps[0]["note"] and steps[0]["actor_id"] == "system:sensing"
    assert steps[0]["from_state"] == steps[0]["to_state"]  # evidence, not a step of the lifecycle
    assert len(tickets_for(stack, group["report_id"])) == 1


def test_iot_alarm_via_mqtt_becomes_one_ticket_and_its_resolved_reaches_it(stack):
    require_infra("GRIDGOV_TEST_MQTT_URL", "Mosquitto (MQTT broker)")
    sensor = register(stack, "sensor", ["manhole_displaced"])
    garbage = f"manhole gateway garbage {uuid.uuid4().hex}".encode()
    mqtt_publish(stack, garbage)  # not an alarm: dead-lettered with the reason, and the stream goes on
    mqtt_publish(stack, sensor_alarm(sensor["device_id"], "manhole_displaced", reading=35.0))
    group, ticket = case_of(stack, sensor, "manhole_displaced")
    assert ticket["channel"] == "iot" and ticket["reporter_id"] == sensor["device_id"]
    dead = dead_letter(stack, ALARMS_RAW, garbage)
    assert dead["consumer"] == "sensing.mqtt" and dead["error"].startswith("payload: not JSON")

    mqtt_publish(stack, sensor_alarm(sensor["device_id"], "manhole_displaced", state="resolved", reading=0.0))
    resolved = stack.wait_for("the group resolved",
                              lambda: (g := groups(stack, sensor, "manhole_displaced")) and g[0]["resolved_at"] and g)
    assert resolved[0]["id"] == group["id"]
    steps = stack.wait_for("the device's resolved on the ticket",
                           lambda: [s for s in sensor_steps(stack, ticket["id"]) if "恢复" in (s["note"] or "")])
    assert sensor["device_id"] in steps[0]["note"]
    assert len(tickets_for(stack, group["report_id"])) == 1


def test_an_iot_gateways_round_of_heartbeats_over_mqtt_puts_its_sensors_online(stack):
    require_infra("GRIDGOV_TEST_MQTT_URL", "Mosquitto (MQTT broker)")
    first, second = register(stack, "sensor", ["manhole_displaced"]), register(stack, "sensor", ["gas_concentration"])
    stranger = f"IOT-e2e-never-registered-{uuid.uuid4().hex[:6]}"

    def device(device_id: str) -> httpx.Response:
        return httpx.get(f"{sensing(stack)}/v1/devices/{device_id}", headers=admin(stack), timeout=30)

    assert not device(first["device_id"]).json()["online"]
    mqtt_publish(stack, {"device_ids": [first["device_id"], stranger, second["device_id"]]})
    stack.wait_for("both sensors online", lambda: all(device(d["device_id"]).json()["online"]
                                                      for d in (first, second)))
    assert device(stranger).status_code == 404  # named in sensing's log, stored nowhere
    bad = f"bad id! {uuid.uuid4().hex}".encode()
    mqtt_publish(stack, b'{"device_ids": ["' + bad + b'"]}')
    dead = dead_letter(stack, ALARMS_RAW, bad)
    assert dead["consumer"] == "sensing.mqtt" and dead["error"].startswith("device_ids[0]: ")


def test_snoozed_alarm_opens_nothing(stack):
    snoozed = register(stack, "camera", ["illegal_parking"])
    witness = register(stack, "camera", ["illegal_parking"])  # the same alarm, not snoozed: a case
    cc = stack.auth(sub="cc", role="command_centre")
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    rule = httpx.post(f"{sensing(stack)}/v1/suppression-rules", headers=cc, timeout=30, json={
        "name": "e2e snooze", "kind": "snooze", "for": "2h", "device_ids": [snoozed["device_id"]]})
    assert rule.status_code == 201, rule.text
    post_notify(stack, snoozed["device_id"], 1, "illegal_parking")
    post_notify(stack, witness["device_id"], 1, "illegal_parking")
    case_of(stack, witness, "illegal_parking")

    def replay():
        resp = httpx.post(f"{sensing(stack)}/v1/suppression-rules/{rule.json()['id']}/replay", headers=cc,
                          params={"since": since}, timeout=30)
        resp.raise_for_status()
        return resp.json()["would_suppress"] and resp.json()

    # The snoozed alarm is stored (grouping records every alarm with its verdict in the same transaction) ...
    seen = stack.wait_for("the snoozed alarm stored", replay)
    assert seen["would_suppress"] == 1 and seen["by_alarm_type"] == {"illegal_parking": 1}
    # ... and opened no group, so no report and no ticket.
    assert groups(stack, snoozed, "illegal_parking") == []


def test_verify_first_alarm_waits_for_the_grid_worker_then_becomes_a_ticket(stack):
    camera = register(stack, "camera", ["piled_materials"])
    post_notify(stack, camera["device_id"], 1, "piled_materials")
    group = stack.wait_for("the pending group", lambda: (g := groups(stack, camera, "piled_materials")) and g[0])
    assert group["state"] == "pending_verification" and group["report_id"] is None
    worker = stack.auth(sub="gw-e2e", role="grid_worker", grid=camera["grid_code"])

    def task():
        resp = httpx.get(f"{sensing(stack)}/v1/verifications", params={"state": "pending", "limit": 1000},
                         headers=worker, timeout=30)
        resp.raise_for_status()
        return [t for t in resp.json()["items"] if t["group_id"] == group["id"]]

    (pending,) = stack.wait_for("the 核实 task", task)
    time.sleep(0.5)  # nothing became a ticket meanwhile
    assert groups(stack, camera, "piled_materials")[0]["report_id"] is None
    decided = httpx.post(f"{sensing(stack)}/v1/verifications/{pending['id']}/decision", headers=worker, timeout=30,
                         json={"outcome": "confirmed", "note": "现场确认"})
    assert decided.status_code == 200, decided.text
    group, ticket = case_of(stack, camera, "piled_materials")
    assert ticket["channel"] == "video_ai"


def test_gridgov_demo_sensing_drives_a_camera_and_a_sensor_round_the_loop_twice(stack):
    """``gridgov demo --sensing`` as a newcomer runs it: its own devices registered once, three repeats of the
    camera's alarm one group and one dispatched ticket of channel video_ai, the sensor's another (iot) until it
    clears; run again, the repeats attach to the open group and its ticket (no second case)."""
    urls = stack.urls
    lines: list[str] = []
    steps = run_sensing_demo(urls, stack.mint, timeout=60, out=lines.append)
    assert list(steps) == ["online", "alarms", "grouped", "dispatched", "sensor ticket", "resolved"], lines
    text = "\n".join(lines)
    first = re.search(r"group (\S+) ×(\d+) .*report (\S+)", text)
    ticket = re.search(r"ticket (\S+) \(video_ai\)", text)
    assert first and ticket and int(first[2]) == 3, text
    assert re.search(r"ticket \S+ \(iot\)", text), text

    again: list[str] = []
    run_sensing_demo(urls, stack.mint, timeout=60, out=again.append)
    second = re.search(r"group (\S+) ×(\d+) .*report (\S+)", "\n".join(again))
    assert (second[1], int(second[2]), second[3]) == (first[1], 6, first[3]), again
    assert f"ticket {ticket[1]} (video_ai)" in "\n".join(again)
    cases = [g for g in httpx.get(f"{urls.sensing}/v1/alarm-groups", params={"alarm_type": "exposed_garbage",
                                                                             "limit": 1000},
                                  headers=stack.auth(role="admin", sub="t")).json()["items"]
             if g["device_id"] == DEMO_CAMERA["device_id"]]
    assert len(cases) == 1


def test_racing_producers_on_two_instances_open_one_case_per_fingerprint(stack):
    sensors = [register(stack, "sensor", ["gas_concentration"]) for _ in range(4)]
    # The second instance consumes too (same groups), but must not take over the first's MQTT session.
    saved = {k: stack.env.pop(k) for k in [k for k in stack.env if k.startswith("GRIDGOV_SENSING_MQTT_")]}
    try:
        second = stack.start_extra("sensing")
    finally:
        stack.env.update(saved)
    urls = [sensing(stack), second]
    threads, per_thread = 8, 5
    barrier = threading.Barrier(threads)
    failures: list[str] = []
    headers = stack.auth(sub="gw-iot", role="device_gateway")

    def produce(i: int) -> None:
        with httpx.Client(timeout=60) as http:
            barrier.wait(30)
            for _ in range(per_thread):
                body = {"alarms": [sensor_alarm(s["device_id"], "gas_concentration", reading=12.0) for s in sensors]}
                resp = http.post(f"{urls[i % 2]}/v1/alarms", json=body, headers=headers)
                if resp.status_code != 202:
                    failures.append(resp.text)

    workers = [threading.Thread(target=produce, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not failures, failures[:3]
    expected = threads * per_thread
    for s in sensors:
        got = stack.wait_for(f"every alarm of {s['device_id']} counted",
                             lambda s=s: (g := groups(stack, s, "gas_concentration"))
                             and sum(x["count"] for x in g) >= expected and g)
        assert len(got) == 1, got  # one group per fingerprint
        assert got[0]["count"] == expected  # each alarm counted once
        _, ticket = case_of(stack, s, "gas_concentration")
        assert len(tickets_for(stack, got[0]["report_id"])) == 1
    stack.stop_extra()
