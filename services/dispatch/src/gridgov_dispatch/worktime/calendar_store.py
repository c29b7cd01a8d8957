"""The service's working calendar: the package's official tables overlaid with the years an admin loaded.

``current_calendar`` is what the SLA clocks count on. It is cached in-process per database and rebuilt at most
every 30 seconds (``cache.REFRESH_SECONDS``: a table another replica loaded is seen within that time) and at once
after a load through this process.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlmodel import select

from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_dispatch.cache import PerDatabase
from gridgov_dispatch.worktime.models import CalendarYear
from gridgov_dispatch.worktime.working_calendar import (
    CalendarTableError,
    WorkingCalendar,
    YearTable,
    package_tables,
    parse_working_hours,
)

_current: PerDatabase[WorkingCalendar] = PerDatabase()


class CalendarSettings(Protocol):
    """The settings a calendar is built from (the service's settings have them); a protocol, so that the settings
    module, which validates working hours with this package, is not imported back."""

    working_hours: str
    timezone: str


def _row_table(row: CalendarYear) -> YearTable:
    return YearTable(row.year, frozenset(date.fromisoformat(d) for d in json.loads(row.holidays)),
                     frozenset(date.fromisoformat(d) for d in json.loads(row.workdays)), "loaded")


def _loaded_tables(db: Database) -> dict[int, YearTable]:
    with db.session() as session:
        return {row.year: _row_table(row) for row in session.exec(select(CalendarYear)).all()}


def build_calendar(db: Database, settings: CalendarSettings) -> WorkingCalendar:
    """A fresh calendar: package tables, each year an admin loaded replacing the package's."""
    tables = {**package_tables(), **_loaded_tables(db)}
    return WorkingCalendar(tables, parse_working_hours(settings.working_hours), ZoneInfo(settings.timezone))


def current_calendar(db: Database, settings: CalendarSettings) -> WorkingCalendar:
    """The working calendar to count on, from the cache when it is under 30 seconds old."""
    # Keyed by the settings too: a test or a reconfigured process gets a calendar of its own working hours.
    return _current.get(db, lambda: build_calendar(db, settings), key=(settings.working_hours, settings.timezone))


def invalidate(db: Database) -> None:
    """Forget the cached calendar of ``db`` (the next ``current_calendar`` rebuilds it)."""
    _current.forget(db)


def load_year(db: Database, year: int, holidays: list[date], workdays: list[date], actor: str) -> YearTable:
    """Store an official year table (replacing any loaded before), refresh the cache and return the table as
    stored (weekend holidays dropped). Raises ValidationFailed naming the list, the date and the reason; nothing is
    stored then."""
    try:
        table = YearTable.build(year, holidays, workdays, "loaded")
    except CalendarTableError as exc:
        raise ValidationFailed(f"the {year} calendar table is invalid: {exc}",
                               [ErrorDetail(exc.field, f"{exc.day.isoformat() + ' ' if exc.day else ''}{exc.reason}")]
                               ) from exc
    row = CalendarYear(year=year, holidays=json.dumps(sorted(d.isoformat() for d in table.holidays)),
                       workdays=json.dumps(sorted(d.isoformat() for d in table.workdays)),
                       loaded_at=datetime.now(UTC), loaded_by=actor)
    with db.session() as session:
        session.merge(row)
        session.commit()
    invalidate(db)
    return table


def year_table(db: Database, settings: CalendarSettings, year: int) -> YearTable | None:
    """The official table the clocks count on for ``year`` (an admin's over the package's), or None."""
    return current_calendar(db, settings).tables.get(year)


def coverage(db: Database) -> list[tuple[int, str]]:
    """The years an official table covers, in order, each with its source: ``loaded`` over ``package``."""
    sources = {year: "package" for year in package_tables()}
    sources.update({year: "loaded" for year in _loaded_tables(db)})
    return sorted(sources.items())
