"""gridgov_common.db.write_outbox (which ``Database.add_outbox``'s rows also go through at commit): outbox rows
written in one driver call store what SQLAlchemy's insert stores, on SQLite and (with the real-stack env)
PostgreSQL, and the relay is woken after the commit."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData, insert, select

from gridgov_common.bus.envelope import Envelope
from gridgov_common.db import write_outbox

METADATA = MetaData()  # the Database adds the outbox and handled-message tables to it


def stored(db) -> list[tuple]:
    """Every outbox row but its id, in id order."""
    table = db.tables.outbox
    with db.engine.connect() as conn:
        rows = conn.execute(select(table.c.topic, table.c.key, table.c.message_id, table.c.value,
                                   table.c.created_at).order_by(table.c.id))
        return [tuple(r) for r in rows]


def test_rows_written_now_store_what_sqlalchemy_stores(db):
    at = datetime(2026, 12, 3, 12, 15, 1, 123456, tzinfo=UTC)  # outbox times are UTC (add_outbox: now(UTC))
    envelopes = [Envelope(type="t.x", key=f"k{i}", producer="test", correlation_id="c-1", payload={"i": i, "n": "井盖"})
                 for i in range(3)]
    with db.session() as session:  # the reference: SQLAlchemy's own insert of the same rows
        session.execute(insert(db.tables.outbox), [
            {"topic": "topic.a", "key": e.key, "message_id": str(e.id), "value": e.to_bytes(), "created_at": at}
            for e in envelopes])
        session.commit()
    by_orm = stored(db)
    db.outbox_written.clear()  # set by that commit; the relay would have cleared it
    with db.session() as session:
        session.execute(db.tables.outbox.delete())
        write_outbox(session, [("topic.a", e.key, str(e.id), e.to_bytes(), at) for e in envelopes])
        assert not db.outbox_written.is_set()  # not before the commit
        session.commit()
    assert db.outbox_written.is_set()
    direct = stored(db)
    assert [r[:4] for r in direct] == [r[:4] for r in by_orm]  # same order, keys, ids and bytes
    # The time as SQLAlchemy's insert stores it, read back (SQLite: naive UTC wall time; PostgreSQL: aware).
    assert {r[4].replace(tzinfo=r[4].tzinfo or UTC) for r in direct} == {at}
    with db.session() as session:
        write_outbox(session, [])  # nothing to write: no statement, no mark
        assert "outbox_dirty" not in session.info


def test_a_large_batch_keeps_its_order_in_the_ids(db):
    """The relay publishes by id: the ids must follow the rows' order (PostgreSQL inserts the batch from one array
    per column, in one statement)."""
    at = datetime.now(UTC)
    rows = [("topic.a", f"k{i % 7}", f"m-{i:05d}", f"v{i}".encode(), at) for i in range(2_500)]
    with db.session() as session:
        write_outbox(session, rows)
        session.commit()
    assert [r[2] for r in stored(db)] == [r[2] for r in rows]
