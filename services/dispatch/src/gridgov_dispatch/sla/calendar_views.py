"""HTTP routes of the SLA working calendar (thin: parse, authorise, call, shape)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from gridgov_common.deps import Admin, Staff
from gridgov_common.errors import ErrorDetail, NotFound, ValidationFailed
from gridgov_dispatch.deps import Runtime
from gridgov_dispatch.sla.calendar_schemas import CalendarCoverage, CalendarYearRead, CalendarYearWrite, DeadlineRead
from gridgov_dispatch.worktime import calendar_store
from gridgov_dispatch.worktime.working_calendar import Unit

# Deadlines are asked about the years a city works in; far-off years would only overflow the arithmetic.
MIN_YEAR, MAX_YEAR = 2000, 2100

router = APIRouter(prefix="/v1/calendar", tags=["calendar"])

Year = Annotated[int, Path(ge=2000, le=2100, description="the calendar year")]


@router.get("/deadline", response_model=DeadlineRead)
def get_deadline(runtime: Runtime, _principal: Staff,
                 start: Annotated[datetime, Query(description="tz-aware ISO 8601, e.g. 2026-09-30T16:00:00+08:00")],
                 amount: Annotated[float, Query(gt=0, le=1000)], unit: Unit) -> DeadlineRead:
    """The deadline ``amount`` ``unit`` after ``start`` on the working calendar, and whether it is provisional.
    Who: any staff role."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValidationFailed("start must carry a UTC offset",
                               [ErrorDetail("start", "naive datetime: give a UTC offset, e.g. +08:00 or Z")])
    if not MIN_YEAR <= start.year <= MAX_YEAR:
        raise ValidationFailed("start is out of range",
                               [ErrorDetail("start", f"year must be between {MIN_YEAR} and {MAX_YEAR}")])
    calendar = calendar_store.current_calendar(runtime.db, runtime.settings)
    due = calendar.add(start, amount, unit)
    return DeadlineRead(start=start, amount=amount, unit=unit, deadline=due.at, provisional=due.provisional,
                        provisional_years=list(due.provisional_years), working_hours=str(calendar.hours),
                        timezone=runtime.settings.timezone)


@router.get("/years", response_model=list[CalendarCoverage])
def list_years(runtime: Runtime, _principal: Staff) -> list[CalendarCoverage]:
    """The years an official table covers, each with its source (package | loaded); any other year counts
    Monday–Friday and makes deadlines provisional. Who: any staff role."""
    rows = calendar_store.coverage(runtime.db)
    return [CalendarCoverage(year=year, source=source) for year, source in rows]


@router.get("/years/{year}", response_model=CalendarYearRead)
def get_year(runtime: Runtime, _principal: Staff, year: Year) -> CalendarYearRead:
    """A year's official table as the clocks count on it: its weekday days off and its adjusted working weekend days
    (调休); 404 for a year no table covers (counted Monday–Friday). Who: any staff role."""
    table = calendar_store.year_table(runtime.db, runtime.settings, year)
    if table is None:
        error = NotFound("calendar year", str(year))
        error.message_zh = f"{year} 年的节假日安排尚未录入"
        raise error
    return CalendarYearRead(year=table.year, source=table.source, holidays=sorted(table.holidays),
                            workdays=sorted(table.workdays))


@router.put("/years/{year}", response_model=CalendarYearRead)
def put_year(runtime: Runtime, principal: Admin, year: Year, body: CalendarYearWrite) -> CalendarYearRead:
    """Load a year's official holiday table, replacing the package's (or an earlier load) for that year; 422
    naming the date and the reason on a bad table, and nothing stored. Who: admin."""
    table = calendar_store.load_year(runtime.db, year, body.holidays, body.workdays, principal.sub)
    return CalendarYearRead(year=table.year, source=table.source, holidays=sorted(table.holidays),
                            workdays=sorted(table.workdays))
