"""What SQLite plans for the statements a piece of code runs: the plan tests' one way of catching and explaining them.

SQLite keeps no statistics here, so a plan depends on the statement's shape, not on the rows: a walk that takes
minutes with a city's past shows in a test database of a few rows. ``captured`` records the statements the calling
thread runs on an engine (a service's consumers and outbox relay use it from their own threads meanwhile); ``plan``
explains one, with its own parameters or, by default, with every parameter NULL — the plan made before any value is
known, as PostgreSQL's generic plan is (a partial index is usable then only if the statement writes the index's
condition itself).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def captured(engine: Engine, keep: Callable[[str], bool]) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and their parameters, one row's for an executemany) this thread runs on ``engine`` inside
    the block that ``keep`` accepts, in order."""
    seen: list[tuple[str, Any]] = []
    me = threading.get_ident()

    def record(_conn, _cursor, statement, parameters, _context, executemany):  # noqa: ANN001
        if threading.get_ident() == me and keep(statement):
            seen.append((statement, parameters[0] if executemany else parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(engine: Engine, statement: str, parameters: Sequence[Any] | None = None) -> str:
    """SQLite's ``EXPLAIN QUERY PLAN`` of ``statement``, its lines joined by " | "; every parameter NULL unless
    ``parameters`` are given."""
    values = tuple(parameters) if parameters is not None else (None,) * statement.count("?")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, values).all()
    return " | ".join(str(r[-1]) for r in rows)


def is_select(statement: str) -> bool:
    """A ``keep`` for ``captured``: SELECT statements only."""
    return statement.lstrip().upper().startswith("SELECT")
