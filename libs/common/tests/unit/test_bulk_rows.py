"""gridgov_common.db's bulk rows (``positional_insert`` + ``bind_rows``), used by the history loaders: what they
store is what SQLAlchemy's own insert stores, on SQLite and (with the real-stack env) PostgreSQL, with and without
the per-column memo; a conflicting row is skipped; nothing converts a None. On SQLite the datetime columns take a
shorter way to the same text (``_sqlite_datetime_text``): whole seconds, early years and zones other than UTC
included."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.sql.sqltypes import UTCDateTime

from gridgov_common.db import Database, bind_rows, positional_insert

METADATA = MetaData()
KINDS = {name: Table(name, METADATA, Column("id", Integer, primary_key=True), Column("name", String(40)),
                     Column("at", DateTime(timezone=True)), Column("flag", Boolean), Column("x", Float),
                     Column("doc", JSON), Column("at_utc", UTCDateTime()), Column("wall", DateTime()))
         for name in ("bulk", "reference")}
COLUMNS = ("id", "name", "at", "flag", "x", "doc", "at_utc", "wall")


def random_rows(seed: int, n: int) -> list[dict]:
    """Rows with awkward values: None in every column but the key, repeated times, zones other than UTC."""
    rng = random.Random(seed)
    zones = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))]
    base = datetime(2026, 3, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        at = base + timedelta(days=rng.randrange(3), microseconds=rng.choice([0, rng.randrange(10**6)]))
        if i % 50 == 0:
            at = at.replace(year=rng.choice([1, 999, 9999]))
        out.append({"id": i + 1, "name": rng.choice([None, "网格", "a'b", "x" * 40]),
                    "at": rng.choice([None, at.astimezone(rng.choice(zones))]), "flag": rng.choice([None, True, False]),
                    "x": rng.choice([None, 0.1 + i, -2.5]), "doc": rng.choice([None, {"k": [1, "二"]}]),
                    "at_utc": rng.choice([None, at, at.astimezone(rng.choice(zones))]),
                    "wall": rng.choice([None, at.replace(tzinfo=None)])})
    return out


def stored(db: Database, table: Table) -> list[tuple]:
    """Every row of ``table`` by id, times as UTC instants (SQLite gives them back naive)."""
    with db.engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.id)).all()
    return [tuple(v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else
                  v.astimezone(UTC) if isinstance(v, datetime) else v for v in row) for row in rows]


@pytest.mark.parametrize("memo", [False, True])
def test_bulk_rows_store_what_sqlalchemys_insert_stores(db, memo):
    rows = random_rows(7, 300)
    with db.engine.begin() as conn:
        sql, processors = positional_insert(conn.dialect, KINDS["bulk"], COLUMNS)
        # the JSON column's dicts are not hashable: the memo is for the other columns only
        plain = [(i, p) for i, p in processors if COLUMNS[i] != "doc"]
        doc = [(i, p) for i, p in processors if COLUMNS[i] == "doc"]
        values = bind_rows([[r[c] for c in COLUMNS] for r in rows], plain, memo=memo)
        conn.exec_driver_sql(sql, bind_rows(values, doc))
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(KINDS["reference"])
        conn.execute(insert, rows)
    assert stored(db, KINDS["bulk"]) == stored(db, KINDS["reference"])
    assert len(stored(db, KINDS["bulk"])) == 300


def test_a_row_that_hits_the_key_is_skipped_and_the_stored_one_kept(db):
    with db.engine.begin() as conn:
        sql, processors = positional_insert(conn.dialect, KINDS["bulk"], ("id", "name"))
        conn.exec_driver_sql(sql, bind_rows([(1, "first"), (2, "second")], processors))
        conn.exec_driver_sql(sql, bind_rows([(1, "again"), (3, "third")], processors))
    assert [r[:2] for r in stored(db, KINDS["bulk"])] == [(1, "first"), (2, "second"), (3, "third")]


def test_a_naive_time_for_a_utc_column_is_refused_as_sqlalchemy_refuses_it(db):
    with db.engine.begin() as conn:
        _sql, processors = positional_insert(conn.dialect, KINDS["bulk"], ("id", "at_utc"))
    with pytest.raises(ValueError, match="timezone information"):
        bind_rows([(1, datetime(2026, 3, 1))], processors)


def test_bind_rows_of_nothing_is_nothing_and_none_is_never_converted():
    assert bind_rows([], [(0, lambda v: 1 / 0)]) == []
    assert bind_rows([(None, "a")], [(0, lambda v: 1 / 0)]) == [(None, "a")]
    assert bind_rows([(1, "a"), (1, "b")], [(0, str)], memo=True) == [("1", "a"), ("1", "b")]
