"""Values as the database drivers take them, for sensing's hot writes (the alarm log, the groups; the outbox rows
go through ``gridgov_common.db.write_outbox``).

SQLAlchemy's per-value processing of every row of a multi-row write cost more than the write itself, so these
writes convert their values here and go to the driver in one call: what is stored is what SQLAlchemy would
store (SQLite: a time as the text of its UTC wall time; PostgreSQL: the aware time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Float, Table
from sqlmodel.sql.sqltypes import UTCDateTime


def time_text(value: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite: the UTC wall time, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    # isoformat, not strftime: the same text at a fifth of the cost (this runs for every time of every alarm); the
    # first 26 characters leave out the "+00:00".
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def row_values(table: Table, columns: Sequence[str], sqlite: bool) -> Callable[[dict[str, Any]], tuple]:
    """A function giving a row's values of ``columns`` as the driver takes them, stored as SQLAlchemy would store
    them (times: SQLite text of the UTC wall time, else aware UTC; JSON: text by orjson, None as SQL NULL;
    PostgreSQL: a float column's values as floats, see ``gridgov_common.db.array_parameters``)."""
    columns = tuple(columns)
    json_at = tuple(i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON))
    time_at = tuple(i for i, c in enumerate(columns) if isinstance(table.c[c].type, UTCDateTime))
    # A binary array holds one element type: an integral 113 among 113.75s would make psycopg refuse the column.
    float_at = () if sqlite else tuple(i for i, c in enumerate(columns) if isinstance(table.c[c].type, Float))
    to_time = time_text if sqlite else _utc
    dumps = orjson.dumps

    def values(row: dict[str, Any]) -> tuple:
        out = [row[c] for c in columns]
        for i in json_at:
            if out[i] is not None:
                out[i] = dumps(out[i]).decode()
        for i in time_at:
            if out[i] is not None:
                out[i] = to_time(out[i])
        for i in float_at:
            if out[i] is not None:
                out[i] = float(out[i])
        return tuple(out)

    return values
