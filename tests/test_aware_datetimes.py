"""Every datetime column the services read back is tz-aware in UTC, on SQLite as on PostgreSQL.

SQLModel maps a ``datetime`` field to its ``UTCDateTime`` type: it refuses a naive value on write and attaches
UTC on read where the database keeps no offset (SQLite). That made the per-module "naive → UTC" guards on these
reads dead, and they were removed (issue #12 item 3); this test is what keeps them dead. Each row is written
with a +08:00 time and read back through the column, as the code that held a guard reads it.
"""

import importlib
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Boolean, Float, Integer, insert, select
from sqlmodel.sql.sqltypes import UTCDateTime

from conftest import require_infra
from gridgov_common.db import Database
from gridgov_common.migrations import upgrade_to_head

CHINA = timezone(timedelta(hours=8))
MOMENT = datetime(2026, 5, 1, 17, 30, 15, 250_000, tzinfo=CHINA)

# The tables whose reads held a guard (their parents first, for the foreign keys), by service package.
GUARDED = {
    "gridgov_dispatch": ["department", "ticket"],  # tickets.service.open_cases
    # media.handlers quotas, reports.handlers and reports.limits rate limits, open311.render times
    "gridgov_event_intake": ["report", "report_update", "media", "rate_hit"],
    # the Read schemas of deliveries, contacts and the inbox
    "gridgov_notification": ["delivery", "contact_point", "inbox_message"],
}
# The columns those guards sat on: each must be among those read back.
GUARDED_COLUMNS = {
    "gridgov_dispatch": {("ticket", "created_at")},
    "gridgov_event_intake": {("report", "submitted_at"), ("report", "updated_at"), ("report", "deadline"),
                             ("report_update", "at"), ("media", "created_at"), ("rate_hit", "at")},
    "gridgov_notification": {("delivery", "next_attempt_at"), ("delivery", "created_at"), ("delivery", "sent_at"),
                             ("contact_point", "created_at"), ("inbox_message", "created_at"),
                             ("inbox_message", "read_at")},
}


def _filler(column):
    """A value the column accepts; "1" and 1 for keys, so that a foreign key finds its parent row."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return MOMENT
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, Float):
        return 1.0
    return "1"


def _read_back(url: str, package: str) -> dict[tuple[str, str], datetime]:
    metadata = importlib.import_module(f"{package}.app").metadata
    db = Database(url, metadata, package)
    try:
        upgrade_to_head(db, package)
        found = {}
        with db.engine.begin() as conn:
            for name in GUARDED[package]:
                table = metadata.tables[name]
                conn.execute(insert(table).values({c.name: _filler(c) for c in table.columns}))
            for name in GUARDED[package]:
                table = metadata.tables[name]
                for column in table.columns:
                    if isinstance(column.type, UTCDateTime):
                        found[(name, column.name)] = conn.execute(select(column)).scalar_one()
        return found
    finally:
        db.engine.dispose()


def _assert_aware_utc(package: str, found: dict[tuple[str, str], datetime]) -> None:
    assert GUARDED_COLUMNS[package] <= set(found), "a guarded column is no longer a UTCDateTime"
    for where, value in found.items():
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0), (where, value)
        assert value == MOMENT, where  # the same instant, in UTC


@pytest.mark.parametrize("package", sorted(GUARDED))
def test_read_datetimes_back_aware_in_utc_on_sqlite(tmp_path, package):
    _assert_aware_utc(package, _read_back(f"sqlite:///{tmp_path / 'aware.db'}", package))


@pytest.mark.distributed
@pytest.mark.parametrize("package", sorted(GUARDED))
def test_read_datetimes_back_aware_in_utc_on_postgresql(package):
    import psycopg

    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL")
    name = f"gg_aware_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    base = admin.rsplit("/", 1)[0]
    try:
        url = base.replace("postgresql://postgres@", "postgresql+psycopg://gridgov:gridgov@") + f"/{name}"
        _assert_aware_utc(package, _read_back(url, package))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_refuse_naive_datetime_on_write(tmp_path):
    """The other half of the type's promise: nothing naive is ever stored, so nothing naive comes back."""
    metadata = importlib.import_module("gridgov_event_intake.app").metadata
    db = Database(f"sqlite:///{tmp_path / 'naive.db'}", metadata, "gridgov_event_intake")
    try:
        upgrade_to_head(db, "gridgov_event_intake")
        table = metadata.tables["rate_hit"]
        values = {c.name: _filler(c) for c in table.columns} | {"at": datetime(2026, 5, 1, 9, 30)}
        with pytest.raises(Exception, match="timezone"), db.engine.begin() as conn:
            conn.execute(insert(table).values(values))
    finally:
        db.engine.dispose()
