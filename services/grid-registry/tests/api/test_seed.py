import threading

from fastapi.testclient import TestClient
from sqlmodel import func, select

from gridgov_common.db import Database
from gridgov_common.migrations import upgrade_to_head
from gridgov_grid_registry.app import MIGRATIONS, create_app
from gridgov_grid_registry.grids import handlers
from gridgov_grid_registry.grids.demo import demo_grid_set
from gridgov_grid_registry.grids.models import Area, GridSet
from gridgov_grid_registry.settings import RegistrySettings
from gridgov_grid_registry.tables import metadata


def count_rows(db: Database) -> tuple[int, int]:
    with db.session() as session:
        return (session.exec(select(func.count()).select_from(GridSet)).one(),
                session.exec(select(func.count()).select_from(Area)).one())


def test_start_twice_seeds_demo_once(settings):
    for _ in range(2):
        with TestClient(create_app(settings)):
            pass
    db = Database(settings.resolved_database_url(), metadata, "t")
    assert count_rows(db) == (1, 33)


def test_start_without_seed_demo_leaves_registry_empty_and_everything_unlocated(common_settings, token):
    settings = RegistrySettings(common=common_settings, database_url=None, seed_demo=False)
    with TestClient(create_app(settings)) as client:
        body = client.get("/v1/locate", params={"lon": 113.75, "lat": 23.02}, headers=token("admin")).json()
        assert body["status"] == "unlocated" and body["grid_set_version"] is None
        assert client.get("/v1/grids", headers=token("admin")).json()["features"] == []


def test_store_grid_set_from_two_processes_at_once_stores_it_once(settings):
    url = settings.resolved_database_url()
    upgrade_to_head(Database(url, metadata, "t"), MIGRATIONS)
    dbs = [Database(url, metadata, f"t{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def seed(db):
        barrier.wait()
        results.append(handlers.store_grid_set(db, demo_grid_set(), activate=True))

    threads = [threading.Thread(target=seed, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False, True]
    assert count_rows(dbs[0]) == (1, 33)
