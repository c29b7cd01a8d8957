import threading
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import func, select

from gridgov_common.db import Database
from gridgov_common.migrations import upgrade_to_head
from gridgov_grid_registry.app import MIGRATIONS, create_app
from gridgov_grid_registry.departments.models import DepartmentArea
from gridgov_grid_registry.grids import handlers, locator
from gridgov_grid_registry.grids.areas import AreaRecord, GridSetRecord
from gridgov_grid_registry.grids.demo import DEMO_POINT, DEMO_VERSION, demo_grid_set
from gridgov_grid_registry.grids.models import Area, GridSet
from gridgov_grid_registry.roster.models import GridWorker
from gridgov_grid_registry.settings import RegistrySettings
from gridgov_grid_registry.tables import metadata


def count_rows(db: Database) -> tuple[int, int, int, int]:
    with db.session() as session:
        return tuple(session.exec(select(func.count()).select_from(t)).one()
                     for t in (GridSet, Area, GridWorker, DepartmentArea))


def fresh_db(settings) -> Database:
    db = Database(settings.resolved_database_url(), metadata, "t")
    upgrade_to_head(db, MIGRATIONS)
    return db


def test_start_twice_seeds_demo_once(settings):
    for _ in range(2):
        with TestClient(create_app(settings)):
            pass
    sets, areas, workers, departments = count_rows(Database(settings.resolved_database_url(), metadata, "t"))
    assert (sets, areas, departments) == (1, 33 + 593 + 2930, 5)
    assert 10_000 <= workers <= 10_500  # about 10,400 grid workers, as in Dongguan


def test_start_without_seed_demo_leaves_registry_empty_and_everything_unlocated(common_settings, token):
    settings = RegistrySettings(common=common_settings, database_url=None, seed_demo=False)
    with TestClient(create_app(settings)) as client:
        body = client.get("/v1/locate", params={"lon": 113.75, "lat": 23.02}, headers=token("admin")).json()
        assert body["status"] == "unlocated" and body["grid_set_version"] is None
        assert client.get("/v1/grids", headers=token("admin")).json()["features"] == []


def tiny_set(version: str) -> GridSetRecord:
    from shapely.geometry import box

    town = AreaRecord("441900101", "石碣镇", "town", None, box(113.7, 23.0, 113.8, 23.1))
    village = AreaRecord("441900101001", "石碣社区", "village", town.code, town.geometry)
    grid = AreaRecord("441900101001001", "石碣社区第1网格", "grid", village.code, town.geometry)
    return GridSetRecord(version, "tiny", (town, village, grid))


def test_seed_demo_replaces_an_older_demo_but_never_an_imported_set(settings):
    db = fresh_db(settings)
    assert handlers.store_grid_set(db, tiny_set("demo-1"), effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    assert handlers.seed_demo(db)  # an older demo only: the current demo is added and takes effect
    assert locator.load_locator(db).version == DEMO_VERSION
    other = fresh_db(settings.model_copy(update={"database_url": f"sqlite:///{settings.common.data_dir}/b.db"}))
    assert handlers.store_grid_set(other, tiny_set("city-2024"), effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    assert not handlers.seed_demo(other)
    assert locator.load_locator(other).version == "city-2024"


def test_store_grid_set_from_two_processes_at_once_stores_it_once(settings):
    url = settings.resolved_database_url()
    upgrade_to_head(Database(url, metadata, "t"), MIGRATIONS)
    dbs = [Database(url, metadata, f"t{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def seed(db):
        barrier.wait()
        results.append(handlers.store_grid_set(db, demo_grid_set(), effective_from=datetime.now(UTC)))

    threads = [threading.Thread(target=seed, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [False, True]
    assert count_rows(dbs[0])[:2] == (1, 3556)


def test_locator_follows_the_set_in_effect_and_switches_when_a_later_one_takes_effect(settings):
    db = fresh_db(settings)
    handlers.store_grid_set(db, demo_grid_set(), effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    handlers.store_grid_set(db, tiny_set("later"), effective_from=datetime(2999, 1, 1, tzinfo=UTC))
    handlers.store_grid_set(db, tiny_set("never"), effective_from=None)
    active = locator.ActiveLocator(db)
    assert active.locator.version == DEMO_VERSION and not active.refresh()
    with db.session() as session:
        later = session.get(GridSet, "later")
        later.effective_from = datetime(2021, 1, 1, tzinfo=UTC)  # as if the date had come
        session.add(later)
        session.commit()
    assert active.refresh()
    assert active.locator.version == "later"
    assert active.locator.locate(*DEMO_POINT).grid_code == "441900101001001"


def test_migration_turns_active_grid_set_into_one_in_effect_since_creation(settings):
    from alembic import command

    from gridgov_common.migrations import alembic_config

    db = Database(settings.resolved_database_url(), metadata, "t")
    cfg = alembic_config(MIGRATIONS)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "4e56d9f30ef1")  # the first revision: grid_set.active
        conn.exec_driver_sql("INSERT INTO grid_set (version, description, active, created_at) VALUES "
                             "('demo-1', 'old', 1, '2024-05-01 00:00:00.000000'), "
                             "('spare', 'never active', 0, '2024-06-01 00:00:00.000000')")
    upgrade_to_head(db, MIGRATIONS)
    with db.session() as session:
        sets = {s.version: s.effective_from for s in session.exec(select(GridSet))}
    assert sets == {"demo-1": datetime(2024, 5, 1, tzinfo=UTC), "spare": None}
