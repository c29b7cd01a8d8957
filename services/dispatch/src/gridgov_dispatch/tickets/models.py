"""Tickets (案卷) and their audit trail, as dispatch stores them."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from gridgov_dispatch.tables import DispatchTable


class Ticket(DispatchTable, table=True):
    """One case made from one report; ``version`` guards every transition (optimistic concurrency)."""

    __tablename__ = "ticket"
    # Named, so later migrations can alter it on SQLite too; one ticket per report is the redelivery guard.
    __table_args__ = (UniqueConstraint("report_id", name="uq_ticket_report_id"),)

    id: str = Field(primary_key=True, max_length=36)
    report_id: str = Field(max_length=36)
    category_code: str = Field(max_length=10, index=True)
    description: str = Field(max_length=2000)
    lon: float | None = None
    lat: float | None = None
    reporter_id: str = Field(max_length=100)
    department: str | None = Field(default=None, max_length=50, foreign_key="department.code", index=True,
                                   ondelete="RESTRICT")
    grid_code: str | None = Field(default=None, max_length=20, index=True)
    village_code: str | None = Field(default=None, max_length=20)
    town_code: str | None = Field(default=None, max_length=20, index=True)
    location_status: str = Field(max_length=20)
    state: str = Field(max_length=20, index=True)
    deadline: datetime | None = None
    version: int = 1
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None


class TicketTransition(DispatchTable, table=True):
    """The audit row of one transition; ``seq`` is the ticket's version after it (1 = registered)."""

    __tablename__ = "ticket_transition"

    ticket_id: str = Field(primary_key=True, max_length=36, foreign_key="ticket.id")
    seq: int = Field(primary_key=True)
    action: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    actor_id: str = Field(max_length=100)
    actor_role: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    event_id: str = Field(max_length=36)  # the envelope that announced it on gridgov.tickets.events
    at: datetime


class MergedReport(DispatchTable, table=True):
    """A report attached to an open ticket instead of opening its own (并案), with why, until split again.

    It keeps what a ticket of its own would need, so a split can register one without asking intake.
    """

    __tablename__ = "merged_report"

    report_id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(max_length=36, foreign_key="ticket.id", index=True)
    channel: str = Field(max_length=20)
    category_code: str = Field(max_length=10)
    description: str = Field(max_length=2000)
    lon: float | None = None
    lat: float | None = None
    reporter_id: str = Field(max_length=100)
    grid_code: str | None = Field(default=None, max_length=20)
    village_code: str | None = Field(default=None, max_length=20)
    town_code: str | None = Field(default=None, max_length=20)
    location_status: str = Field(max_length=20)
    distance_m: float
    minutes: float
    merged_at: datetime
    split_at: datetime | None = None
    split_ticket_id: str | None = Field(default=None, max_length=36)
