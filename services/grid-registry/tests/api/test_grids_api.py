import json

import pytest

from gridgov_common import geo
from gridgov_common.auth import PEOPLE
from gridgov_grid_registry.grids.demo import DEMO_GRID_CODE, DEMO_POINT, DEMO_VERSION, OUTSIDE_POINT
from gridgov_grid_registry.settings import RegistrySettings

LON, LAT = DEMO_POINT
DEMO_LOCATION = {
    "status": "located",
    "grid_code": DEMO_GRID_CODE, "grid_name": "洲源社区第2网格",
    "village_code": "441900004003", "village_name": "洲源社区",
    "town_code": "441900004", "town_name": "南城街道",
    "grid_set_version": DEMO_VERSION,
    "place_match": None,  # issue #17: set only when the place came from an address, never for a point
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # One app for the module (read-only tests): the demo city is seeded once. No consumer: HTTP only.
    from fastapi.testclient import TestClient

    from conftest import TEST_SECRET
    from gridgov_common.settings import CommonSettings
    from gridgov_grid_registry.app import create_app

    common = CommonSettings(data_dir=tmp_path_factory.mktemp("registry"), jwt_secret=TEST_SECRET, log_json=False)
    settings = RegistrySettings(common=common, database_url=None, run_consumers=False, announce_grids=False)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize("role", PEOPLE)
def test_locate_demo_point_returns_demo_grid_for_any_role(client, token, role):
    resp = client.get("/v1/locate", params={"lon": LON, "lat": LAT}, headers=token(role))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {**DEMO_LOCATION, "crs": "wgs84", "wgs84": [LON, LAT],
                           "department_areas": [{"department": "urban-management", "code": "um-centre",
                                                 "name": "中心城区市容责任区"}]}


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_locate_point_in_other_crs_is_converted_to_wgs84_first(client, token, crs):
    lon, lat = geo.from_wgs84(LON, LAT, crs)
    body = client.get("/v1/locate", params={"lon": lon, "lat": lat, "crs": crs}, headers=token("citizen")).json()
    assert body["grid_code"] == DEMO_GRID_CODE and body["crs"] == crs
    assert body["wgs84"] == pytest.approx([LON, LAT], abs=1e-9)


def test_locate_gcj02_point_read_as_wgs84_lands_elsewhere(client, token):
    lon, lat = geo.from_wgs84(LON, LAT, "gcj02")  # the offset is why the source system matters
    assert client.get("/v1/locate", params={"lon": lon, "lat": lat}, headers=token("citizen")).json()[
        "grid_code"] != DEMO_GRID_CODE


def test_locate_point_outside_city_is_unlocated(client, token):
    lon, lat = OUTSIDE_POINT
    body = client.get("/v1/locate", params={"lon": lon, "lat": lat}, headers=token("citizen")).json()
    assert body["status"] == "unlocated"
    assert body["grid_code"] is None and body["town_code"] is None and body["department_areas"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 181, "lat": LAT}, "lon"),
        ({"lon": -180.5, "lat": LAT}, "lon"),
        ({"lon": "nan", "lat": LAT}, "lon"),
        ({"lon": "east", "lat": LAT}, "lon"),
        ({"lat": LAT}, "lon"),
        ({"lon": LON, "lat": 90.01}, "lat"),
        ({"lon": LON, "lat": LAT, "crs": "epsg:4490"}, "crs"),
    ],
)
def test_locate_bad_input_is_422_naming_field(client, token, params, field):
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


def test_locate_batch_returns_results_in_order(client, token):
    points = [list(OUTSIDE_POINT), list(DEMO_POINT), [113.7, 22.65], list(DEMO_POINT)]
    resp = client.post("/v1/locate/batch", json={"points": points}, headers=token("dept_dispatcher"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["grid_set_version"], body["crs"], body["count"]) == (DEMO_VERSION, "wgs84", 4)
    assert [r["status"] for r in body["results"]] == ["unlocated", "located", "unlocated", "located"]
    # Batch answers are points: neither department areas nor a place match (issue #17) are looked up.
    point_only = {k: v for k, v in DEMO_LOCATION.items() if k != "place_match"}
    assert body["results"][1] == point_only == body["results"][3]


def test_locate_batch_in_bd09_matches_single_lookups(client, token):
    import numpy as np

    rng = np.random.default_rng(11)
    wgs = np.stack([rng.uniform(113.6, 114.2, 200), rng.uniform(22.7, 23.1, 200)], axis=1)
    bd = np.stack(geo.from_wgs84(wgs[:, 0], wgs[:, 1], "bd09"), axis=1)
    results = client.post("/v1/locate/batch", json={"crs": "bd09", "points": bd.tolist()},
                          headers=token("admin")).json()["results"]
    singles = [client.get("/v1/locate", params={"lon": x, "lat": y}, headers=token("admin")).json()["grid_code"]
               for x, y in wgs[:40].tolist()]
    assert [r["grid_code"] for r in results[:40]] == singles


def test_locate_batch_of_10000_points_is_answered(client, token):
    resp = client.post("/v1/locate/batch", json={"points": [list(DEMO_POINT)] * 10_000}, headers=token("admin"))
    assert resp.status_code == 200 and resp.json()["count"] == 10_000


@pytest.mark.parametrize(("body", "field"), [
    ({"points": [list(DEMO_POINT)] * 10_001}, "points"),
    ({"points": [list(DEMO_POINT), [LON, 91.0]]}, "points.1.1"),
    ({"points": [[181.0, LAT]]}, "points.0.0"),
    ({"points": [[LON]]}, "points.0.1"),
    ({"crs": "utm", "points": [list(DEMO_POINT)]}, "crs"),
    ({}, "points"),
])
def test_locate_batch_bad_input_is_422_naming_field(client, token, body, field):
    resp = client.post("/v1/locate/batch", json=body, headers=token("admin"))
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == field


def test_nearby_lists_grids_nearest_first_with_workers_on_duty(client, token):
    resp = client.get("/v1/locate/nearby", params={"lon": LON, "lat": LAT, "radius_m": 400},
                      headers=token("command_centre"))
    assert resp.status_code == 200, resp.text
    grids = resp.json()["grids"]
    assert grids[0]["code"] == DEMO_GRID_CODE and grids[0]["distance_m"] == 0
    assert [g["distance_m"] for g in grids] == sorted(g["distance_m"] for g in grids)
    assert all(g["distance_m"] <= 400 for g in grids) and len(grids) > 1
    assert grids[0]["on_duty"] and all(w["worker_id"].startswith(f"gw-{DEMO_GRID_CODE}-") for w in grids[0]["on_duty"])


@pytest.mark.parametrize(("params", "field"), [({"radius_m": 0}, "radius_m"), ({"radius_m": 5001}, "radius_m"),
                                               ({"limit": 0}, "limit")])
def test_nearby_bad_radius_or_limit_is_422(client, token, params, field):
    resp = client.get("/v1/locate/nearby", params={"lon": LON, "lat": LAT, **params}, headers=token("admin"))
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == field


@pytest.mark.parametrize(("level", "count"), [("town", 33), ("village", 593), ("grid", 2930)])
def test_list_grids_by_level_returns_geojson_of_that_level(client, token, level, count):
    resp = client.get("/v1/grids", params={"level": level}, headers=token("command_centre"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    body = resp.json()
    assert body["type"] == "FeatureCollection" and body["grid_set_version"] == DEMO_VERSION
    assert len(body["features"]) == count
    assert [f["id"] for f in body["features"]] == sorted(f["id"] for f in body["features"])
    assert {f["properties"]["level"] for f in body["features"]} == {level}


def test_list_grids_demo_grid_feature_has_joinable_properties_and_contains_point(client, token):
    features = client.get("/v1/grids", params={"parent": "441900004003"}, headers=token("admin")).json()["features"]
    demo = next(f for f in features if f["id"] == DEMO_GRID_CODE)
    assert demo["properties"] == {"code": DEMO_GRID_CODE, "name": "洲源社区第2网格", "level": "grid",
                                  "parent": "441900004003"}
    assert demo["geometry"]["type"] == "MultiPolygon"
    ring = demo["geometry"]["coordinates"][0][0]
    assert ring[0] == ring[-1]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert min(lons) < LON < max(lons) and min(lats) < LAT < max(lats)


def test_list_grids_at_low_zoom_is_smaller_and_names_the_zoom(client, token):
    full = client.get("/v1/grids", params={"level": "town"}, headers=token("admin"))
    low = client.get("/v1/grids", params={"level": "town", "zoom": 8}, headers=token("admin"))
    assert low.json()["zoom"] == 8 and len(low.json()["features"]) == 33
    assert len(low.content) < 0.6 * len(full.content)


def test_list_grids_is_cacheable_with_etag_and_304(client, token):
    first = client.get("/v1/grids", params={"level": "village", "zoom": 10}, headers=token("admin"))
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = client.get("/v1/grids", params={"level": "village", "zoom": 10},
                       headers={**token("admin"), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/v1/grids", params={"level": "village", "zoom": 11}, headers=token("admin"))
    assert other.headers["etag"] != etag
    pinned = client.get("/v1/grids", params={"level": "town", "version": DEMO_VERSION}, headers=token("admin"))
    assert "immutable" in pinned.headers["cache-control"]


def test_list_grids_in_bbox_returns_only_areas_touching_it(client, token):
    bbox = f"{LON - 0.001},{LAT - 0.001},{LON + 0.001},{LAT + 0.001}"
    features = client.get("/v1/grids", params={"level": "grid", "bbox": bbox}, headers=token("admin")).json()[
        "features"]
    assert DEMO_GRID_CODE in {f["id"] for f in features} and len(features) < 10


def test_list_grids_under_parent_returns_its_children(client, token):
    features = client.get("/v1/grids", params={"parent": "441900004003"}, headers=token("admin")).json()["features"]
    ids = [f["id"] for f in features]
    assert ids == [f"441900004003{n:03d}" for n in range(1, len(ids) + 1)] and DEMO_GRID_CODE in ids


@pytest.mark.parametrize(("params", "field"), [({"level": "city"}, "level"), ({"parent": "44x"}, "parent"),
                                               ({"zoom": 30}, "zoom"), ({"bbox": "1,2,3"}, "bbox"),
                                               ({"bbox": "114,23,113,22"}, "bbox")])
def test_list_grids_bad_filter_is_422_naming_field(client, token, params, field):
    resp = client.get("/v1/grids", params=params, headers=token("admin"))
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


def test_list_grids_of_unknown_version_is_404(client, token):
    assert client.get("/v1/grids", params={"version": "nope"}, headers=token("admin")).status_code == 404


def test_list_grids_without_token_is_401(client):
    assert client.get("/v1/grids").status_code == 401


@pytest.mark.parametrize(("code", "level"), [(DEMO_GRID_CODE, "grid"), ("441900004003", "village"),
                                             ("441900004", "town")])
def test_get_grid_returns_one_feature(client, token, code, level):
    resp = client.get(f"/v1/grids/{code}", headers=token("dept_dispatcher"))
    assert resp.status_code == 200
    body = resp.json()
    assert (body["type"], body["id"], body["properties"]["level"]) == ("Feature", code, level)


@pytest.mark.parametrize(("code", "parents"), [(DEMO_GRID_CODE, ["441900004003", "441900004"]),
                                               ("441900004003", ["441900004"]), ("441900004", [])])
def test_get_grid_names_the_areas_above_it(client, token, code, parents):
    # a grid worker's phone names its village and town from this answer (issue #14), for every role
    for role in ("grid_worker", "citizen", "admin"):
        body = client.get(f"/v1/grids/{code}", headers=token(role)).json()
        above = body["properties"]["parents"]
        assert [p["code"] for p in above] == parents
        assert [p["level"] for p in above] == ["village", "town"][2 - len(parents):]
        assert all(p["name"] for p in above)


def test_get_grid_without_token_is_401(client):
    assert client.get(f"/v1/grids/{DEMO_GRID_CODE}").status_code == 401


def test_get_grid_unknown_code_is_404(client, token):
    resp = client.get("/v1/grids/441900004002999", headers=token("admin"))
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_get_grid_malformed_code_is_422(client, token):
    resp = client.get("/v1/grids/4419", headers=token("admin"))
    assert resp.status_code == 422
    assert resp.json()["error"]["details"][0]["field"] == "code"


def test_list_grid_sets_shows_demo_in_effect_with_counts(client, token):
    [demo] = client.get("/v1/grid-sets", headers=token("citizen")).json()
    assert (demo["version"], demo["in_effect"]) == (DEMO_VERSION, True)
    assert demo["counts"] == {"town": 33, "village": 593, "grid": 2930}


def test_openapi_documents_every_public_path(client):
    paths = json.loads(client.get("/openapi.json").content)["paths"]
    for path in ("/v1/locate", "/v1/locate/batch", "/v1/locate/nearby", "/v1/grids", "/v1/grids/{code}",
                 "/v1/grid-sets", "/v1/grids/{code}/workers", "/v1/department-areas"):
        assert path in paths


def test_probes_answer_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "bus": True}


def test_list_grids_answers_304_to_weak_etag_of_same_map(client, token):
    # RFC 9110 §13.1.2: If-None-Match compares weakly, so a cache that holds the map under W/"…" (a proxy that
    # compressed it, say) is told it is still fresh, as /v1/sla/counts already told it.
    params = {"level": "town", "zoom": 9}
    etag = client.get("/v1/grids", params=params, headers=token("admin")).headers["etag"]
    again = client.get("/v1/grids", params=params,
                       headers={**token("admin"), "If-None-Match": f'"elsewhere", W/{etag}'})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
