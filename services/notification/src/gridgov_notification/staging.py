"""Rows staged in a transaction and written at its commit: one multi-row INSERT per table instead of one per row.

A consumer batch files an inbox message and one to three deliveries per ticket event; writing them one statement
per row (and through ORM objects) was most of notification's CPU (#18). Handlers stage plain rows here; just
before the transaction commits, each table's rows go in one ``INSERT … ON CONFLICT DO NOTHING`` executemany, in
staging order. The conflict clause keeps the unique keys the last guard against a duplicate, as before: a
redelivered event, or the same row staged twice, files one row. A rollback forgets the staged rows with the rest
of the transaction. Nothing in the same transaction reads these tables back before commit (the consumer only
writes them), which is what makes deferring the writes safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Table, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

_ROWS = "gridgov_notification_staged"  # {table: (conflict columns, [rows])}, per transaction
_HOOKED = "gridgov_notification_staging_hooked"  # per session: the commit/rollback listeners are in place


def stage(session: Session, table: Table, conflict: Sequence[str], rows: Iterable[dict]) -> None:
    """Stage ``rows`` of ``table`` to be inserted at commit, skipping any that hit the ``conflict`` unique key."""
    if not session.info.get(_HOOKED):
        event.listen(session, "before_commit", write_staged)
        event.listen(session, "after_rollback", _forget)
        session.info[_HOOKED] = True
    staged = session.info.setdefault(_ROWS, {})
    entry = staged.get(table)
    if entry is None:
        entry = staged[table] = (tuple(conflict), [])
    entry[1].extend(rows)


def write_staged(session: Session) -> None:
    """Insert every staged row now, one executemany per table (called before commit; callable earlier)."""
    staged = session.info.pop(_ROWS, None)
    if not staged:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for table, (conflict, rows) in staged.items():
        if rows:
            session.execute(insert(table).on_conflict_do_nothing(index_elements=list(conflict)), rows)


def _forget(session: Session) -> None:
    session.info.pop(_ROWS, None)
