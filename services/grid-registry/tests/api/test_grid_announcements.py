"""grid-registry announces the grid set in effect on ``gridgov.grids.published`` (issue #14): every grid's boundary
once per set, with envelope ids fixed by grid and set version, through the outbox; a restart announces nothing
again; a new set retires the grids it no longer has; a set taking effect later is announced when it does. On
SQLite and on PostgreSQL/PostGIS."""

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy import make_url
from sqlmodel import select

from conftest import require_infra
from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import GRIDS_PUBLISHED
from gridgov_common.events.grids import GridPublished, grid_key, grid_message_id
from gridgov_grid_registry.app import create_app
from gridgov_grid_registry.grids import announce
from gridgov_grid_registry.grids.demo import DEMO_POINT, DEMO_VERSION
from gridgov_grid_registry.grids.models import GridAnnouncement
from gridgov_grid_registry.settings import RegistrySettings


def rect(w, s, e, n):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def feature(code, name, geometry):
    return {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry}


TOWN = feature("441900004", "南城街道", rect(113.74, 23.01, 113.77, 23.03))
VILLAGE = feature("441900004001", "新社区", rect(113.74, 23.01, 113.77, 23.03))
# One town, one village, two grids; the next version keeps grid 1, drops grid 2 and adds grid 3.
CITY_V1 = {"type": "FeatureCollection", "features": [
    TOWN, VILLAGE,
    feature("441900004001001", "新社区第1网格", rect(113.74, 23.01, 113.75, 23.03)),
    feature("441900004001002", "新社区第2网格", rect(113.75, 23.01, 113.77, 23.03)),
]}
CITY_V2 = {"type": "FeatureCollection", "features": [
    TOWN, VILLAGE,
    feature("441900004001001", "新社区第1网格", rect(113.74, 23.01, 113.75, 23.03)),
    feature("441900004001003", "新社区第3网格", rect(113.75, 23.01, 113.77, 23.03)),
]}


@pytest.fixture
def pg_url():
    """A fresh PostGIS database for one test, dropped afterwards."""
    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL/PostGIS")
    name = f"gg_registry_ann_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    with psycopg.connect(make_url(admin).set(database=name).render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    try:
        yield make_url(admin).set(drivername="postgresql+psycopg", username="gridgov", password="gridgov",
                                  database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """None (the embedded SQLite database), then a fresh PostGIS database."""
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else None


def announced(client) -> list[Envelope]:
    """Every message on gridgov.grids.published so far (the outbox relayed first)."""
    runtime = client.app.state.runtime
    runtime.relay.drain()
    rows = runtime.bus._conn().execute("SELECT value FROM log WHERE topic=? ORDER BY appended_at",
                                       (GRIDS_PUBLISHED,)).fetchall()
    return [Envelope.from_bytes(bytes(r[0])) for r in rows]


def announcements(client) -> list[GridAnnouncement]:
    with client.app.state.runtime.db.session() as session:
        return list(session.exec(select(GridAnnouncement).order_by(GridAnnouncement.announced_at)))


def wait_for(what, condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def post(client, token, body, version, **params):
    return client.post("/v1/grid-sets", params={"version": version, **params}, json=body, headers=token("admin"))


def test_start_announces_every_demo_grid_once_and_a_restart_announces_nothing(common_settings, database_url,
                                                                               token):
    settings = RegistrySettings(common=common_settings, database_url=database_url)
    with TestClient(create_app(settings)) as client:
        [record] = wait_for("the demo set's announcement", lambda: announcements(client))
        messages = announced(client)
        located = client.get("/v1/locate", params={"lon": DEMO_POINT[0], "lat": DEMO_POINT[1]},
                             headers=token("admin")).json()
    assert (record.grid_set, record.grids, record.retired) == (DEMO_VERSION, 2930, 0)
    assert len(messages) == 2930 and len({m.key for m in messages}) == 2930
    grids = {GridPublished.model_validate(m.payload).grid_code: m for m in messages}
    envelope = grids[located["grid_code"]]
    grid = GridPublished.model_validate(envelope.payload)
    assert envelope.id == grid_message_id(grid.grid_code, DEMO_VERSION) and envelope.key == grid_key(grid.grid_code)
    assert (grid.village_code, grid.town_code, grid.grid_set_version) == (
        located["village_code"], located["town_code"], DEMO_VERSION)
    assert grid.boundary.type == "Polygon" and shape(grid.boundary.model_dump()).covers(Point(DEMO_POINT))
    assert not grid.retired

    with TestClient(create_app(settings)) as again:
        assert announce.announce_in_effect(again.app.state.runtime.db) is None  # what the watcher does at start
        assert len(announced(again)) == 2930  # nothing new
        assert len(announcements(again)) == 1


def test_import_new_set_announces_its_grids_and_retires_those_it_no_longer_has(common_settings, database_url,
                                                                                token):
    settings = RegistrySettings(common=common_settings, database_url=database_url, seed_demo=False)
    with TestClient(create_app(settings)) as client:
        assert post(client, token, CITY_V1, "city-1").status_code == 201
        first = [GridPublished.model_validate(m.payload) for m in announced(client)]
        assert post(client, token, CITY_V2, "city-2").status_code == 201
        envelopes = announced(client)[len(first):]
        records = announcements(client)
    assert sorted(g.grid_code for g in first) == ["441900004001001", "441900004001002"]
    second = {GridPublished.model_validate(m.payload).grid_code: m for m in envelopes}
    assert sorted(second) == ["441900004001001", "441900004001002", "441900004001003"]
    retired = GridPublished.model_validate(second["441900004001002"].payload)
    assert retired.retired and retired.boundary is None and retired.grid_set_version == "city-2"
    assert second["441900004001002"].id == grid_message_id("441900004001002", "city-2")
    kept = GridPublished.model_validate(second["441900004001001"].payload)
    assert not kept.retired and kept.boundary is not None and kept.town_code == "441900004"
    assert [(r.grid_set, r.grids, r.retired) for r in records] == [("city-1", 2, 0), ("city-2", 2, 1)]


def test_set_taking_effect_later_is_announced_only_when_it_takes_effect(common_settings, database_url, token):
    settings = RegistrySettings(common=common_settings, database_url=database_url, seed_demo=False)
    later = datetime.now(UTC) + timedelta(days=3)
    with TestClient(create_app(settings)) as client:
        resp = post(client, token, CITY_V1, "city-later", effective_from=later.isoformat())
        assert resp.status_code == 201, resp.text
        db = client.app.state.runtime.db
        assert announce.announce_in_effect(db) is None and announced(client) == []
        assert announce.announce_in_effect(db, now=later + timedelta(seconds=1)) == 2
        assert len(announced(client)) == 2


def test_two_processes_announcing_the_same_set_at_once_announce_it_once(common_settings, database_url, token):
    settings = RegistrySettings(common=common_settings, database_url=database_url, seed_demo=False,
                                announce_grids=False)
    with TestClient(create_app(settings)) as client:
        assert post(client, token, CITY_V1, "city-1").status_code == 201
        url = client.app.state.runtime.settings.resolved_database_url()
        from gridgov_grid_registry.app import build_runtime

        dbs = [build_runtime(settings).db for _ in range(2)]  # two instances of the registry on one database
        try:
            results: list = [None, None]
            threads = [threading.Thread(target=lambda i=i: results.__setitem__(
                i, announce.announce_in_effect(dbs[i]))) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            for db in dbs:
                db.engine.dispose()
        assert sorted(results, key=lambda r: r or 0) == [None, 2], url
        assert len(announced(client)) == 2
