"""The cube's consumer works a batch as a batch (#18): its tickets' facts read in one query at commit, the messages
projected in the order they came; the facts and counts equal those of the same messages handled one at a time,
for any batch size, and a redelivered batch changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from gridgov_analytics.consumers import cube_spec
from gridgov_analytics.cube.models import DailyCount, TicketFact
from gridgov_analytics.tables import metadata
from gridgov_common.db import Database
from services.analytics.tests.support import rating_envelope, ticket_envelope

DAY0 = datetime(2026, 10, 5, 1, tzinfo=UTC)
TICKETS = 40


def messages() -> list:
    """Forty tickets' lifecycles, interleaved (each ticket's own messages in order), some returned, escalated,
    rated, and a ticket whose rating comes before its registration."""
    lives = []
    for i in range(TICKETS):
        ticket, at = f"B-{i:03d}", DAY0 + timedelta(hours=i)
        kwargs = dict(grid=("441900001001001", "441900001001002")[i % 2], category=("04002", "01001")[i % 2],
                      channel=("hotline", "patrol", "citizen")[i % 3])
        life = [ticket_envelope("register", ticket, at, **kwargs),
                ticket_envelope("dispatch", ticket, at + timedelta(minutes=1), **kwargs)]
        if i % 5 == 0:
            life.append(ticket_envelope("return", ticket, at + timedelta(minutes=5), **kwargs))
        if i % 4 == 0:
            life.append(ticket_envelope("escalate", ticket, at + timedelta(hours=30), escalation_level=1, **kwargs))
        life.append(ticket_envelope("close", ticket, at + timedelta(hours=40 if i % 4 == 0 else 3), **kwargs))
        if i % 3 == 0:
            life.append(rating_envelope(ticket, at + timedelta(days=2), satisfaction=1 if i % 9 == 0 else 5))
        if i == 7:
            life.insert(0, rating_envelope(ticket, at - timedelta(hours=1), satisfaction=2))
        lives.append(life)
    out = []
    while any(lives):
        for life in lives:
            if life:
                out.append(life.pop(0))
    return out


@pytest.fixture
def cube(tmp_path):
    """A fresh analytics database (generation 1) and its cube consumer's batch handler."""
    databases = []

    def make(name: str):
        db = Database(f"sqlite:///{tmp_path / name}.db", metadata, "analytics")
        db.create_all()
        databases.append(db)
        return db, cube_spec(db, 1).handler

    yield make
    for db in databases:
        db.engine.dispose()


def stored(db: Database) -> tuple[list, list]:
    """Every fact and every count row, in key order."""
    with db.engine.connect() as conn:
        facts = [tuple(r) for r in conn.execute(select(TicketFact.__table__).order_by(TicketFact.ticket_id))]
        counts = [tuple(r) for r in conn.execute(select(DailyCount.__table__).order_by(*DailyCount.__table__.c))]
    return facts, counts


def fact_reads(db: Database) -> list[str]:
    """The SELECTs on ticket_fact the engine runs from now on."""
    seen: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, _params, _context, _executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT") and "ticket_fact" in statement:
            seen.append(statement)

    return seen


@pytest.mark.parametrize("size", [7, 100, 1000])
def test_a_batch_stores_what_its_messages_one_at_a_time_store(cube, size):
    msgs = messages()
    one_db, one = cube("one")
    for envelope in msgs:
        one([envelope])
    batch_db, handle = cube("batch")
    reads = fact_reads(batch_db)
    for start in range(0, len(msgs), size):
        handle(msgs[start:start + size])
    assert len(reads) == -(-len(msgs) // size)  # one read of the facts per batch
    facts, counts = stored(batch_db)
    assert (facts, counts) == stored(one_db)
    assert len(facts) == TICKETS and counts


def test_a_redelivered_batch_changes_nothing(cube):
    msgs = messages()
    db, handle = cube("redelivered")
    handle(msgs[:120])
    before = stored(db)
    handle(msgs[:120])
    assert stored(db) == before


def test_a_batch_that_fails_at_commit_stores_nothing_and_its_messages_alone_store_the_same(cube):
    msgs = messages()[:60]
    bad = ticket_envelope("register", "B-bad", DAY0)
    bad = bad.model_copy(update={"payload": {**bad.payload, "occurred_at": "not a time"}})
    db, handle = cube("poison")
    with pytest.raises(Exception):  # noqa: B017 - the payload's validation error
        handle([*msgs[:30], bad, *msgs[30:]])
    assert stored(db) == ([], [])
    for envelope in [*msgs[:30], bad, *msgs[30:]]:  # the runner's fallback: one at a time, the bad one alone fails
        if envelope is bad:
            with pytest.raises(Exception):  # noqa: B017
                handle([envelope])
        else:
            handle([envelope])
    reference_db, reference = cube("reference")
    reference(msgs)
    assert stored(db) == stored(reference_db)
