"""Issue #11 on grid-registry: strict coordinates in batch lookups, control characters refused naming the
parameter, bodies over the limit refused before reading, and the grid-set import keeping its larger limit."""

import pytest

from gridgov_grid_registry.app import GRID_SET_MAX_BYTES
from gridgov_grid_registry.grids.demo import DEMO_POINT


def fields(resp) -> list[str]:
    return [d["field"] for d in resp.json()["error"]["details"]]


@pytest.mark.parametrize("point", [[True, 23.02], [113.75, "23.02"], [113.75, 1e308]])
def test_locate_batch_with_non_number_coordinate_is_422(client, token, point):
    resp = client.post("/v1/locate/batch", json={"points": [list(DEMO_POINT), point]},
                       headers=token("dept_dispatcher"))
    assert resp.status_code == 422, resp.text
    assert any(f.startswith("points.1") for f in fields(resp))


def test_locate_with_control_character_in_query_is_422_naming_it(client, token):
    resp = client.get("/v1/locate", params={"lon": "113.75\u0000", "lat": "23.02"}, headers=token("admin"))
    assert resp.status_code == 422 and fields(resp) == ["lon"]


def test_oversized_body_is_413_before_authentication(client):
    resp = client.post("/v1/locate/batch", content=b"[" * (2 << 20), headers={"content-type": "application/json"})
    assert resp.status_code == 413 and fields(resp) == ["body"]


def test_grid_set_import_keeps_its_own_larger_limit(client, token):
    body = b'{"type": "FeatureCollection", "features": [], "pad": "' + b"x" * (3 << 20) + b'"}'
    resp = client.post("/v1/grid-sets", params={"version": "v-big", "dry_run": "true"}, content=body,
                       headers={**token("admin"), "content-type": "application/json"})
    assert resp.status_code != 413, resp.text  # 3 MiB: over the JSON default, under the import's limit
    resp = client.post("/v1/grid-sets", params={"version": "v-big"}, content=b"x" * (GRID_SET_MAX_BYTES + 1),
                       headers={**token("admin"), "content-type": "application/json"})
    assert resp.status_code == 413
