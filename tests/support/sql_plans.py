"""What SQLite plans for the statements a piece of code runs: the plan tests' one way of catching and explaining them.

SQLite keeps no statistics here, so a plan depends on the statement's shape, not on the rows: a walk that takes
minutes with a city's past shows in a test database of a few rows. ``captured`` records the statements the calling
thread runs on an engine (a service's consumers and outbox relay use it from their own threads meanwhile); ``plan``
explains one, with its own parameters or, by default, with every parameter NULL — the plan made before any value is
known, as PostgreSQL's generic plan is (a partial index is usable then only if the statement writes the index's
condition itself).

On PostgreSQL, which has statistics but may keep a generic plan made before they exist, ``generic_plan`` prepares a
statement with ``plan_cache_mode = force_generic_plan`` and returns the plan it keeps (``generic_plan_of`` does
it for a SQLAlchemy statement, its parameters numbered and typed from their values); ``scans_of`` picks the nodes
that read a table, so a test can require them to be index probes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
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


def generic_plan(engine: Engine, statement: str, types: Sequence[str], arguments: str) -> dict:
    """PostgreSQL's generic plan of ``statement`` (parameters ``$1``…, of ``types``) as EXPLAIN (FORMAT JSON) gives
    it, for the SQL ``arguments`` (literals: EXECUTE takes no bound parameters)."""
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute(f"PREPARE generic_probe({', '.join(types)}) AS {statement}")
            cur.execute(f"EXPLAIN (FORMAT JSON) EXECUTE generic_probe({arguments})")
            found = cur.fetchone()[0][0]["Plan"]
            cur.execute("DEALLOCATE generic_probe")
            cur.execute("RESET plan_cache_mode")
    finally:
        raw.close()
    return found


def scans_of(node: dict, table: str) -> list[dict]:
    """The nodes of an EXPLAIN (FORMAT JSON) plan that read ``table``."""
    found = [node] if node.get("Relation Name") == table else []
    for child in node.get("Plans", []):
        found += scans_of(child, table)
    return found


def _literal(value: Any) -> tuple[str, str]:
    """(PostgreSQL type, SQL literal) of a test's parameter value: text, a time, an integer, or a list of texts."""
    if isinstance(value, list):
        return "varchar[]", "ARRAY[" + ", ".join(_literal(v)[1] for v in value) + "]::varchar[]"
    if isinstance(value, datetime):
        return "timestamptz", f"'{value.isoformat()}'"
    if isinstance(value, int):
        return "bigint", str(value)
    return "varchar", "'" + str(value).replace("'", "''") + "'"


def generic_plan_of(engine: Engine, statement: Any) -> dict:
    """``generic_plan`` of a SQLAlchemy statement, compiled for ``engine``: each bound parameter becomes ``$n``,
    typed and written as a literal from its value (see ``_literal``)."""
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    numbered, names = str(compiled), re.findall(r"%\((\w+)\)s", str(compiled))
    for i, name in enumerate(names, 1):
        numbered = numbered.replace(f"%({name})s", f"${i}", 1)
    typed = [_literal(compiled.params[name]) for name in names]
    return generic_plan(engine, numbered, [t for t, _ in typed], ", ".join(v for _, v in typed))
