"""The history's bulk loader: ticket events and ratings the history generator builds, projected and written with
``origin='history'`` without the bus (``gridgov history generate`` calls :func:`load_history`).

The same :func:`gridgov_analytics.cube.projection.project` as the live consumer, so history and live counts agree.
Facts are read and written in chunks of events; a re-run with the same events changes nothing (the projection
skips what a fact already holds), so an interrupted load completes when run again.

The rows are written as :func:`gridgov_analytics.cube.service.apply_batch` writes a batch (each changed fact once,
keeping a stored fact's origin; one ``n = n + excluded.n`` upsert per distinct count key, rows in key order), but
as positional rows through the driver's executemany, each value passed through its column type's own bind
processor: a history is over a million events and 750,000 rows, and SQLAlchemy's per-row parameter handling cost
more than the projection and SQLite together.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

import sqlalchemy as sa

from gridgov_analytics.cube import service
from gridgov_analytics.cube.models import HISTORY, DailyCount, TicketFact
from gridgov_analytics.cube.projection import COUNT_KEY, FactState, project
from gridgov_common.db import Database, bind_rows, positional_insert
from gridgov_common.events.feedback import FeedbackReceived
from gridgov_common.events.tickets import TicketEvent

CHUNK = 50_000  # events per transaction
HISTORY_MARKER = "history_loaded_at"


@dataclass(frozen=True)
class HistoryStats:
    """What a history load did."""

    events: int
    tickets: int
    facts_written: int
    count_keys_written: int
    seconds: float


def load_history(db: Database, events: Iterable[tuple[str, TicketEvent | FeedbackReceived]]) -> HistoryStats:
    """Project ``(event type, payload)`` pairs, in the order they happened, into facts and daily counts of origin
    'history', one transaction per chunk."""
    started = time.perf_counter()
    iterator = iter(events)
    n_events = facts_written = keys_written = 0
    tickets: set[str] = set()
    while chunk := list(islice(iterator, CHUNK)):
        n_events += len(chunk)
        with db.session() as session:
            before = service.load_facts(session, {p.ticket_id for _, p in chunk})
            facts: dict[str, FactState] = {}
            totals: Counter = Counter()  # count key → n (what service.aggregate sums)
            for event_type, payload in chunk:
                ticket_id = payload.ticket_id
                stored = before.get(ticket_id)
                current = facts.get(ticket_id) or (stored.state if stored else None)
                fact, incs = project(current, event_type, payload)
                if fact is not current:
                    facts[ticket_id] = fact
                for inc in incs:
                    totals[inc[:7]] += inc.n
            tickets.update(facts)
            conn = session.connection()
            facts_written += _write_facts(conn, facts, before)
            keys_written += _write_counts(conn, totals)
            service.set_state(session, HISTORY_MARKER, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            session.commit()
    return HistoryStats(n_events, len(tickets), facts_written, keys_written, round(time.perf_counter() - started, 3))


def _write_facts(conn: sa.Connection, facts: Mapping[str, FactState],
                 before: Mapping[str, service.StoredFact]) -> int:
    """Upsert each changed fact once (a stored fact keeps its origin and kept history state); how many."""
    if not facts:
        return 0
    sql, columns, processors = _fact_statement(conn.dialect)
    rows = []
    for ticket_id, fact in sorted(facts.items()):  # key order, as apply_batch (no deadlock between writers)
        old = before.get(ticket_id)
        row = service.fact_columns(fact)  # the read model's one mapping of a fact to its columns
        row["origin"] = old.origin if old else HISTORY
        row["history_state"] = old.history_state if old else None
        rows.append([row[c] for c in columns])
    conn.exec_driver_sql(sql, bind_rows(rows, processors, memo=True))
    return len(rows)


def _write_counts(conn: sa.Connection, totals: Counter) -> int:
    """Add each distinct count key's sum (``n = n + excluded.n``); how many keys."""
    if not totals:
        return 0
    sql, _columns, processors = _count_statement(conn.dialect)
    rows = [[*key, HISTORY, n] for key, n in sorted(totals.items()) if n]
    conn.exec_driver_sql(sql, bind_rows(rows, processors, memo=True))
    return len(totals)


def _upsert(dialect: sa.Dialect, table: sa.Table, columns: tuple[str, ...], key: tuple[str, ...],
            updates: str) -> tuple[str, tuple[str, ...], list[tuple[int, Callable[[Any], Any]]]]:
    """An INSERT … ON CONFLICT (key) DO UPDATE with positional parameters (SQLite and PostgreSQL alike), its
    columns and the bind processors of those whose type has one (by position)."""
    quote = dialect.identifier_preparer.quote
    sql, processors = positional_insert(
        dialect, table, columns, f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {updates}")
    return sql, columns, processors


@functools.cache
def _fact_statement(dialect: sa.Dialect) -> tuple[str, tuple[str, ...], list]:
    table = TicketFact.__table__
    quote = dialect.identifier_preparer.quote
    columns = tuple(c.name for c in table.c)
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c != "ticket_id")
    return _upsert(dialect, table, columns, ("ticket_id",), updates)


@functools.cache
def _count_statement(dialect: sa.Dialect) -> tuple[str, tuple[str, ...], list]:
    table = DailyCount.__table__
    quote = dialect.identifier_preparer.quote
    columns = (*COUNT_KEY, "origin", "n")
    updates = f"n = {quote(table.name)}.n + excluded.n"
    return _upsert(dialect, table, columns, (*COUNT_KEY, "origin"), updates)
