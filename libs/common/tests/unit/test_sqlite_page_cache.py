"""A service may ask for a larger SQLite page cache than SQLite's default (sensing does, for its grouping batches)."""

from sqlalchemy import MetaData

from gridgov_common.db import Database


def cache_size(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA cache_size").scalar_one()


def test_the_page_cache_asked_for_is_set_on_the_connection(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'svc.db'}", MetaData(), "svc", sqlite_cache_kib=16_384)
    assert cache_size(db) == -16_384  # negative: KiB
    db.engine.dispose()
    assert cache_size(db) == -16_384  # a new connection gets it too


def test_without_one_sqlite_keeps_its_default(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'svc.db'}", MetaData(), "svc")
    assert cache_size(db) == -2_000
