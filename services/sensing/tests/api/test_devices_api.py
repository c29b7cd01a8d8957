"""The device registry over HTTP: register and move (the grid looked up once, in grid-registry), the map's GeoJSON
page, the bulk import (all or nothing), heartbeats and online state, and who may do what."""

from __future__ import annotations

import itertools
import json

import pytest

from services.sensing.tests.support import GRID_A, GRID_B, IN_A, IN_B, NOWHERE, TOWN, VILLAGE, bearer

ADMIN = bearer("admin")
_serial = itertools.count(1)


def camera_id() -> str:
    """A fresh 20-digit GB/T 28181 camera id (东莞 441900, type 132)."""
    return f"44190000001320{next(_serial):06d}"


def camera(device_id: str | None = None, at: tuple[float, float] = IN_A, **more) -> dict:
    """A camera's registration body."""
    return {"device_id": device_id or camera_id(), "kind": "camera", "name": "南城路口1号", "lon": at[0],
            "lat": at[1], "owner_department": "urban-management", "algorithms": ["exposed_garbage"], **more}


def fields(resp) -> list[str]:
    """The fields an error answer names."""
    return [d["field"] for d in resp.json()["error"]["details"]]


def test_register_camera_places_it_in_its_grid_once(client, registry):
    calls = len(registry.calls)
    body = camera()
    resp = client.post("/v1/devices", json=body, headers=ADMIN)
    assert resp.status_code == 201, resp.text
    device = resp.json()
    assert (device["grid_code"], device["village_code"], device["town_code"]) == (GRID_A, VILLAGE, TOWN)
    assert device["online"] is False and device["heartbeat_at"] is None
    assert registry.calls[calls:] == [[list(IN_A)]]  # one lookup, of the device's own point
    assert registry.tokens[-1] == "Bearer registry-token"
    got = client.get(f"/v1/devices/{body['device_id']}", headers=bearer("command_centre"))
    assert got.status_code == 200 and got.json()["algorithms"] == ["exposed_garbage"]


def test_register_device_outside_every_grid_names_lon_and_stores_nothing(client):
    body = camera(at=NOWHERE)
    resp = client.post("/v1/devices", json=body, headers=ADMIN)
    assert resp.status_code == 422 and fields(resp) == ["lon"]
    assert client.get(f"/v1/devices/{body['device_id']}", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(("change", "field"), [
    ({"device_id": "1234"}, "device_id"),  # a camera's id has 20 digits
    ({"algorithms": ["exposed_garbage", "no_such_type"]}, "algorithms[1]"),
    ({"lon": "113.7"}, "lon"),  # a string is not a number
    ({"kind": "drone"}, "kind"),
])
def test_register_bad_device_names_the_field(client, change, field):
    resp = client.post("/v1/devices", json=camera(**change) if "device_id" not in change else
                       {**camera(), **change}, headers=ADMIN)
    assert resp.status_code == 422, resp.text
    assert field in fields(resp)


def test_register_refusal_is_in_chinese_when_asked(client):
    resp = client.post("/v1/devices", json=camera(at=NOWHERE), headers={**ADMIN, "Accept-Language": "zh-CN"})
    assert resp.status_code == 422 and fields(resp) == ["lon"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.json()["error"]["message"])


def test_register_same_device_twice_conflicts(client):
    body = camera()
    assert client.post("/v1/devices", json=body, headers=ADMIN).status_code == 201
    assert client.post("/v1/devices", json=body, headers=ADMIN).status_code == 409


def test_register_while_grid_registry_is_down_answers_503(client, registry):
    registry.down = True
    try:
        resp = client.post("/v1/devices", json=camera(), headers=ADMIN)
    finally:
        registry.down = False
    assert resp.status_code == 503 and "Retry-After" in resp.headers


def test_move_device_looks_its_grid_up_again_and_a_rename_does_not(client, registry):
    body = camera()
    client.post("/v1/devices", json=body, headers=ADMIN)
    update = {k: v for k, v in body.items() if k not in ("device_id", "kind")}
    calls = len(registry.calls)
    renamed = client.put(f"/v1/devices/{body['device_id']}", json={**update, "name": "改名"}, headers=ADMIN)
    assert renamed.status_code == 200 and renamed.json()["name"] == "改名"
    assert len(registry.calls) == calls  # same position: no lookup
    moved = client.put(f"/v1/devices/{body['device_id']}", json={**update, "lon": IN_B[0], "lat": IN_B[1]},
                       headers=ADMIN)
    assert moved.status_code == 200 and moved.json()["grid_code"] == GRID_B
    assert registry.calls[calls:] == [[list(IN_B)]]
    nowhere = client.put(f"/v1/devices/{body['device_id']}", json={**update, "lon": NOWHERE[0], "lat": NOWHERE[1]},
                         headers=ADMIN)
    assert nowhere.status_code == 422 and fields(nowhere) == ["lon"]
    assert client.get(f"/v1/devices/{body['device_id']}", headers=ADMIN).json()["grid_code"] == GRID_B


def test_heartbeat_makes_a_device_online_for_gateways_and_admin_only(client):
    body = camera()
    client.post("/v1/devices", json=body, headers=ADMIN)
    path = f"/v1/devices/{body['device_id']}/heartbeat"
    assert client.post(path, headers=bearer("grid_worker", grid=GRID_A)).status_code == 403
    assert client.post(path).status_code == 401
    resp = client.post(path, headers=bearer("device_gateway"))
    assert resp.status_code == 200 and resp.json()["online"] is True
    assert client.get(f"/v1/devices/{body['device_id']}", headers=ADMIN).json()["online"] is True
    assert client.post(f"/v1/devices/{camera_id()}/heartbeat", headers=bearer("device_gateway")).status_code == 404


def test_device_gateway_reads_and_registers_no_device(client):
    gateway = bearer("device_gateway")
    assert client.get("/v1/devices", headers=gateway).status_code == 403
    assert client.post("/v1/devices", json=camera(), headers=gateway).status_code == 403
    assert client.get("/v1/alarm-types", headers=gateway).status_code == 403


def _csv(rows: list[dict]) -> bytes:
    lines = ["device_id,kind,name,lon,lat,owner_department,algorithms"]
    lines += [f"{r['device_id']},{r['kind']},{r['name']},{r['lon']},{r['lat']},{r.get('owner_department', '')},"
              f"{';'.join(r.get('algorithms', []))}" for r in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def _import(client, body: bytes, content_type: str = "text/csv"):
    return client.post("/v1/devices/import", content=body, headers={**ADMIN, "Content-Type": content_type})


def test_import_csv_registers_then_replaces_devices(client):
    rows = [camera(), camera(at=IN_B), {"device_id": f"IOT-manhole-{next(_serial)}", "kind": "sensor",
                                        "name": "井盖", "lon": IN_B[0], "lat": IN_B[1],
                                        "algorithms": ["manhole_displaced"]}]
    resp = _import(client, _csv(rows))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"imported": 3, "updated": 0}
    sensor = client.get(f"/v1/devices/{rows[2]['device_id']}", headers=ADMIN).json()
    assert (sensor["kind"], sensor["grid_code"], sensor["algorithms"]) == ("sensor", GRID_B, ["manhole_displaced"])
    rows[0]["name"] = "新名字"
    assert _import(client, _csv(rows[:1])).json() == {"imported": 0, "updated": 1}
    assert client.get(f"/v1/devices/{rows[0]['device_id']}", headers=ADMIN).json()["name"] == "新名字"


@pytest.mark.parametrize(("bad", "field"), [
    ({"lon": NOWHERE[0], "lat": NOWHERE[1]}, "rows[1].lon"),  # in no grid
    ({"lon": "east"}, "rows[1].lon"),
    ({"device_id": "12"}, "rows[1].device_id"),
    ({"algorithms": ["nope"]}, "rows[1].algorithms[0]"),
])
def test_import_with_one_bad_row_imports_nothing_and_names_it(client, bad, field):
    rows = [camera(), {**camera(), **bad}, camera()]
    before = client.get("/v1/devices", params={"limit": 1}, headers=ADMIN).json()["total"]
    resp = _import(client, _csv(rows))
    assert resp.status_code == 422, resp.text
    assert field in fields(resp)
    assert client.get("/v1/devices", params={"limit": 1}, headers=ADMIN).json()["total"] == before
    assert client.get(f"/v1/devices/{rows[0]['device_id']}", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(("body", "content_type", "status", "field"), [
    (b"device_id,kind\n1,camera\n", "text/csv", 422, "header"),
    (b"", "text/csv", 422, "header"),
    (b"{not json", "application/geo+json", 422, "body"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString", '
     b'"coordinates": [[1, 2], [3, 4]]}, "properties": {}}]}', "application/geo+json", 422, "features[0].geometry"),
    (b"<xml/>", "application/xml", 415, "Content-Type"),
])
def test_import_malformed_file_names_the_field(client, body, content_type, status, field):
    resp = _import(client, body, content_type)
    assert resp.status_code == status, resp.text
    assert fields(resp) == [field]


def test_import_geojson_of_the_map_page_imports_back(client):
    rows = [camera(at=IN_B), camera(at=IN_B)]
    assert _import(client, _csv(rows)).status_code == 200
    page = client.get("/v1/devices", params={"grid": GRID_B, "limit": 5000}, headers=ADMIN).json()
    mine = [f for f in page["features"] if f["id"] in {r["device_id"] for r in rows}]
    assert len(mine) == 2
    again = _import(client, json.dumps({"type": "FeatureCollection", "features": mine}).encode(),
                    "application/geo+json")
    assert again.status_code == 200 and again.json() == {"imported": 0, "updated": 2}


def test_list_devices_as_geojson_by_box_kind_and_online_with_total_and_truncation(client):
    east = [camera(at=(113.7191, 23.0091)), camera(at=(113.7192, 23.0092)), camera(at=(113.7193, 23.0093))]
    assert _import(client, _csv(east)).status_code == 200
    box = {"bbox": "113.719,23.009,113.72,23.01"}
    page = client.get("/v1/devices", params={**box, "limit": 2}, headers=bearer("grid_worker", grid=GRID_B))
    assert page.status_code == 200 and page.headers["content-type"].startswith("application/geo+json")
    doc = page.json()
    assert (doc["type"], doc["total"], doc["truncated"], len(doc["features"])) == ("FeatureCollection", 3, True, 2)
    feature = doc["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [113.7191, 23.0091]}
    assert feature["properties"]["grid_code"] == GRID_B and feature["properties"]["online"] is False
    rest = client.get("/v1/devices", params={**box, "limit": 2, "offset": 2}, headers=ADMIN).json()
    assert ([f["id"] for f in rest["features"]], rest["truncated"]) == ([east[2]["device_id"]], False)
    client.post(f"/v1/devices/{east[1]['device_id']}/heartbeat", headers=bearer("device_gateway"))
    online = client.get("/v1/devices", params={**box, "online": "true"}, headers=ADMIN).json()
    offline = client.get("/v1/devices", params={**box, "online": "false"}, headers=ADMIN).json()
    assert [f["id"] for f in online["features"]] == [east[1]["device_id"]]
    assert {f["id"] for f in offline["features"]} == {east[0]["device_id"], east[2]["device_id"]}
    assert client.get("/v1/devices", params={**box, "kind": "sensor"}, headers=ADMIN).json()["total"] == 0


@pytest.mark.parametrize(("params", "field"), [
    ({"bbox": "1,2,3"}, "bbox"), ({"bbox": "10,0,5,1"}, "bbox"), ({"limit": 5001}, "limit"),
    ({"offset": -1}, "offset"), ({"online": "maybe"}, "online"), ({"grid": "x"}, "grid"),
])
def test_list_devices_bad_query_names_the_parameter(client, params, field):
    resp = client.get("/v1/devices", params=params, headers=ADMIN)
    assert resp.status_code == 422 and fields(resp) == [field]


def test_alarm_types_are_seeded_and_an_admin_tunes_one(client):
    items = {t["code"]: t for t in client.get("/v1/alarm-types", headers=bearer("grid_worker", grid=GRID_A))
             .json()["items"]}
    assert {"exposed_garbage", "manhole_displaced", "street_vending"} <= set(items)
    change = {k: v for k, v in items["street_vending"].items() if k not in ("code", "updated_at")}
    change.update(dedupe_window="2h", case_policy="verify_first", min_confidence=0.9)
    assert client.put("/v1/alarm-types/street_vending", json=change,
                      headers=bearer("command_centre")).status_code == 403
    resp = client.put("/v1/alarm-types/street_vending", json=change, headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert (resp.json()["dedupe_window"], resp.json()["case_policy"]) == ("2h", "verify_first")
    stored = {t["code"]: t for t in client.get("/v1/alarm-types", headers=ADMIN).json()["items"]}
    assert stored["street_vending"]["dedupe_window"] == "2h"


@pytest.mark.parametrize(("change", "field"), [
    ({"dedupe_window": "90x"}, "dedupe_window"), ({"dedupe_window": "31d"}, "dedupe_window"),
    ({"flap_window": 3600}, "flap_window"), ({"catalog_code": "99999"}, "catalog_code"),
    ({"fingerprint_fields": ["device_id", "colour"]}, "fingerprint_fields.1"),
    ({"case_policy": "sometimes"}, "case_policy"),
])
def test_alarm_type_bad_change_names_the_field(client, change, field):
    current = next(t for t in client.get("/v1/alarm-types", headers=ADMIN).json()["items"]
                   if t["code"] == "manhole_displaced")
    body = {**{k: v for k, v in current.items() if k not in ("code", "updated_at")}, **change}
    resp = client.put("/v1/alarm-types/manhole_displaced", json=body, headers=ADMIN)
    assert resp.status_code == 422, resp.text
    assert fields(resp) == [field]


def test_alarm_type_bad_change_says_why_in_chinese_when_asked_and_changes_nothing(client):
    current = next(t for t in client.get("/v1/alarm-types", headers=ADMIN).json()["items"]
                   if t["code"] == "street_vending")
    body = {**{k: v for k, v in current.items() if k not in ("code", "updated_at")},
            "dedupe_window": "90x", "flap_window": "31d"}
    resp = client.put("/v1/alarm-types/street_vending", json=body, headers={**ADMIN, "Accept-Language": "zh-CN"})
    assert resp.status_code == 422, resp.text
    reasons = {d["field"]: d["reason"] for d in resp.json()["error"]["details"]}
    assert reasons == {"dedupe_window": "取值无效：时长应为整数加单位 s（秒）、m（分钟）、h（小时）或 d（天），如 30m",
                       "flap_window": "取值无效：时长最多 30 天"}
    after = next(t for t in client.get("/v1/alarm-types", headers=ADMIN).json()["items"]
                 if t["code"] == "street_vending")
    assert after == current


def test_change_unknown_alarm_type_is_not_found(client):
    current = client.get("/v1/alarm-types", headers=ADMIN).json()["items"][0]
    body = {k: v for k, v in current.items() if k not in ("code", "updated_at")}
    assert client.put("/v1/alarm-types/no_such_type", json=body, headers=ADMIN).status_code == 404


def _registered(client, n: int) -> list[str]:
    """``n`` fresh cameras registered in grid A, never heard from."""
    ids = []
    for _ in range(n):
        body = camera()
        assert client.post("/v1/devices", json=body, headers=ADMIN).status_code == 201
        ids.append(body["device_id"])
    return ids


def _online(client, device_id: str) -> bool:
    return client.get(f"/v1/devices/{device_id}", headers=ADMIN).json()["online"]


def test_a_gateways_round_of_heartbeats_puts_its_devices_online_and_names_the_unknown(client):
    ids = _registered(client, 3)
    stranger = camera_id()
    resp = client.post("/v1/devices/heartbeats", headers=bearer("device_gateway"),
                       json={"device_ids": [ids[0], stranger, ids[1], ids[0], ids[2]]})
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert (answer["recorded"], answer["unknown_count"], answer["unknown"]) == (3, 1, [stranger])
    assert all(_online(client, i) for i in ids)
    assert client.get(f"/v1/devices/{stranger}", headers=ADMIN).status_code == 404  # named, not registered


def test_heartbeats_are_for_gateways_and_admin_only(client):
    (device_id,) = _registered(client, 1)
    body = {"device_ids": [device_id]}
    assert client.post("/v1/devices/heartbeats", json=body).status_code == 401
    for role in ("citizen", "grid_worker", "dept_dispatcher", "command_centre"):
        assert client.post("/v1/devices/heartbeats", json=body, headers=bearer(role)).status_code == 403, role
    assert not _online(client, device_id)
    assert client.post("/v1/devices/heartbeats", json=body, headers=ADMIN).json()["recorded"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"device_ids": []}, "device_ids"),
    ({"device_ids": ["CAM-1"] * 5001}, "device_ids"),
    ({"device_ids": "CAM-1"}, "device_ids"),
    ({"device_ids": ["CAM-1", "bad id!"]}, "device_ids.1"),
    ({"device_ids": ["CAM-1", "CAM\x002"]}, "device_ids.1"),
    ({"device_ids": ["CAM-1", 7]}, "device_ids.1"),
    ({"device_ids": ["CAM-1", "x" * 65]}, "device_ids.1"),
    ({"device_ids": ["CAM-1"], "at": "2099-01-01T00:00:00Z"}, "at"),
    ({}, "device_ids"),
])
def test_a_bad_round_of_heartbeats_names_the_field_and_records_nothing(client, body, field):
    (device_id,) = _registered(client, 1)
    if isinstance(body.get("device_ids"), list) and 0 < len(body["device_ids"]) < 10:  # with a real device
        body = {**body, "device_ids": [device_id, *body["device_ids"][1:]]}
    resp = client.post("/v1/devices/heartbeats", json=body, headers={**bearer("device_gateway"),
                                                                     "Accept-Language": "zh-CN"})
    assert resp.status_code == 422, resp.text
    assert field in fields(resp)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.json()["error"]["message"])
    assert not _online(client, device_id)


def test_a_spread_page_samples_every_place_and_pages_still_do_not_overlap(client):
    # ids that begin with their place, as GB/T 28181 ids begin with their centre's code
    mine = [f"SPREAD{town}-{serial:06d}" for town in (1, 2) for serial in range(1, 6)]
    for device_id in mine:
        body = {**camera(), "device_id": device_id, "kind": "sensor", "algorithms": []}
        assert client.post("/v1/devices", json=body, headers=ADMIN).status_code == 201
    staff = bearer("command_centre")
    by_id = [f["id"] for f in client.get("/v1/devices", params={"limit": 5000}, headers=staff).json()["features"]]
    assert [i for i in by_id if i in mine] == mine  # by id: every device of town 1 first
    spread = [f["id"] for f in client.get("/v1/devices", params={"limit": 5000, "spread": "true"},
                                          headers=staff).json()["features"]]
    assert [i for i in spread if i in mine][:4] == ["SPREAD1-000001", "SPREAD2-000001", "SPREAD1-000002",
                                                    "SPREAD2-000002"]  # by the serial end: both towns at once
    pages = []
    for offset in range(0, len(spread), 7):
        page = client.get("/v1/devices", params={"limit": 7, "offset": offset, "spread": "true"}, headers=staff)
        pages += [f["id"] for f in page.json()["features"]]
    assert pages == spread and len(set(pages)) == len(pages)
    assert client.get("/v1/devices", params={"spread": "sometimes"}, headers=staff).status_code == 422


def test_device_presence_counts_online_per_area_the_worst_first(tmp_path):
    from services.sensing.tests.support import FakeRegistry, sensing_client

    with sensing_client(tmp_path, FakeRegistry()) as app:
        in_a = [f"PRESENCE-A-{i}" for i in range(4)]
        in_b = ["PRESENCE-B-0", "PRESENCE-B-1"]
        for device_id in in_a + in_b:
            at = IN_A if device_id in in_a else IN_B
            body = {**camera(at=at), "device_id": device_id, "kind": "sensor", "algorithms": []}
            assert app.post("/v1/devices", json=body, headers=ADMIN).status_code == 201
        assert app.post("/v1/devices/heartbeats", json={"device_ids": in_a[:3]},
                        headers=bearer("device_gateway")).json()["recorded"] == 3
        centre = bearer("command_centre")
        by_grid = app.get("/v1/stats/device-presence", params={"by": "grid"}, headers=centre)
        assert by_grid.status_code == 200, by_grid.text
        body = by_grid.json()
        assert (body["total"], body["online"], body["offline"], body["rate"]) == (6, 3, 3, 0.5)
        assert [(a["code"], a["total"], a["online"], a["offline"], a["rate"]) for a in body["areas"]] == [
            (GRID_B, 2, 0, 2, 0.0), (GRID_A, 4, 3, 1, 0.75)]  # the dark grid first
        by_town = app.get("/v1/stats/device-presence", headers=centre).json()
        assert by_town["by"] == "town" and [(a["code"], a["total"]) for a in by_town["areas"]] == [(TOWN, 6)]
        inside = app.get("/v1/stats/device-presence", params={"by": "grid", "village": VILLAGE, "town": TOWN},
                         headers=centre).json()
        assert inside["total"] == 6
        elsewhere = app.get("/v1/stats/device-presence", params={"village": "441900002001"}, headers=centre).json()
        assert (elsewhere["total"], elsewhere["rate"], elsewhere["areas"]) == (0, None, [])
        assert app.get("/v1/stats/device-presence", params={"kind": "camera"}, headers=centre).json()["total"] == 0
        assert app.get("/v1/stats/device-presence", headers=ADMIN).status_code == 200
        assert app.get("/v1/stats/device-presence").status_code == 401
        for role in ("grid_worker", "dept_dispatcher", "device_gateway", "citizen"):
            assert app.get("/v1/stats/device-presence", headers=bearer(role)).status_code == 403, role


@pytest.mark.parametrize(("params", "field"), [
    ({"by": "county"}, "by"),
    ({"town": "4419000011"}, "town"),
    ({"village": "abc"}, "village"),
    ({"town": "441900001\x00"}, "town"),
    ({"kind": "drone"}, "kind"),
])
def test_device_presence_bad_parameters_are_named_in_chinese(client, params, field):
    resp = client.get("/v1/stats/device-presence", params=params,
                      headers={**bearer("command_centre"), "Accept-Language": "zh-CN"})
    assert resp.status_code == 422, resp.text
    assert field in fields(resp)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.json()["error"]["message"])


def test_the_device_list_filters_by_village_and_town(client):
    staff = bearer("command_centre")
    _registered(client, 2)  # run alone (or first) the module's other devices are not there
    every = client.get("/v1/devices", params={"limit": 1}, headers=staff).json()["total"]
    assert every > 0
    assert client.get("/v1/devices", params={"village": VILLAGE, "town": TOWN, "limit": 1},
                      headers=staff).json()["total"] == every  # the fake registry's one village
    assert client.get("/v1/devices", params={"village": "441900002001"}, headers=staff).json()["total"] == 0
    assert client.get("/v1/devices", params={"town": "441900002"}, headers=staff).json()["total"] == 0
    for params, field in (({"village": "abc"}, "village"), ({"town": "4419000010"}, "town")):
        resp = client.get("/v1/devices", params=params, headers=staff)
        assert resp.status_code == 422 and field in fields(resp)
