"""A service may ask for a larger SQLite page cache and a longer WAL between checkpoints than SQLite's defaults
(sensing does both, for its grouping batches)."""

import os

from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, func, insert, select

from gridgov_common.db import Database


def cache_size(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA cache_size").scalar_one()


def checkpoint_pages(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()


def test_the_page_cache_asked_for_is_set_on_the_connection(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'svc.db'}", MetaData(), "svc", sqlite_cache_kib=16_384)
    assert cache_size(db) == -16_384  # negative: KiB
    db.engine.dispose()
    assert cache_size(db) == -16_384  # a new connection gets it too


def test_without_one_sqlite_keeps_its_default(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'svc.db'}", MetaData(), "svc")
    assert cache_size(db) == -2_000
    assert checkpoint_pages(db) == 1_000


def test_the_checkpoint_interval_asked_for_is_set_on_every_connection(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'svc.db'}", MetaData(), "svc", sqlite_checkpoint_pages=16_384)
    assert checkpoint_pages(db) == 16_384
    db.engine.dispose()
    assert checkpoint_pages(db) == 16_384


def _write_megabytes(db: Database, table: Table, megabytes: int) -> None:
    """``megabytes`` of rows, one commit per megabyte (each commit may checkpoint)."""
    for _ in range(megabytes):
        with db.session() as session:
            session.execute(insert(table), [{"blob": os.urandom(1000)} for _ in range(1000)])
            session.commit()


def test_the_wal_grows_to_the_interval_before_it_is_copied_into_the_database(tmp_path):
    # What the setting changes: with SQLite's 1,000 pages (4 MiB) the WAL is copied back and reused from its start
    # every few commits, so its file stays near 4 MiB; with 4,096 pages the same 10 MB of commits stay in the WAL.
    sizes = {}
    for name, pages in (("default", None), ("longer", 4_096)):
        metadata = MetaData()
        table = Table("t", metadata, Column("id", Integer, primary_key=True), Column("blob", LargeBinary))
        path = tmp_path / f"{name}.db"
        db = Database(f"sqlite:///{path}", metadata, name, sqlite_checkpoint_pages=pages)
        metadata.create_all(db.engine)
        _write_megabytes(db, table, 10)
        sizes[name] = os.path.getsize(f"{path}-wal")
        with db.snapshot() as session:  # everything written is there, whichever file holds it
            assert session.execute(select(func.count()).select_from(table)).scalar_one() == 10_000
        db.engine.dispose()
    assert sizes["default"] < 6 * 2**20 and sizes["longer"] > 8 * 2**20  # 4.0 and 10.0 MiB when measured
