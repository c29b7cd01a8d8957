"""gridgov_common.db's snapshot reads: every query of a ``Database.snapshot`` session sees one committed state.

On SQLite and (with the real-stack env) PostgreSQL: a commit made by another writer between two of the session's
queries is not seen by the second, a later session sees it, the snapshot writes nothing, and on SQLite it does not
hold the write lock (a writer in another process is not kept waiting by a reader).
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
