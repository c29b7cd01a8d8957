"""gridgov_common.db.Database.idempotent_batch: each message applied once — a repeat inside a batch, a redelivered
batch, a message another batch handled — and its handled-message row stored as SQLAlchemy stores it; and the
records' pruning by age; on SQLite and (with the real-stack env) PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, select

from gridgov_common.bus.envelope import Envelope
from tests.support.sql_plans import generic_plan, scans_of

METADATA = MetaData()  # the Database adds the outbox and handled-message tables to it


def _envelope(i: int) -> Envelope:
    return Envelope(type="t.x", key=f"k{i}", producer="test", correlation_id=f"c-{i}", payload={"i": i})


def _handled(db) -> list[tuple]:
    table = db.tables.handled
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table.c.consumer, table.c.message_id, table.c.handled_at)
                                               .order_by(table.c.consumer, table.c.message_id))]


def test_each_message_is_applied_once_and_recorded_once(db):
    applied: list[tuple[str, int]] = []
    first = db.idempotent_batch("c.one", lambda _s, e: applied.append(("one", e.payload["i"])))
    other = db.idempotent_batch("c.two", lambda _s, e: applied.append(("two", e.payload["i"])))
    a, b, c = _envelope(1), _envelope(2), _envelope(3)
    before = datetime.now(UTC)
    first([a, b, a])  # a repeat inside the batch
    first([a, b])  # the batch delivered again
    first([b, c])  # one handled before, one new
    other([a])  # another consumer group handles the same message for itself
    after = datetime.now(UTC)
    assert applied == [("one", 1), ("one", 2), ("one", 3), ("two", 1)]
    rows = _handled(db)
    assert sorted((r[0], r[1]) for r in rows) == sorted(
        [("c.one", str(a.id)), ("c.one", str(b.id)), ("c.one", str(c.id)), ("c.two", str(a.id))])
    # The time as SQLAlchemy reads it back: SQLite's naive UTC wall time, PostgreSQL's aware one.
    assert all(before <= r[2].replace(tzinfo=r[2].tzinfo or UTC) <= after for r in rows)


def test_a_failing_message_records_nothing_of_its_batch(db):
    def apply(_session, envelope: Envelope) -> None:
        if envelope.payload["i"] == 2:
            raise ValueError("poison")

    handle = db.idempotent_batch("c.fail", apply)
    with pytest.raises(ValueError, match="poison"):
        handle([_envelope(1), _envelope(2)])
    assert _handled(db) == []


def test_pruning_forgets_only_the_records_made_before_the_moment(db):
    applied: list[int] = []
    handle = db.idempotent_batch("c.prune", lambda _s, e: applied.append(e.payload["i"]))
    old = [_envelope(i) for i in range(7)]
    handle(old)
    time.sleep(0.01)
    moment = datetime.now(UTC)
    time.sleep(0.01)
    recent = [_envelope(10), _envelope(11)]
    handle(recent)

    assert db.prune_handled(moment, batch=3, most=5) == 5  # two transactions, then the pass's limit
    assert db.prune_handled(moment, batch=3) == 2
    assert db.prune_handled(moment) == 0
    assert sorted(r[1] for r in _handled(db)) == sorted(str(e.id) for e in recent)
    applied.clear()
    handle(recent)  # still remembered: not applied again
    assert applied == []
    handle(old[:1])  # forgotten: a copy arriving now would be applied (the caller's moment must rule that out)
    assert applied == [0]


@pytest.mark.distributed
def test_the_postgresql_lookup_probes_the_primary_key_even_in_a_generic_plan_without_statistics(pg_url):
    """psycopg prepares a statement run five times and PostgreSQL may keep a generic plan; on a handled-message
    table that grew without statistics the ``IN`` list's generic plan read every row of the consumer and compared
    each with the whole list (2.25 s per 1,000-message batch at 100,000 rows). The lookup's generic plan must
    reach each id by the primary key (consumer, message_id)."""
    from gridgov_common.db import Database, handled_lookup

    db = Database(pg_url, MetaData(), "lookup")
    db.create_all()
    table = db.tables.handled.name
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")  # no statistics, ever
            conn.exec_driver_sql(f"INSERT INTO {table} (consumer, message_id, handled_at) SELECT 'c.big', "
                                 f"md5(i::text), now() FROM generate_series(1, 20000) AS i")
        ids = [f"{i:032x}" for i in range(1000)] + ["c4ca4238a0b923820dcc509a6f75849b"]  # md5('1'): handled
        sql, params = handled_lookup("postgresql", table, "%s")("c.big", ids)
        with db.engine.connect() as conn:
            assert [r[0] for r in conn.exec_driver_sql(sql, params)] == [ids[-1]]
        numbered = sql.replace("%s", "$1", 1).replace("%s", "$2", 1)
        listed = ", ".join(f"'{i}'" for i in ids)  # hex ids only: safe as literals
        plan = generic_plan(db.engine, numbered, ["varchar[]", "varchar"], f"ARRAY[{listed}], 'c.big'")
        scans = scans_of(plan, table)
        assert scans and all(s["Node Type"] in ("Index Scan", "Index Only Scan") for s in scans), plan
        assert all("message_id" in s.get("Index Cond", "") for s in scans), plan
    finally:
        db.dispose()
