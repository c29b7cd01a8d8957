"""POST /v1/gb28181/notify: a video platform's alarm Notify becomes an alarm and a camera's Keepalive its
heartbeat, each answered with the MANSCDP Response; malformed XML is a 400 naming the element, ingest's refusals a
422 naming it, and the app never answers 5xx."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.sensing.tests.support import GRID_A, IN_A, bearer

ADMIN = bearer("admin")
GATEWAY = bearer("device_gateway")
XML = {"Content-Type": "Application/MANSCDP+xml"}
CHINA = timezone(timedelta(hours=8))
_serial = itertools.count(1)


def notify(device_id: str, sn: int, event: str = "exposed_garbage", *, at: datetime | None = None,
           extra: str = "", encoding: str = "UTF-8") -> bytes:
    """A GB/T 28181 alarm Notify (video, with the platform's algorithm code), its time in China local time."""
    moment = (at or datetime.now(UTC)).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S")
    return (f'<?xml version="1.0" encoding="{encoding}"?>\r\n<Notify>\r\n<CmdType>Alarm</CmdType>\r\n<SN>{sn}</SN>\r\n'
            f"<DeviceID>{device_id}</DeviceID>\r\n<AlarmPriority>3</AlarmPriority>\r\n<AlarmMethod>5</AlarmMethod>\r\n"
            f"<AlarmTime>{moment}</AlarmTime>\r\n<AlarmDescription>暴露垃圾</AlarmDescription>\r\n"
            f"<Info><AlarmType>11</AlarmType><AlarmTypeParam><EventType>{event}</EventType></AlarmTypeParam>"
            f"<Confidence>0.93</Confidence><SnapshotURL>https://vms.example.cn/snap/{sn}.jpg</SnapshotURL>{extra}"
            f"</Info>\r\n</Notify>\r\n").encode("gb18030" if encoding == "GB2312" else "utf-8")


@pytest.fixture(scope="module")
def camera(client) -> str:
    """A registered camera in grid A, with the garbage algorithm."""
    device_id = f"44190000001329{next(_serial):06d}"
    resp = client.post("/v1/devices", headers=ADMIN, json={
        "device_id": device_id, "kind": "camera", "name": "南城路口 GB 摄像机", "lon": IN_A[0], "lat": IN_A[1],
        "owner_department": "urban-management", "algorithms": ["exposed_garbage"]})
    assert resp.status_code == 201, resp.text
    return device_id


def groups_of(client, device_id: str) -> list[dict]:
    """The alarm groups of one device."""
    resp = client.get("/v1/alarm-groups", params={"grid": GRID_A, "limit": 1000}, headers=ADMIN)
    assert resp.status_code == 200, resp.text
    return [g for g in resp.json()["items"] if g["device_id"] == device_id]


def wait_for(probe, timeout: float = 15.0):
    """Poll until truthy (the grouping consumer runs in the app's threads)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.1)
    return probe()


def test_notify_answers_response_and_the_alarm_is_grouped(client, camera):
    resp = client.post("/v1/gb28181/notify", content=notify(camera, 4101), headers={**GATEWAY, **XML})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].lower().startswith("application/manscdp+xml")
    body = resp.text
    assert "<CmdType>Alarm</CmdType>" in body and "<SN>4101</SN>" in body
    assert f"<DeviceID>{camera}</DeviceID>" in body and "<Result>OK</Result>" in body
    groups = wait_for(lambda: groups_of(client, camera))
    assert [(g["alarm_type"], g["count"], g["kind"]) for g in groups] == [("exposed_garbage", 1, "video_ai")]


def test_resent_notify_counts_once_and_a_new_sn_repeats(client, camera):
    before = wait_for(lambda: groups_of(client, camera)) or [{"count": 0}]
    start = before[0]["count"]
    at = datetime.now(UTC) - timedelta(seconds=5)
    for _ in range(2):  # the platform resends the same Notify (no Response seen): the same alarm
        assert client.post("/v1/gb28181/notify", content=notify(camera, 4102, at=at),
                           headers={**GATEWAY, **XML}).status_code == 200
    assert client.post("/v1/gb28181/notify", content=notify(camera, 4103), headers={**GATEWAY, **XML},
                       ).status_code == 200
    groups = wait_for(lambda: (g := groups_of(client, camera)) and g[0]["count"] >= start + 2 and g)
    assert len(groups) == 1 and groups[0]["count"] == start + 2


def test_gb2312_notify_accepted(client, camera):
    resp = client.post("/v1/gb28181/notify", content=notify(camera, 4104, encoding="GB2312"),
                       headers={**GATEWAY, "Content-Type": "text/xml"})
    assert resp.status_code == 200 and "<Result>OK</Result>" in resp.text


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda x: x.replace(b"<CmdType>Alarm</CmdType>", b"<CmdType>Catalog</CmdType>"), "CmdType"),
    (lambda x: x.replace(b"<SN>", b"<SNX>").replace(b"</SN>", b"</SNX>"), "SN"),
    (lambda x: x[: len(x) // 2], "xml"),
    (lambda x: x.replace(b"<AlarmPriority>3", b"<AlarmPriority>9"), "AlarmPriority"),
    (lambda x: b'<!DOCTYPE n [<!ENTITY e "boom">]>' + x.split(b"?>", 1)[1], "xml"),
])
def test_malformed_notify_is_400_naming_the_element(client, camera, mutate, field):
    resp = client.post("/v1/gb28181/notify", content=mutate(notify(camera, 4200)), headers={**GATEWAY, **XML})
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "invalid_notify" and error["details"][0]["field"] == field


def test_unknown_camera_is_422_naming_device_id_and_nothing_stored(client):
    stranger = "44190000001329999999"
    resp = client.post("/v1/gb28181/notify", content=notify(stranger, 4300), headers={**GATEWAY, **XML})
    assert resp.status_code == 422, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["DeviceID"]
    assert groups_of(client, stranger) == []


def test_alarm_time_outside_the_window_names_alarm_time(client, camera):
    resp = client.post("/v1/gb28181/notify", content=notify(camera, 4301, at=datetime.now(UTC) + timedelta(hours=1)),
                       headers={**GATEWAY, **XML})
    assert resp.status_code in (400, 422), resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["AlarmTime"]


def test_unknown_algorithm_code_names_the_type_element(client, camera):
    resp = client.post("/v1/gb28181/notify", content=notify(camera, 4302, event="no_such_algorithm"),
                       headers={**GATEWAY, **XML})
    assert resp.status_code == 422, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["Info.AlarmType"]


def test_unmapped_video_alarm_answered_ok_and_ignored(client, camera):
    motion = notify(camera, 4400).replace(b"<AlarmTypeParam><EventType>exposed_garbage</EventType></AlarmTypeParam>",
                                          b"").replace(b"<AlarmType>11</AlarmType>", b"<AlarmType>2</AlarmType>")
    resp = client.post("/v1/gb28181/notify", content=motion, headers={**GATEWAY, **XML})
    assert resp.status_code == 200 and "<Result>OK</Result>" in resp.text
    assert resp.headers["X-Gridgov-Ignored"] == "Info.AlarmType"


def test_json_body_is_415_naming_content_type(client, camera):
    resp = client.post("/v1/gb28181/notify", json={"x": 1}, headers=GATEWAY)
    assert resp.status_code == 415 and resp.json()["error"]["details"][0]["field"] == "Content-Type"


@pytest.mark.parametrize("role", ["citizen", "grid_worker", "command_centre"])
def test_only_gateways_and_admin_may_notify(client, camera, role):
    resp = client.post("/v1/gb28181/notify", content=notify(camera, 4500), headers={**bearer(role), **XML})
    assert resp.status_code == 403
    assert client.post("/v1/gb28181/notify", content=notify(camera, 4501), headers=XML).status_code == 401


def test_malformed_notify_in_chinese(client, camera):
    resp = client.post("/v1/gb28181/notify", content=b"<Notify>", headers={**GATEWAY, **XML, "Accept-Language": "zh"})
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "GB/T 28181 通知格式错误"


def keepalive(device_id: str, sn: int, status: str = "OK") -> bytes:
    """A camera's GB/T 28181 Keepalive Notify."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>{sn}</SN>\r\n'
            f"<DeviceID>{device_id}</DeviceID>\r\n<Status>{status}</Status>\r\n</Notify>\r\n").encode()


def fresh_camera(client) -> str:
    """Another registered camera in grid A, never heard from."""
    device_id = f"44190000001329{next(_serial):06d}"
    resp = client.post("/v1/devices", headers=ADMIN, json={
        "device_id": device_id, "kind": "camera", "name": "南城路口保活摄像机", "lon": IN_A[0], "lat": IN_A[1],
        "algorithms": []})
    assert resp.status_code == 201, resp.text
    return device_id


def device(client, device_id: str) -> dict:
    """A device as the API reads it."""
    resp = client.get(f"/v1/devices/{device_id}", headers=ADMIN)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_keepalive_ok_records_the_heartbeat_and_is_answered(client):
    import xml.etree.ElementTree as ET

    cam = fresh_camera(client)
    assert device(client, cam)["online"] is False
    resp = client.post("/v1/gb28181/notify", content=keepalive(cam, 77), headers={**GATEWAY, **XML})
    assert resp.status_code == 200, resp.text
    answer = ET.fromstring(resp.content)
    assert [answer.findtext(t) for t in ("CmdType", "SN", "DeviceID", "Result")] == ["Keepalive", "77", cam, "OK"]
    assert "X-Gridgov-Ignored" not in resp.headers
    read = device(client, cam)
    assert read["online"] is True and read["heartbeat_at"] is not None


def test_keepalive_with_status_error_records_nothing(client):
    cam = fresh_camera(client)
    resp = client.post("/v1/gb28181/notify", content=keepalive(cam, 78, "ERROR"), headers={**GATEWAY, **XML})
    assert resp.status_code == 200 and "<Result>OK</Result>" in resp.text
    assert resp.headers["X-Gridgov-Ignored"] == "Status"
    assert device(client, cam)["heartbeat_at"] is None


def test_keepalive_of_an_unregistered_camera_is_422_naming_device_id_in_chinese(client):
    stranger = "44190000001329999998"
    resp = client.post("/v1/gb28181/notify", content=keepalive(stranger, 79),
                       headers={**GATEWAY, **XML, "Accept-Language": "zh"})
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert [d["field"] for d in error["details"]] == ["DeviceID"]
    assert error["message"] == "未登记设备的保活通知" and error["details"][0]["reason"] == "该设备未登记"
    assert client.get(f"/v1/devices/{stranger}", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    (keepalive("44190000001329000001", 80, "MAYBE"), "Status"),
    (keepalive("44190000001329000001", 80).replace(b"<Status>OK</Status>\r\n", b""), "Status"),
    (keepalive("4419", 80), "DeviceID"),
    (keepalive("44190000001329000001", 80).replace(b"<SN>80</SN>", b"<SN>x</SN>"), "SN"),
    (keepalive("44190000001329000001", 80).replace(b"Keepalive", b"Catalog"), "CmdType"),
    (keepalive("44190000001329000001", 80).replace(b"80", b"80\x00"), "body"),
])
def test_malformed_keepalive_is_400_naming_the_element(client, body, field):
    resp = client.post("/v1/gb28181/notify", content=body, headers={**GATEWAY, **XML})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["details"][0]["field"] == field


@pytest.mark.parametrize("role", ["citizen", "grid_worker", "command_centre"])
def test_only_gateways_and_admin_may_send_keepalives(client, role):
    cam = fresh_camera(client)
    assert client.post("/v1/gb28181/notify", content=keepalive(cam, 81),
                       headers={**bearer(role), **XML}).status_code == 403
    assert client.post("/v1/gb28181/notify", content=keepalive(cam, 82), headers=XML).status_code == 401
    assert client.post("/v1/gb28181/notify", content=keepalive(cam, 83), headers={**ADMIN, **XML}).status_code == 200
    assert device(client, cam)["online"] is True
