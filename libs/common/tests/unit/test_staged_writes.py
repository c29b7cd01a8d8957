"""gridgov_common.db's staged writes: rows staged in a transaction are written once, just before it commits.

On SQLite and (with the real-stack env) PostgreSQL: the rows land in staging order, one statement per table, a
unique key skips duplicates, a rollback forgets what it staged, a writer asked many times writes once, and a
step that reads staged rows back can write them first.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, event, select

from gridgov_common.db import Database, on_commit, stage_insert, stage_latest, write_staged

METADATA = MetaData()
PARENT = Table("parent", METADATA, Column("id", Integer, primary_key=True), Column("name", String(20)))
CHILD = Table("child", METADATA, Column("id", Integer, primary_key=True),
              Column("parent_id", Integer, ForeignKey("parent.id"), nullable=False),
              Column("tag", String(20), nullable=False, unique=True))
# An announced state: the latest version of each code wins; ``shape`` is kept when an announcement has none.
ANNOUNCED = Table("announced", METADATA, Column("code", String(20), primary_key=True),
                  Column("version", Integer, nullable=False), Column("name", String(20)), Column("shape", String(20)))


def announce(session, code: str, version: int, name: str, shape: str | None = None) -> None:
    """Stage one announcement with the upsert rule these tests hold to."""
    stage_latest(session, ANNOUNCED, {"code": code, "version": version, "name": name, "shape": shape},
                 key="code", order="version", keep=("shape",))


def announced(db: Database) -> list[tuple]:
    """Every announced row, by code."""
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(ANNOUNCED).order_by(ANNOUNCED.c.code))]


def statements(db: Database) -> list[str]:
    """The SQL statements the engine runs from now on (a list that fills as they run)."""
    seen: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, _params, _context, _executemany):  # noqa: ANN001
        seen.append(statement.split()[0].upper())

    return seen


def rows(db: Database, table: Table) -> list[tuple]:
    """Every row of ``table``, by id."""
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]


def test_staged_rows_are_written_at_commit_one_insert_per_table_in_staging_order(db):
    with db.session() as session:
        for i in range(1, 4):
            stage_insert(session, PARENT, [{"id": i, "name": f"p{i}"}])
            stage_insert(session, CHILD, [{"id": 10 + i, "parent_id": i, "tag": f"t{i}"}], ("tag",))
        assert rows(db, PARENT) == []  # nothing written before the commit (another connection sees nothing)
        seen = statements(db)
        session.commit()
    assert [s for s in seen if s == "INSERT"] == ["INSERT", "INSERT"]  # one per table, parents first (the FK)
    assert rows(db, PARENT) == [(1, "p1"), (2, "p2"), (3, "p3")]
    assert rows(db, CHILD) == [(11, 1, "t1"), (12, 2, "t2"), (13, 3, "t3")]


def test_a_row_that_hits_the_conflict_key_is_skipped_staged_twice_or_stored_before(db):
    with db.session() as session:
        stage_insert(session, PARENT, [{"id": 1, "name": "p1"}])
        stage_insert(session, CHILD, [{"id": 11, "parent_id": 1, "tag": "a"}], ("tag",))
        session.commit()
    with db.session() as session:
        stage_insert(session, CHILD, [{"id": 12, "parent_id": 1, "tag": "a"},  # stored before
                                      {"id": 13, "parent_id": 1, "tag": "b"},
                                      {"id": 14, "parent_id": 1, "tag": "b"}], ("tag",))  # staged twice
        session.commit()
    assert rows(db, CHILD) == [(11, 1, "a"), (13, 1, "b")]


def test_without_a_conflict_key_a_duplicate_fails_the_commit_and_writes_nothing(db):
    with db.session() as session:
        stage_insert(session, PARENT, [{"id": 1, "name": "p1"}])
        session.commit()
    with pytest.raises(Exception), db.session() as session:  # noqa: B017 - IntegrityError of either driver
        stage_insert(session, PARENT, [{"id": 2, "name": "p2"}, {"id": 1, "name": "again"}])
        session.commit()
    assert rows(db, PARENT) == [(1, "p1")]


def test_a_rollback_forgets_what_the_transaction_staged(db):
    calls: list[str] = []
    with db.session() as session:
        stage_insert(session, PARENT, [{"id": 1, "name": "rolled back"}])
        on_commit(session, lambda _s: calls.append("rolled back"))
        session.rollback()
        stage_insert(session, PARENT, [{"id": 2, "name": "kept"}])
        session.commit()
    assert rows(db, PARENT) == [(2, "kept")]
    assert calls == []


def test_a_writer_asked_many_times_writes_once_per_commit_in_the_order_first_asked(db):
    calls: list[str] = []

    def first(_session) -> None:
        calls.append("first")

    def second(_session) -> None:
        calls.append("second")

    with db.session() as session:
        for _ in range(5):
            on_commit(session, first)
            on_commit(session, second)
        session.commit()
        assert calls == ["first", "second"]
        on_commit(session, second)  # the next transaction of the same session
        session.commit()
        session.commit()  # nothing staged since: nobody is asked
    assert calls == ["first", "second", "second"]


def test_writing_early_lets_the_transaction_read_its_rows_and_the_rest_is_written_at_commit(db):
    with db.session() as session:
        stage_insert(session, PARENT, [{"id": 1, "name": "p1"}])
        write_staged(session)  # a step that reads the staged rows back writes them first
        assert session.execute(select(PARENT.c.name)).scalars().all() == ["p1"]
        stage_insert(session, PARENT, [{"id": 2, "name": "p2"}])
        seen = statements(db)
        session.commit()
    assert seen.count("INSERT") == 1  # only the row staged after the early write
    assert rows(db, PARENT) == [(1, "p1"), (2, "p2")]


def test_a_writer_that_stages_more_rows_as_it_writes_gets_them_written_too(db):
    def parents_then_children(session) -> None:
        stage_insert(session, PARENT, [{"id": 1, "name": "p1"}])
        stage_insert(session, CHILD, [{"id": 11, "parent_id": 1, "tag": "a"}])

    with db.session() as session:
        on_commit(session, parents_then_children)
        session.commit()
    assert rows(db, CHILD) == [(11, 1, "a")]


def test_one_table_staged_with_two_conflict_keys_is_refused(db):
    with db.session() as session:
        stage_insert(session, CHILD, [{"id": 11, "parent_id": 1, "tag": "a"}], ("tag",))
        with pytest.raises(ValueError, match="two conflict keys"):
            stage_insert(session, CHILD, [{"id": 12, "parent_id": 1, "tag": "b"}])


def test_a_session_that_stages_nothing_runs_no_statement_at_commit(db):
    with db.session() as session:
        session.execute(select(PARENT.c.id))
        seen = statements(db)
        session.commit()
    assert [s for s in seen if s in ("INSERT", "UPDATE")] == []


def test_latest_rows_are_upserted_at_commit_in_one_statement_the_latest_of_each_key_winning(db):
    with db.session() as session:
        announce(session, "a", 1, "a1", "sq")
        announce(session, "a", 3, "a3", "tri")
        announce(session, "a", 2, "a2 older", "x")  # older than the staged one: dropped
        announce(session, "b", 1, "b1", "sq")
        assert announced(db) == []  # nothing before the commit
        seen = statements(db)
        session.commit()
    assert seen.count("INSERT") == 1
    assert announced(db) == [("a", 3, "a3", "tri"), ("b", 1, "b1", "sq")]


def test_a_stored_later_row_is_not_replaced_by_an_older_one_and_an_equal_one_replaces_it(db):
    with db.session() as session:
        announce(session, "a", 5, "a5", "sq")
        announce(session, "b", 5, "b5", "sq")
        session.commit()
    with db.session() as session:
        announce(session, "a", 4, "a4 replayed", "x")
        announce(session, "b", 5, "b5 again", "tri")  # the same version redelivered: it is the latest too
        announce(session, "c", 1, "c1")
        session.commit()
    assert announced(db) == [("a", 5, "a5", "sq"), ("b", 5, "b5 again", "tri"), ("c", 1, "c1", None)]


def test_a_kept_column_keeps_its_stored_value_where_the_new_row_has_none(db):
    with db.session() as session:
        announce(session, "a", 1, "a1", "sq")
        session.commit()
    with db.session() as session:
        announce(session, "a", 2, "a2 retired", None)
        session.commit()
    assert announced(db) == [("a", 2, "a2 retired", "sq")]


def test_latest_rows_are_forgotten_on_rollback_and_readable_after_an_early_write(db):
    with db.session() as session:
        announce(session, "a", 1, "rolled back")
        session.rollback()
        announce(session, "b", 1, "b1")
        write_staged(session)  # a step that reads them back in the same transaction writes them first
        assert session.execute(select(ANNOUNCED.c.code)).scalars().all() == ["b"]
        session.commit()
    assert announced(db) == [("b", 1, "b1", None)]


def test_one_table_staged_with_two_upsert_rules_is_refused(db):
    with db.session() as session:
        announce(session, "a", 1, "a1")
        with pytest.raises(ValueError, match="two upsert rules"):
            stage_latest(session, ANNOUNCED, {"code": "b", "version": 1, "name": "b1", "shape": None},
                         key="code", order="version")
