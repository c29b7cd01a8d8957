"""The PostGIS path (distributed stack): ST_Covers on the GiST index must answer exactly as the STRtree.

Runs against GRIDGOV_REGISTRY_DATABASE_URL, or a database it creates through GRIDGOV_TEST_PG_ADMIN_URL (set
by ``make test``); each test gets its own schema, dropped afterwards. Skipped loudly when neither is set.
"""

import os
import threading
import uuid

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
from gridgov_grid_registry.grids.demo import DEMO_BBOX, DEMO_GRID_CODE, DEMO_POINT, OUTSIDE_POINT, demo_grid_set
from gridgov_grid_registry.grids.index import GridIndex
from gridgov_grid_registry.grids.service import PostgisLocator
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
def settings(common_settings, pg_url) -> RegistrySettings:
    return RegistrySettings(common=common_settings, database_url=pg_url)


@pytest.fixture
def db(pg_url):
    database = Database(pg_url, metadata, "grid-registry-test")
    upgrade_to_head(database, MIGRATIONS)
    yield database
    database.engine.dispose()


def boundary_points():
    grids = [a for a in demo_grid_set().areas if a.level == "grid"]
    xs = sorted({c for g in grids for c in (g.geometry.bounds[0], g.geometry.bounds[2])})
    ys = sorted({c for g in grids for c in (g.geometry.bounds[1], g.geometry.bounds[3])})
    mid_x = [(a + b) / 2 for a, b in zip(xs, xs[1:], strict=False)]
    mid_y = [(a + b) / 2 for a, b in zip(ys, ys[1:], strict=False)]
    return [(x, y) for x in xs + mid_x for y in ys + mid_y]


def test_locate_on_postgis_agrees_with_strtree_everywhere(client, token):
    runtime = client.app.state.runtime
    assert isinstance(runtime.locator, PostgisLocator)
    strtree = GridIndex(demo_grid_set().areas, "demo-1")
    points = [DEMO_POINT, OUTSIDE_POINT, (None, None), (DEMO_BBOX[0] - 0.01, DEMO_BBOX[1])] + boundary_points()
    for lon, lat in points:
        assert runtime.locator.locate(lon, lat) == strtree.locate(lon, lat), (lon, lat)
    body = client.get("/v1/locate", params={"lon": DEMO_POINT[0], "lat": DEMO_POINT[1]},
                      headers=token("citizen")).json()
    assert body["grid_code"] == DEMO_GRID_CODE


def test_area_geometry_on_postgis_is_gist_indexed_multipolygon(db):
    with db.engine.connect() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        column = conn.exec_driver_sql(
            "SELECT type, srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = 'area'",
            (schema,)).one()
        indexdef = conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = 'ix_area_geometry'",
            (schema,)).scalar()
    assert tuple(column) == ("MULTIPOLYGON", 4326)
    assert "USING gist (geometry)" in indexdef


def test_locate_on_postgis_town_only_and_tie_break(db):
    town = AreaRecord("441900101", "石碣镇", "town", None, box(0, 0, 3, 1))
    village = AreaRecord("441900101001", "石碣社区", "village", town.code, box(0, 0, 2, 1))
    grids = [AreaRecord("441900101001002", "第2网格", "grid", village.code, box(0, 0, 1, 1)),
             AreaRecord("441900101001001", "第1网格", "grid", village.code, box(1, 0, 2, 1))]
    assert handlers.store_grid_set(db, GridSetRecord("synthetic-1", "test", (town, village, *grids)),
                                   activate=False)
    postgis = PostgisLocator(db.engine, "synthetic-1")
    strtree = GridIndex([town, village, *grids], "synthetic-1")
    for point, expected in [((1.0, 0.5), "441900101001001"), ((0.5, 0.5), "441900101001002")]:
        assert postgis.locate(*point).grid_code == expected == strtree.locate(*point).grid_code
    only_town = postgis.locate(2.5, 0.5)
    assert (only_town.status, only_town.town_code, only_town.grid_code) == ("town_only", "441900101", None)
    assert only_town == strtree.locate(2.5, 0.5)
    assert postgis.locate(5.0, 0.5).status == "unlocated"


def test_store_grid_set_on_postgis_from_two_processes_at_once_stores_it_once(db, pg_url):
    dbs = [Database(pg_url, metadata, f"t{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def seed(database):
        barrier.wait()
        results.append(handlers.store_grid_set(database, demo_grid_set(), activate=True))

    threads = [threading.Thread(target=seed, args=(d,)) for d in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for d in dbs:
        d.engine.dispose()
    assert sorted(results) == [False, True]
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM area").scalar() == 33


def test_consume_report_on_postgis_publishes_located_once(feed):
    incoming = feed.received(*DEMO_POINT)
    feed.publish(incoming)
    feed.publish(incoming)
    [located] = feed.located()
    assert located.payload["location"]["grid_code"] == DEMO_GRID_CODE
    assert located.causation_id == str(incoming.id)
