"""The PostGIS path (distributed stack): ST_Covers on the GiST index must answer exactly as the STRtree.

The parity test (PostGIS half) runs the same 100,000+ points as tests/unit/test_parity.py through PostGIS.

Runs against GRIDGOV_REGISTRY_DATABASE_URL, or a database it creates through GRIDGOV_TEST_PG_ADMIN_URL (set
by ``make test``); each test gets its own schema, dropped afterwards. Skipped loudly when neither is set.
"""

import os
import threading
import time
import uuid
from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest
from shapely.geometry import box
from sqlalchemy.engine import make_url

from conftest import require_infra
from gridgov_common.db import Database
from gridgov_common.migrations import upgrade_to_head
from gridgov_grid_registry.app import MIGRATIONS
from gridgov_grid_registry.grids import handlers
from gridgov_grid_registry.grids.areas import AreaRecord, GridSetRecord
from gridgov_grid_registry.grids.demo import DEMO_GRID_CODE, DEMO_POINT, DEMO_VERSION, OUTSIDE_POINT, demo_grid_set
from gridgov_grid_registry.grids.index import GridIndex
from gridgov_grid_registry.grids.postgis_index import PostgisLocator
from gridgov_grid_registry.settings import RegistrySettings
from gridgov_grid_registry.tables import metadata

pytestmark = pytest.mark.distributed


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def pg_database():
    """A PostGIS database URL: the one named by GRIDGOV_REGISTRY_DATABASE_URL, or one created for this run."""
    url = os.environ.get("GRIDGOV_REGISTRY_DATABASE_URL")
    if url:
        yield make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return
    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL",
                          "PostgreSQL/PostGIS (set GRIDGOV_REGISTRY_DATABASE_URL or GRIDGOV_TEST_PG_ADMIN_URL)")
    name = f"gg_registry_t{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    with psycopg.connect(make_url(admin).set(database=name).render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    try:
        yield (make_url(admin).set(drivername="postgresql+psycopg", username="gridgov", password="gridgov",
                                   database=name).render_as_string(hide_password=False))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_database):
    """A fresh schema in that database (PostGIS stays reachable in public), dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(pg_database), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield make_url(pg_database).update_query_dict(
            {"options": f"-csearch_path={schema},public"}).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(pg_database), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def settings(common_settings, pg_url, request) -> RegistrySettings:
    # PostGIS lookups unless a test asks for another locator (indirect parametrisation).
    return RegistrySettings(common=common_settings, database_url=pg_url, locator=getattr(request, "param", "postgis"),
                            announce_grids=False)


@pytest.fixture
def db(pg_url):
    database = Database(pg_url, metadata, "grid-registry-test")
    upgrade_to_head(database, MIGRATIONS)
    yield database
    database.engine.dispose()


NOW = datetime(2020, 1, 1, tzinfo=UTC)


def test_locate_on_postgis_matches_strtree_over_parity_points(db, city, parity, oracle, removed_grids):
    assert len(parity) >= 100_000
    holey = GridSetRecord("holey", "demo without every 37th grid",
                          tuple(a for a in city.grid_set.areas if a.code not in removed_grids))
    for grid_set, removed in ((city.grid_set, frozenset()), (holey, removed_grids)):
        assert handlers.store_grid_set(db, grid_set, effective_from=NOW)
        strtree = GridIndex(grid_set.areas, grid_set.version)
        postgis = PostgisLocator(db.engine, grid_set.version)
        started = time.perf_counter()
        got = np.concatenate([postgis.answer_many(chunk[:, 0], chunk[:, 1])
                              for chunk in np.array_split(parity, len(parity) // 10_000 + 1)])
        elapsed = time.perf_counter() - started
        want = strtree.answer_many(parity[:, 0], parity[:, 1])
        assert np.array_equal(want, oracle(city, strtree.answers, parity, removed))
        mismatch = np.flatnonzero(got != want)
        assert not len(mismatch), [(parity[i].tolist(), postgis.answers.location(got[i]).grid_code,
                                    strtree.answers.location(want[i]).grid_code) for i in mismatch[:5]]
        # The single-point statement agrees too (on a sample: one round trip per point).
        sample = np.arange(0, len(parity), 97)
        assert [postgis.answer(*parity[i]) for i in sample] == want[sample].tolist()
        assert postgis.locate(*DEMO_POINT) == strtree.locate(*DEMO_POINT)
        postgis.close()
        print(f"PostGIS parity on {grid_set.version}: {len(parity):,} points in {elapsed:.1f} s")
        statuses = {strtree.answers.location(a).status for a in np.unique(want)}
    assert statuses == {"located", "town_only", "unlocated"}  # the holey set leaves town_only points


def test_app_on_postgis_answers_locate_and_batch_like_strtree(client, token):
    runtime = client.app.state.runtime
    assert isinstance(runtime.locator, PostgisLocator)
    strtree = GridIndex(demo_grid_set().areas, DEMO_VERSION)
    assert runtime.locator.locate(*DEMO_POINT) == strtree.locate(*DEMO_POINT)
    body = client.get("/v1/locate", params={"lon": DEMO_POINT[0], "lat": DEMO_POINT[1]},
                      headers=token("citizen")).json()
    assert body["grid_code"] == DEMO_GRID_CODE
    points = [list(DEMO_POINT), list(OUTSIDE_POINT), [113.9, 22.9]]
    results = client.post("/v1/locate/batch", json={"points": points}, headers=token("admin")).json()["results"]
    assert results == [strtree.locate(*p).model_dump(exclude={"department_areas", "place_match"}) for p in points]


def test_nearby_on_postgis_finds_the_same_grids_as_in_memory(client, token):
    runtime = client.app.state.runtime
    strtree = GridIndex(demo_grid_set().areas, DEMO_VERSION)
    near_pg = runtime.locator.nearby(*DEMO_POINT, 800, 50)
    near_mem = strtree.nearby(*DEMO_POINT, 800, 50)
    assert near_pg[0] == near_mem[0]  # the covering grid, at 0 m
    pg = {n.answer: n.distance_m for n in near_pg}
    mem = {n.answer: n.distance_m for n in near_mem}
    # Spheroid (PostGIS) and local-plane (memory) distances differ by well under 1%: only grids right at the
    # radius may differ.
    for answer in set(pg) ^ set(mem):
        assert abs(pg.get(answer, mem.get(answer)) - 800) < 8
    for answer in set(pg) & set(mem):
        assert pg[answer] == pytest.approx(mem[answer], rel=0.01, abs=1.0)


def test_area_geometry_on_postgis_is_gist_indexed_multipolygon(db):
    with db.engine.connect() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        column = conn.exec_driver_sql(
            "SELECT type, srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = 'area'",
            (schema,)).one()
        indexes = dict(conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)).all())
    assert tuple(column) == ("MULTIPOLYGON", 4326)
    assert "USING gist (geometry)" in indexes["ix_area_geometry"]
    assert "USING gist (geometry)" in indexes["ix_department_area_geometry"]


def test_locate_on_postgis_town_only_and_tie_break(db):
    town = AreaRecord("441900101", "石碣镇", "town", None, box(0, 0, 3, 1))
    village = AreaRecord("441900101001", "石碣社区", "village", town.code, box(0, 0, 2, 1))
    grids = [AreaRecord("441900101001002", "第2网格", "grid", village.code, box(0, 0, 1, 1)),
             AreaRecord("441900101001001", "第1网格", "grid", village.code, box(1, 0, 2, 1))]
    assert handlers.store_grid_set(db, GridSetRecord("synthetic-1", "test", (town, village, *grids)),
                                   effective_from=None)
    postgis = PostgisLocator(db.engine, "synthetic-1")
    strtree = GridIndex([town, village, *grids], "synthetic-1")
    for point, expected in [((1.0, 0.5), "441900101001001"), ((0.5, 0.5), "441900101001002")]:
        assert postgis.locate(*point).grid_code == expected == strtree.locate(*point).grid_code
    only_town = postgis.locate(2.5, 0.5)
    assert (only_town.status, only_town.town_code, only_town.grid_code) == ("town_only", "441900101", None)
    assert only_town == strtree.locate(2.5, 0.5)
    assert postgis.locate(5.0, 0.5).status == "unlocated"
    assert postgis.answer_many(np.array([2.5, 5.0, np.nan]), np.array([0.5, 0.5, 0.5])).tolist() == [
        strtree.answer(2.5, 0.5), 0, 0]
    postgis.close()


def test_postgis_locator_after_connection_loss_reconnects(db):
    handlers.store_grid_set(db, demo_grid_set(), effective_from=NOW)
    postgis = PostgisLocator(db.engine, DEMO_VERSION, pool_size=1)
    assert postgis.locate(*DEMO_POINT).grid_code == DEMO_GRID_CODE
    conn = postgis._connections.idle.get_nowait()
    conn.close()  # as if PostgreSQL had restarted under it
    postgis._connections.idle.put(conn)
    from gridgov_common.errors import Unavailable

    with pytest.raises(Unavailable):  # transient: the consumer retries, never dead-letters
        postgis.locate(*DEMO_POINT)
    assert postgis.locate(*DEMO_POINT).grid_code == DEMO_GRID_CODE
    postgis.close()


def test_store_grid_set_on_postgis_from_two_processes_at_once_stores_it_once(db, pg_url):
    dbs = [Database(pg_url, metadata, f"t{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def seed(database):
        barrier.wait()
        results.append(handlers.store_grid_set(database, demo_grid_set(), effective_from=NOW))

    threads = [threading.Thread(target=seed, args=(d,)) for d in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for d in dbs:
        d.engine.dispose()
    assert sorted(results) == [False, True]
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM area").scalar() == 3556


@pytest.mark.parametrize("settings", ["postgis", "auto"], indirect=True)
def test_consume_report_on_postgis_publishes_located_once(feed, settings):
    expected = PostgisLocator if settings.locator == "postgis" else GridIndex
    assert isinstance(feed.runtime.locator, expected)
    incoming = feed.received(*DEMO_POINT)
    feed.publish(incoming)
    feed.publish(incoming)
    [located] = feed.located()
    assert located.payload["location"]["grid_code"] == DEMO_GRID_CODE
    assert located.causation_id == str(incoming.id)
