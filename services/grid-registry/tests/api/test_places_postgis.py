"""Places on PostgreSQL/PostGIS (distributed stack): the demo landmarks seeded, resolve, a CSV import all or nothing,
and a report with only an address placed by the gazetteer — as on SQLite. Skipped loudly without the infra."""

import importlib.util
from pathlib import Path

import pytest

from gridgov_common.events.reports import ReportLocated
from gridgov_grid_registry.grids.demo import DEMO_POINT, DEMO_VILLAGE_CODE

pytestmark = pytest.mark.distributed

# The PostGIS fixtures of test_postgis.py (a database per module, a schema per test, the settings on it), shared.
_spec = importlib.util.spec_from_file_location("registry_postgis_fixtures", Path(__file__).with_name("test_postgis.py"))
_postgis = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_postgis)
pg_database, pg_url, settings = _postgis.pg_database, _postgis.pg_url, _postgis.settings


def test_places_on_postgis_resolve_import_and_locate_by_address(client, token, feed):
    headers = token("dept_dispatcher", department="water")
    body = client.post("/v1/places/resolve", json={"address": "虎门镇威远炮台"}, headers=headers).json()
    assert body["status"] == "located" and body["town_name"] == "虎门镇"  # the seeded demo landmark
    lon, lat = DEMO_POINT
    bad = f"name,aliases,kind,lon,lat\n好大厦,,landmark,{lon},{lat}\n坏大厦,,landmark,{lon},999\n"
    resp = client.post("/v1/places/landmarks/import", content=bad.encode(),
                       headers={**token("admin"), "Content-Type": "text/csv"})
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == "line 3: lat"
    assert client.post("/v1/places/resolve", json={"address": "好大厦"}, headers=headers).json()["status"] \
        == "unlocated"
    good = f"name,aliases,kind,lon,lat\n好大厦,好楼,landmark,{lon},{lat}\n"
    resp = client.post("/v1/places/landmarks/import", content=good.encode(),
                       headers={**token("admin"), "Content-Type": "text/csv"})
    assert resp.status_code == 201, resp.text
    assert client.post("/v1/places/resolve", json={"address": "好楼"}, headers=headers).json()["village_code"] \
        == DEMO_VILLAGE_CODE
    for text in ("南" * 501, "南城\x00", ""):
        assert client.post("/v1/places/resolve", json={"address": text}, headers=headers).status_code == 422

    incoming = feed.received(None, None)
    incoming.payload["address"] = "南城街道洲源社区宏图路3号"
    feed.publish(incoming)
    location = ReportLocated.model_validate(feed.located()[-1].payload).location
    assert (location.status, location.village_code) == ("village_only", DEMO_VILLAGE_CODE)
    assert location.place_match.level == "village"
