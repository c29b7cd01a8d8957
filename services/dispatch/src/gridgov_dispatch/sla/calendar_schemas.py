"""API shapes of the SLA working calendar (工作日历): a deadline, the years covered, an official year table."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from gridgov_dispatch.worktime.working_calendar import Unit


class DeadlineRead(BaseModel):
    """A deadline computed on the service's working calendar."""

    start: datetime
    amount: float
    unit: Unit
    deadline: datetime = Field(description="The deadline, in UTC.")
    provisional: bool = Field(description="True when the arithmetic crossed a year no official table covers "
                                          "(counted Monday–Friday there): the deadline may still move.")
    provisional_years: list[int] = Field(description="The years without an official table that were crossed.")
    working_hours: str = Field(description="The working periods of a working day, e.g. 08:30-12:00,14:00-17:30.")
    timezone: str


class CalendarCoverage(BaseModel):
    """A year an official table covers, and where the table comes from."""

    year: int
    source: str = Field(description="package (chinesecalendar) | loaded (an admin's table, overrides the package)")


class CalendarYearWrite(BaseModel):
    """One year's official holiday notice (国务院办公厅放假安排): the days off and the adjusted working days."""

    holidays: list[date] = Field(max_length=366, description="Days off; weekend days inside a break may be "
                                                             "listed and are dropped (they are days off anyway).")
    workdays: list[date] = Field(max_length=366, description="Adjusted working weekend days (调休): Saturdays or "
                                                             "Sundays only.")


class CalendarYearRead(BaseModel):
    """A stored year table."""

    year: int
    source: str
    holidays: list[date] = Field(description="Weekday days off, in order.")
    workdays: list[date] = Field(description="Adjusted working weekend days (调休), in order.")
