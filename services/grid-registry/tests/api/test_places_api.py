"""POST /v1/places/resolve and /v1/places/landmarks/import on the embedded stack (SQLite)."""

import pytest

from gridgov_grid_registry.grids.demo import DEMO_POINT, DEMO_VILLAGE_CODE
from gridgov_grid_registry.settings import RegistrySettings

STAFF = ("grid_worker", "dept_dispatcher", "command_centre", "admin")


@pytest.fixture
def settings(common_settings) -> RegistrySettings:
    return RegistrySettings(common=common_settings, database_url=None, run_consumers=False, announce_grids=False)


def resolve(client, token, address, role="command_centre", **headers):
    return client.post("/v1/places/resolve", json={"address": address}, headers={**token(role), **headers})


@pytest.mark.parametrize("role", STAFF)
def test_resolve_address_as_staff_gives_village(client, token, role):
    resp = resolve(client, token, "东莞市南城街道洲源社区宏图路3号", role)
    assert resp.status_code == 200
    body = resp.json()
    assert (body["status"], body["village_code"], body["town_name"]) == ("village_only", DEMO_VILLAGE_CODE, "南城街道")
    assert body["matched_text"] == "南城街道洲源社区" and body["confidence"] >= 0.9
    assert [m["level"] for m in body["matched"]] == ["town", "village"]
    assert body["lon"] and body["lat"]


def test_resolve_demo_landmark_from_seed(client, token):
    body = resolve(client, token, "虎门镇威远炮台").json()
    assert body["status"] == "located" and body["town_name"] == "虎门镇" and body["grid_code"]


@pytest.mark.parametrize(("role", "status"), [("citizen", 403), ("device_gateway", 403)])
def test_resolve_as_citizen_or_device_is_forbidden(client, token, role, status):
    assert resolve(client, token, "南城街道", role).status_code == status


def test_resolve_without_token_is_401(client):
    assert client.post("/v1/places/resolve", json={"address": "南城街道"}).status_code == 401


@pytest.mark.parametrize("body", [{}, {"address": ""}, {"address": "南" * 501}, {"address": 12},
                                  {"address": "南城\x00街道"}, {"address": None}, {"address": ["南城"]}])
def test_resolve_bad_address_is_422_naming_address(client, token, body):
    resp = client.post("/v1/places/resolve", json=body, headers=token("admin"))
    assert resp.status_code == 422
    assert any("address" in d["field"] for d in resp.json()["error"]["details"])


def test_resolve_bad_address_in_chinese_when_asked(client, token):
    resp = resolve(client, token, "", "admin", **{"Accept-Language": "zh"})
    assert resp.status_code == 422
    detail = resp.json()["error"]["details"][0]
    assert "address" in detail["field"] and any("\u4e00" <= ch <= "\u9fff" for ch in detail["reason"])


@pytest.mark.parametrize("address", ["hello", "Улица Ленина", "。", "某个不存在的地方"])
def test_resolve_unknown_address_is_unlocated(client, token, address):
    body = resolve(client, token, address).json()
    assert body["status"] == "unlocated" and body["town_code"] is None and body["confidence"] < 0.5


CSV = "name,aliases,kind,lon,lat\n测试大厦,测试楼|测大,landmark,{lon},{lat}\n"


def test_import_landmarks_then_resolve_them(client, token):
    lon, lat = DEMO_POINT
    resp = client.post("/v1/places/landmarks/import", content=CSV.format(lon=lon, lat=lat).encode(),
                       headers={**token("admin"), "Content-Type": "text/csv"})
    assert resp.status_code == 201 and resp.json() == {"created": 1, "updated": 0}
    body = resolve(client, token, "测试楼12层").json()
    assert body["status"] == "located" and body["grid_code"] == "441900004003002"
    again = client.post("/v1/places/landmarks/import", content=CSV.format(lon=lon, lat=lat).encode(),
                        headers={**token("admin"), "Content-Type": "text/csv"})
    assert again.json() == {"created": 0, "updated": 1}


@pytest.mark.parametrize(("text", "field"), [
    ("name,aliases,kind,lon,lat\n好地方,,landmark,113.75,23.02\n坏地方,,shop,113.75,23.02\n", "line 3: kind"),
    ("name,aliases,kind,lon,lat\n远处,,landmark,120.0,30.0\n", "line 2: lon"),
    ("name,aliases,kind,lon,lat\n坏点,,road,abc,23.02\n", "line 2: lon"),
    ("name,aliases,kind,lon,lat\n坏点,,road,113.75,95\n", "line 2: lat"),
    ("name,aliases,kind,lon\n坏点,,road,113.75\n", "line 1: lat"),
    ("name,aliases,kind,lon,lat,town\n错镇,,road,113.75,23.02,虎门镇\n", "line 2: town"),
    ("name,aliases,kind,lon,lat\n同名,,road,113.75,23.02\n同名,,road,113.75,23.02\n", "line 3: name"),
    ("name,aliases,kind,lon,lat\n短,,road,113.75,23.02\n", "line 2: name"),
])
def test_import_bad_csv_is_422_naming_line_and_column_and_stores_nothing(client, token, text, field):
    resp = client.post("/v1/places/landmarks/import", content=text.encode(),
                       headers={**token("admin"), "Content-Type": "text/csv", "Accept-Language": "zh"})
    assert resp.status_code == 422, resp.text
    assert field in [d["field"] for d in resp.json()["error"]["details"]]
    cjk = resp.json()["error"]["message"] + next(d["reason"] for d in resp.json()["error"]["details"]
                                                 if d["field"] == field)
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in cjk) >= 4  # asked in Chinese, answered in Chinese
    assert resolve(client, token, "好地方").json()["status"] == "unlocated"


def test_import_not_csv_or_not_utf8_is_refused(client, token):
    headers = token("admin")
    assert client.post("/v1/places/landmarks/import", json={"a": 1}, headers=headers).status_code == 415
    resp = client.post("/v1/places/landmarks/import", content="名".encode("gbk"),
                       headers={**headers, "Content-Type": "text/csv"})
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "body"


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("citizen", 403), ("device_gateway", 403),
                                              ("grid_worker", 403), ("dept_dispatcher", 403),
                                              ("command_centre", 403)])
def test_import_landmarks_only_admin(client, token, role, status):
    headers = {"Content-Type": "text/csv", **(token(role) if role else {})}
    assert client.post("/v1/places/landmarks/import", content=CSV.format(lon=113.75, lat=23.02).encode(),
                       headers=headers).status_code == status
