import pytest

from gridgov_grid_registry.grids.demo import DEMO_POINT
from gridgov_grid_registry.settings import RegistrySettings


@pytest.fixture
def settings(common_settings) -> RegistrySettings:
    return RegistrySettings(common=common_settings, database_url=None, run_consumers=False, announce_grids=False)


def area(code, name, w, s, e, n):
    return {"type": "Feature", "properties": {"code": code, "name": name},
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}}


def test_list_department_areas_returns_demo_layer_as_geojson(client, token):
    resp = client.get("/v1/department-areas", params={"department": "water"}, headers=token("citizen"))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/geo+json")
    assert {f["properties"]["code"] for f in resp.json()["features"]} == {"w-dongjiang", "w-hanxi"}


def test_replace_department_areas_changes_what_locate_reports(client, token):
    lon, lat = DEMO_POINT
    body = {"type": "FeatureCollection", "features": [area("w-demo", "演示责任区", lon - 0.01, lat - 0.01,
                                                           lon + 0.01, lat + 0.01)]}
    resp = client.put("/v1/department-areas/water", json=body, headers=token("admin"))
    assert resp.status_code == 200 and resp.json() == {"department": "water", "areas": 1}
    located = client.get("/v1/locate", params={"lon": lon, "lat": lat}, headers=token("admin")).json()
    assert {(a["department"], a["code"]) for a in located["department_areas"]} == {
        ("urban-management", "um-centre"), ("water", "w-demo")}


def test_replace_department_areas_with_bad_feature_is_422_and_changes_nothing(client, token):
    body = {"type": "FeatureCollection", "features": [area("ok-1", "好", 113.7, 23.0, 113.8, 23.1),
                                                      area("bad one", "", 113.7, 23.0, 113.7, 23.1)]}
    resp = client.put("/v1/department-areas/water", json=body, headers=token("admin"))
    assert resp.status_code == 422
    assert {d["field"] for d in resp.json()["error"]["details"]} == {"features.1"}
    assert len(client.get("/v1/department-areas", params={"department": "water"},
                          headers=token("admin")).json()["features"]) == 2


def test_replace_department_areas_by_non_admin_is_403(client, token):
    resp = client.put("/v1/department-areas/water", json={"type": "FeatureCollection", "features": []},
                      headers=token("command_centre"))
    assert resp.status_code == 403
