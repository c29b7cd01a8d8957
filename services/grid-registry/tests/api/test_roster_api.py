import pytest

from gridgov_grid_registry.grids.demo import DEMO_GRID_CODE, demo_roster
from gridgov_grid_registry.settings import RegistrySettings


@pytest.fixture
def settings(common_settings) -> RegistrySettings:
    return RegistrySettings(common=common_settings, database_url=None, run_consumers=False, announce_grids=False)


def test_grid_workers_lists_demo_roster_and_filters_on_duty(client, token):
    everyone = client.get(f"/v1/grids/{DEMO_GRID_CODE}/workers", headers=token("command_centre")).json()["workers"]
    on_duty = client.get(f"/v1/grids/{DEMO_GRID_CODE}/workers", params={"on_duty": True},
                         headers=token("command_centre")).json()["workers"]
    roster = [w for w in demo_roster() if w.grid_code == DEMO_GRID_CODE]
    assert sorted(w["worker_id"] for w in everyone) == sorted(w.worker_id for w in roster)
    # The demo grid has workers off duty too, so the filter must drop some, and exactly those.
    assert sorted(w["worker_id"] for w in on_duty) == sorted(w.worker_id for w in roster if w.on_duty)
    assert 0 < len(on_duty) < len(everyone)
    assert all(w["on_duty"] and w["grid_code"] == DEMO_GRID_CODE for w in on_duty)


def test_grid_worker_goes_off_duty_and_leaves_the_on_duty_list(client, token):
    worker = f"gw-{DEMO_GRID_CODE}-1"
    resp = client.post(f"/v1/workers/{worker}/duty", json={"on_duty": False}, headers=token("grid_worker", sub=worker))
    assert resp.status_code == 200 and resp.json()["on_duty"] is False
    on_duty = client.get(f"/v1/grids/{DEMO_GRID_CODE}/workers", params={"on_duty": True},
                         headers=token("admin")).json()["workers"]
    assert worker not in {w["worker_id"] for w in on_duty}


def test_grid_worker_cannot_change_another_workers_duty(client, token):
    resp = client.post(f"/v1/workers/gw-{DEMO_GRID_CODE}-1/duty", json={"on_duty": False},
                       headers=token("grid_worker", sub="someone-else"))
    assert resp.status_code == 403


def test_admin_assigns_new_worker_to_grid(client, token):
    resp = client.put("/v1/workers/gw-new", json={"name": "新网格员", "grid_code": DEMO_GRID_CODE, "on_duty": True},
                      headers=token("admin"))
    assert resp.status_code == 200, resp.text
    assert client.get("/v1/workers/gw-new", headers=token("dept_dispatcher")).json()["grid_code"] == DEMO_GRID_CODE


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "grid_code": "441900004003999"}, "grid_code"),
    ({"name": "x", "grid_code": "441900004"}, "grid_code"),
    ({"grid_code": DEMO_GRID_CODE}, "name"),
])
def test_assign_worker_bad_grid_or_name_is_422(client, token, body, field):
    resp = client.put("/v1/workers/gw-x", json=body, headers=token("admin"))
    assert resp.status_code == 422 and resp.json()["error"]["details"][0]["field"] == field


def test_roster_is_not_for_citizens_and_unknown_worker_is_404(client, token):
    assert client.get(f"/v1/grids/{DEMO_GRID_CODE}/workers", headers=token("citizen")).status_code == 403
    assert client.get("/v1/workers/nobody", headers=token("admin")).status_code == 404
