"""gridgov_common.db's snapshot reads: every query of a ``Database.snapshot`` session sees one committed state.

On SQLite and (with the real-stack env) PostgreSQL: a commit made by another writer between two of the session's
queries is not seen by the second, a later session sees it, the snapshot writes nothing, and on SQLite it does not
hold the write lock (a writer in another process is not kept waiting by a reader). A long read (``long_read``) is
such a snapshot that on SQLite leaves the process's one shared connection to its writers.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import DBAPIError

from gridgov_common.db import Database

METADATA = MetaData()
ITEM = Table("item", METADATA, Column("id", Integer, primary_key=True), Column("name", String(20)))


def count(session) -> int:
    """How many items the session sees."""
    return session.execute(select(func.count()).select_from(ITEM)).scalar_one()


def other_writer(db: Database) -> Database:
    """A second Database on the same store, as another process would have (SQLite: its own connection)."""
    return Database(str(db.engine.url.render_as_string(hide_password=False)), METADATA, "other")


def test_a_commit_between_two_queries_of_a_snapshot_is_not_seen_by_the_second(db):
    writer = other_writer(db)
    try:
        with db.snapshot() as session:
            assert count(session) == 0
            with writer.session() as other:  # would wait 30 s for SQLite's write lock if the reader held it
                other.execute(insert(ITEM), [{"id": 1, "name": "a"}])
                other.commit()
            assert count(session) == 0  # a plain session (READ COMMITTED on PostgreSQL) sees 1 here
            assert session.execute(select(ITEM.c.name)).all() == []
        with db.snapshot() as session:
            assert count(session) == 1
    finally:
        writer.engine.dispose()


def test_a_plain_session_sees_a_commit_between_its_queries_on_postgresql(pg_url):
    """The reason for snapshots: without one, PostgreSQL's second query sees the other writer's commit (SQLite's
    plain sessions take the write lock at BEGIN, so no other writer commits in between there)."""
    db = Database(pg_url, METADATA, "reader")
    db.create_all()
    writer = other_writer(db)
    try:
        with db.session() as session:
            assert count(session) == 0
            with writer.session() as other:
                other.execute(insert(ITEM), [{"id": 1, "name": "a"}])
                other.commit()
            assert count(session) == 1
    finally:
        writer.engine.dispose()
        db.engine.dispose()


def test_a_snapshot_stores_nothing(db):
    with db.snapshot() as session:
        if db.is_sqlite:
            session.execute(insert(ITEM), [{"id": 2, "name": "b"}])  # SQLite has no read-only transaction ...
            session.rollback()  # ... the session is never committed: what it wrote is dropped at its end
        else:
            with pytest.raises(DBAPIError, match="read-only"):
                session.execute(insert(ITEM), [{"id": 2, "name": "b"}])
    with db.session() as session:
        assert count(session) == 0
        # The pooled connection the snapshot used is writable again (its isolation and read-only reset on return).
        session.execute(insert(ITEM), [{"id": 3, "name": "c"}])
        session.commit()
    with db.session() as session:
        assert count(session) == 1


def test_a_long_read_leaves_the_shared_connection_free_and_sees_one_state(db):
    """While a long read is open (its first query run), the same process writes and commits through its own
    sessions at once — on SQLite they share one connection, which the long read must not hold — and the long read
    still sees the state of its first query."""
    import threading

    done = threading.Event()

    def write() -> None:
        with db.session() as session:
            session.execute(insert(ITEM), [{"id": 4, "name": "d"}])
            session.commit()
        done.set()

    with db.long_read() as reading:
        assert count(reading) == 0
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(10)
        assert done.is_set(), "the write waited for the long read"
        assert count(reading) == 0
    with db.long_read() as reading:
        assert count(reading) == 1


def test_a_long_read_stores_nothing(db):
    with db.long_read() as reading:
        with pytest.raises(DBAPIError, match="read-only|readonly|attempt to write"):
            reading.execute(insert(ITEM), [{"id": 5, "name": "e"}])
    with db.session() as session:
        assert count(session) == 0


def test_an_in_memory_database_reads_long_on_its_one_connection():
    memory = Database("sqlite:///:memory:", METADATA, "memory")
    memory.create_all()
    try:
        with memory.session() as session:
            session.execute(insert(ITEM), [{"id": 6, "name": "f"}])
            session.commit()
        with memory.long_read() as reading:
            assert count(reading) == 1
        assert memory._reader is None
    finally:
        memory.dispose()


def test_a_long_read_has_the_page_cache_of_the_database(tmp_path):
    """A service that sizes its SQLite page cache (sensing: 16 MiB) reads long with the same cache."""
    sized = Database(f"sqlite:///{tmp_path / 'sized.db'}", METADATA, "sized", sqlite_cache_kib=4096)
    sized.create_all()
    try:
        with sized.long_read() as reading:
            assert reading.connection().exec_driver_sql("PRAGMA cache_size").scalar_one() == -4096
    finally:
        sized.dispose()
