"""The working-time table dispatch stores: the official year tables of the working calendar an admin loaded."""

from datetime import datetime

from sqlalchemy import Integer, PrimaryKeyConstraint, Text
from sqlmodel import Field

from gridgov_dispatch.tables import DispatchTable


class CalendarYear(DispatchTable, table=True):
    """One year's official holiday notice as an admin loaded it; overrides the chinesecalendar package's year."""

    __tablename__ = "calendar_year"
    __table_args__ = (PrimaryKeyConstraint("year", name="pk_calendar_year"),)

    year: int = Field(sa_type=Integer, sa_column_kwargs={"autoincrement": False}, primary_key=True)
    holidays: str = Field(sa_type=Text)  # JSON list of ISO dates: weekday days off
    workdays: str = Field(sa_type=Text)  # JSON list of ISO dates: adjusted working weekend days (调休)
    loaded_at: datetime
    loaded_by: str = Field(max_length=100)
