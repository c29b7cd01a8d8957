"""A device that falls silent raises its offline alarm, and its next heartbeat resolves it (issue #16,
``devices/offline.py``), end to end on each stack: sensing's own sweep in a running process (a 10 s online window and
a 1 s sweep, so a test can wait for them), the alarm through the bus to the grouping consumer, the heartbeat by the
GB/T 28181 Keepalive a video platform sends and by a gateway's round.

Its own stack of grid-registry and sensing per kind: a short online window would make every other test's devices
go offline.
"""

from __future__ import annotations

import itertools
import time

import httpx
import pytest

from gridgov_cli.demo import DEMO_POINT
from tests.e2e.conftest import stack_of, stack_params

pytestmark = pytest.mark.e2e

WINDOW_S = 10
XML = {"Content-Type": "Application/MANSCDP+xml"}
_serial = itertools.count(1)


@pytest.fixture(scope="module", params=stack_params())
def stack(request, tmp_path_factory):
    """grid-registry and sensing, with an online window a test can wait out."""
    s = stack_of(request.param, tmp_path_factory.mktemp(f"offline-{request.param}"),
                 extra_env={"GRIDGOV_SENSING_ONLINE_WINDOW_S": str(WINDOW_S), "GRIDGOV_SENSING_SWEEP_INTERVAL_S": "1"})
    try:
        s.start(["grid-registry", "sensing"])
        yield s
    finally:
        s.close()


def admin(stack) -> dict[str, str]:
    return stack.auth(sub="admin-1", role="admin")


def gateway(stack) -> dict[str, str]:
    return stack.auth(sub="vms-1", role="device_gateway")


def register(stack, kind: str) -> str:
    """A device of this test's own at the demo point."""
    n = next(_serial)
    device_id = f"44190000001328{n:06d}" if kind == "camera" else f"IOT-offline-{n}"
    resp = httpx.post(f"{stack.url('sensing')}/v1/devices", headers=admin(stack), timeout=30, json={
        "device_id": device_id, "kind": kind, "name": f"离线测试 {kind} {n}", "lon": DEMO_POINT[0],
        "lat": DEMO_POINT[1], "owner_department": "urban-management", "algorithms": []})
    assert resp.status_code == 201, resp.text
    return device_id


def keepalive(stack, device_id: str, sn: int) -> None:
    """A camera's GB/T 28181 Keepalive, as its video platform sends it."""
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Notify><CmdType>Keepalive</CmdType><SN>{sn}</SN>'
            f"<DeviceID>{device_id}</DeviceID><Status>OK</Status></Notify>").encode()
    resp = httpx.post(f"{stack.url('sensing')}/v1/gb28181/notify", content=body, headers={**gateway(stack), **XML},
                      timeout=30)
    assert resp.status_code == 200 and "<Result>OK</Result>" in resp.text, resp.text


def round_of(stack, *device_ids: str) -> None:
    """A gateway's round of heartbeats."""
    resp = httpx.post(f"{stack.url('sensing')}/v1/devices/heartbeats", json={"device_ids": list(device_ids)},
                      headers=gateway(stack), timeout=30)
    assert resp.status_code == 200 and resp.json()["recorded"] == len(device_ids), resp.text


def offline_groups(stack, device_id: str) -> list[dict]:
    """The device's offline alarm groups, open or not."""
    resp = httpx.get(f"{stack.url('sensing')}/v1/alarm-groups", headers=admin(stack), timeout=30,
                     params={"limit": 1000})
    resp.raise_for_status()
    return [g for g in resp.json()["items"]
            if g["device_id"] == device_id and g["alarm_type"] in ("camera_offline", "sensor_offline")]


def test_a_silent_camera_and_sensor_raise_one_offline_alarm_each_and_their_heartbeats_resolve_them(stack):
    never = register(stack, "camera")  # registered, never heard from: offline on the map, no alarm
    camera, sensor = register(stack, "camera"), register(stack, "sensor")
    keepalive(stack, camera, 1)
    round_of(stack, sensor)
    # each silent device once, however many sweeps run (the first window after the start raises nothing at all)
    opened = stack.wait_for("both offline alarms grouped", lambda: (
        (c := offline_groups(stack, camera)) and (s := offline_groups(stack, sensor)) and (c, s)),
        timeout=WINDOW_S * 6)
    (cam_groups, sensor_groups) = opened
    assert [(g["alarm_type"], g["state"], g["is_open"]) for g in cam_groups] == [("camera_offline", "recorded", True)]
    assert [(g["alarm_type"], g["state"], g["is_open"]) for g in sensor_groups] == [
        ("sensor_offline", "recorded", True)]
    time.sleep(3)  # three more sweeps
    assert [g["count"] for g in offline_groups(stack, camera)] == [1]
    assert offline_groups(stack, never) == []

    keepalive(stack, camera, 2)  # the camera is back: its group closes as resolved
    closed = stack.wait_for("the camera's offline group resolved", lambda: (
        (g := offline_groups(stack, camera)) and not g[0]["is_open"] and g), timeout=30)
    assert [(g["state"], g["is_open"]) for g in closed] == [("resolved", False)]
    assert [g["is_open"] for g in offline_groups(stack, sensor)] == [True]  # still silent
    round_of(stack, sensor)
    stack.wait_for("the sensor's offline group resolved", lambda: (
        (g := offline_groups(stack, sensor)) and g[0]["state"] == "resolved"), timeout=30)
