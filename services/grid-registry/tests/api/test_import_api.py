import copy
import json

import pytest

from gridgov_grid_registry.grids.demo import DEMO_POINT, DEMO_VERSION
from gridgov_grid_registry.settings import RegistrySettings


@pytest.fixture
def settings(common_settings) -> RegistrySettings:
    return RegistrySettings(common=common_settings, database_url=None, run_consumers=False, announce_grids=False)


def rect(w, s, e, n):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def feature(code, name, geometry):
    return {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry}


# A small city over the demo point: one town, one village, two grids (west and east halves).
CITY = {"type": "FeatureCollection", "features": [
    feature("441900004", "南城街道", rect(113.74, 23.01, 113.76, 23.03)),
    feature("441900004001", "新社区", rect(113.74, 23.01, 113.76, 23.03)),
    feature("441900004001001", "新社区第1网格", rect(113.74, 23.01, 113.75, 23.03)),
    feature("441900004001002", "新社区第2网格", rect(113.75, 23.01, 113.76, 23.03)),
]}


def post(client, token, body, **params):
    return client.post("/v1/grid-sets", params={"version": "city-2025", **params}, json=body, headers=token("admin"))


def test_import_dry_run_validates_and_stores_nothing(client, token):
    resp = post(client, token, CITY, dry_run=True)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["stored"], body["dry_run"], body["errors"]) == (False, True, [])
    assert body["counts"] == {"town": 1, "village": 1, "grid": 2}
    assert [s["version"] for s in client.get("/v1/grid-sets", headers=token("admin")).json()] == [DEMO_VERSION]


def test_import_valid_set_takes_effect_now_and_lookups_switch(client, token):
    resp = post(client, token, CITY)
    assert resp.status_code == 201, resp.text
    assert resp.json()["stored"] is True
    loc = client.get("/v1/locate", params={"lon": 113.7501, "lat": 23.02}, headers=token("admin")).json()
    assert (loc["grid_set_version"], loc["grid_code"]) == ("city-2025", "441900004001002")
    # On the shared edge the smallest code wins.
    edge = client.get("/v1/locate", params={"lon": 113.75, "lat": 23.02}, headers=token("admin")).json()
    assert edge["grid_code"] == "441900004001001"
    sets = {s["version"]: s["in_effect"] for s in client.get("/v1/grid-sets", headers=token("admin")).json()}
    assert sets == {"city-2025": True, DEMO_VERSION: False}
    # The old set stays readable: a ticket located in it keeps its grid.
    old = client.get("/v1/grids/441900004003002", params={"version": DEMO_VERSION}, headers=token("admin"))
    assert old.status_code == 200


def test_import_with_future_date_does_not_take_effect_yet(client, token):
    assert post(client, token, CITY, effective_from="2999-01-01").status_code == 201
    loc = client.get("/v1/locate", params={"lon": DEMO_POINT[0], "lat": DEMO_POINT[1]}, headers=token("admin")).json()
    assert loc["grid_set_version"] == DEMO_VERSION
    [later] = [s for s in client.get("/v1/grid-sets", headers=token("admin")).json() if s["version"] == "city-2025"]
    assert later["effective_from"].startswith("2998-12-31T16:00:00") and not later["in_effect"]


def test_import_invalid_set_is_422_naming_each_feature_and_stores_nothing(client, token):
    bad = copy.deepcopy(CITY)
    bad["features"][3]["geometry"] = rect(113.7495, 23.01, 113.76, 23.03)  # overlaps grid 1
    bad["features"][2]["properties"]["code"] = "441900004001000"
    resp = post(client, token, bad)
    assert resp.status_code == 422
    details = resp.json()["error"]["details"]
    fields = {d["field"] for d in details}
    assert "features.2" in fields and any("code_malformed" in d["reason"] for d in details)
    assert [s["version"] for s in client.get("/v1/grid-sets", headers=token("admin")).json()] == [DEMO_VERSION]


def test_import_same_version_twice_is_409(client, token):
    assert post(client, token, CITY).status_code == 201
    resp = post(client, token, CITY)
    assert resp.status_code == 409 and resp.json()["error"]["details"][0]["field"] == "version"


def test_import_with_mapping_reads_other_property_names(client, token):
    mapped = json.loads(json.dumps(CITY).replace('"code"', '"WGBM"').replace('"name"', '"WGMC"'))
    assert post(client, token, mapped, mapping="code=WGBM,name=WGMC", dry_run=True).json()["errors"] == []


@pytest.mark.parametrize(("params", "field"), [({"mapping": "colour=X"}, "mapping"),
                                               ({"effective_from": "next week"}, "effective_from"),
                                               ({"version": "a b"}, "version")])
def test_import_bad_parameter_is_422_naming_it(client, token, params, field):
    resp = post(client, token, CITY, **params)
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == field


@pytest.mark.parametrize("role", ["grid_worker", "dept_dispatcher", "command_centre", "citizen"])
def test_import_by_non_admin_is_403(client, token, role):
    resp = client.post("/v1/grid-sets", params={"version": "x"}, json=CITY, headers=token(role))
    assert resp.status_code == 403
