import pytest

from gridgov_common.auth import ROLES
from gridgov_grid_registry.grids.demo import DEMO_GRID_CODE, DEMO_POINT, DEMO_VERSION, OUTSIDE_POINT
from gridgov_grid_registry.settings import RegistrySettings

LON, LAT = DEMO_POINT


@pytest.fixture
def settings(common_settings) -> RegistrySettings:
    # HTTP only: without the consumer the app stops at once (the consumer's poll would hold each test 0.5 s).
    return RegistrySettings(common=common_settings, database_url=None, run_consumers=False)


@pytest.mark.parametrize("role", ROLES)
def test_locate_demo_point_returns_demo_grid_for_any_role(client, token, role):
    resp = client.get("/v1/locate", params={"lon": LON, "lat": LAT}, headers=token(role))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "status": "located",
        "grid_code": DEMO_GRID_CODE, "grid_name": "宏伟社区第1网格",
        "village_code": "441900004002", "village_name": "宏伟社区",
        "town_code": "441900004", "town_name": "南城街道",
        "grid_set_version": DEMO_VERSION,
    }


def test_locate_point_outside_city_is_unlocated(client, token):
    lon, lat = OUTSIDE_POINT
    body = client.get("/v1/locate", params={"lon": lon, "lat": lat}, headers=token("citizen")).json()
    assert body["status"] == "unlocated"
    assert body["grid_code"] is None and body["town_code"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 181, "lat": LAT}, "lon"),
        ({"lon": -180.5, "lat": LAT}, "lon"),
        ({"lon": "nan", "lat": LAT}, "lon"),
        ({"lon": "east", "lat": LAT}, "lon"),
        ({"lat": LAT}, "lon"),
        ({"lon": LON, "lat": 90.01}, "lat"),
    ],
)
def test_locate_bad_coordinate_is_422_naming_field(client, token, params, field):
    resp = client.get("/v1/locate", params=params, headers=token("grid_worker"))
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["code"] == "validation_failed"
    assert [d["field"] for d in error["details"]] == [field]


def test_locate_without_token_is_401(client):
    resp = client.get("/v1/locate", params={"lon": LON, "lat": LAT})
    assert resp.status_code == 401
    assert resp.json()["error"]["details"][0]["field"] == "Authorization"


def test_locate_with_forged_token_is_401(client):
    resp = client.get("/v1/locate", params={"lon": LON, "lat": LAT}, headers={"Authorization": "Bearer x.y.z"})
    assert resp.status_code == 401


def test_list_grids_returns_geojson_of_24_grids(client, token):
    resp = client.get("/v1/grids", params={"level": "grid"}, headers=token("command_centre"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    assert body["grid_set_version"] == DEMO_VERSION
    features = body["features"]
    assert len(features) == 24
    assert [f["id"] for f in features] == sorted(f["id"] for f in features)
    demo = next(f for f in features if f["id"] == DEMO_GRID_CODE)
    assert demo["type"] == "Feature"
    assert demo["properties"] == {"code": DEMO_GRID_CODE, "name": "宏伟社区第1网格", "level": "grid",
                                  "parent": "441900004002"}
    assert demo["geometry"]["type"] == "MultiPolygon"
    ring = demo["geometry"]["coordinates"][0][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert min(lons) < LON < max(lons) and min(lats) < LAT < max(lats)


@pytest.mark.parametrize(("level", "count"), [("town", 3), ("village", 6), (None, 33)])
def test_list_grids_by_level_returns_that_level(client, token, level, count):
    params = {"level": level} if level else {}
    features = client.get("/v1/grids", params=params, headers=token("admin")).json()["features"]
    assert len(features) == count
    if level:
        assert {f["properties"]["level"] for f in features} == {level}
    else:  # parents before children
        assert [f["properties"]["level"] for f in features] == ["town"] * 3 + ["village"] * 6 + ["grid"] * 24


def test_list_grids_under_parent_returns_its_children(client, token):
    features = client.get("/v1/grids", params={"parent": "441900004002"}, headers=token("admin")).json()["features"]
    assert [f["id"] for f in features] == [f"441900004002{n:03d}" for n in (1, 2, 3, 4)]


@pytest.mark.parametrize(("params", "field"), [({"level": "city"}, "level"), ({"parent": "44x"}, "parent")])
def test_list_grids_bad_filter_is_422_naming_field(client, token, params, field):
    resp = client.get("/v1/grids", params=params, headers=token("admin"))
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


def test_list_grids_without_token_is_401(client):
    assert client.get("/v1/grids").status_code == 401


@pytest.mark.parametrize(("code", "level"), [(DEMO_GRID_CODE, "grid"), ("441900004002", "village"),
                                             ("441900004", "town")])
def test_get_grid_returns_one_feature(client, token, code, level):
    resp = client.get(f"/v1/grids/{code}", headers=token("dept_dispatcher"))
    assert resp.status_code == 200
    body = resp.json()
    assert (body["type"], body["id"], body["properties"]["level"]) == ("Feature", code, level)


def test_get_grid_unknown_code_is_404(client, token):
    resp = client.get("/v1/grids/441900004002999", headers=token("admin"))
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_get_grid_malformed_code_is_422(client, token):
    resp = client.get("/v1/grids/4419", headers=token("admin"))
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "code"


def test_probes_answer_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "bus": True}
