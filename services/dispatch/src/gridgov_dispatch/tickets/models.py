"""Tickets (案卷) and their audit trail, as dispatch stores them."""

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Index, UniqueConstraint
from sqlmodel import Field

from gridgov_dispatch.tables import DispatchTable
from gridgov_dispatch.worktime import clock as clocks

# The condition of the open tickets' partial indexes. A query uses such an index fully only when it writes this
# condition with the literal: with ``state != ?`` SQLite still chose the index but read each entry's row from the
# table to test the parameter (the board's counts per department: 5.8-8.7 ms against 0.4-0.7 ms, 214,000 tickets,
# 5,938 open). ``is_open()`` is that condition for queries; ``is_return()`` the returns index's.
_CLOSED, _RETURN = "'closed'", "'return'"  # SQL literals
OPEN_CONDITION = f"state != {_CLOSED}"
RETURN_CONDITION = f"action = {_RETURN}"


class Ticket(DispatchTable, table=True):
    """One case made from one report; ``version`` guards every transition (optimistic concurrency)."""

    __tablename__ = "ticket"
    # Named, so later migrations can alter it on SQLite too; one ticket per report is the redelivery guard.
    # The queues and lists read oldest first, filtered by state or department (issue #15: a city with 200,000 past
    # tickets); the indicators look up closures in a period.
    __table_args__ = (UniqueConstraint("report_id", name="uq_ticket_report_id"),
                      Index("ix_ticket_created_at_id", "created_at", "id"),
                      Index("ix_ticket_state_created_at", "state", "created_at", "id"),
                      Index("ix_ticket_department_created_at", "department", "created_at", "id"),
                      Index("ix_ticket_closed_at", "closed_at"),
                      # 并案: a located report's merge candidates are its category's tickets of the last hours;
                      # on (category_code) alone SQLite read every ticket of the category the city ever had.
                      Index("ix_ticket_category_created_at", "category_code", "created_at"),
                      # 工单列表 by source (来源): the cameras' and sensors' tickets, newest first, and their count,
                      # without walking the whole past (bench/results/ticket_list.json).
                      Index("ix_ticket_channel_created_at", "channel", "created_at", "id"),
                      # The board counts and lists the open tickets only: a few thousand among 200,000.
                      Index("ix_ticket_open_deadline", "deadline", "created_at", "id",
                            sqlite_where=sa.text(OPEN_CONDITION), postgresql_where=sa.text(OPEN_CONDITION)),
                      *(Index(f"ix_ticket_open_{name}", column, "sla_level", sqlite_where=sa.text(OPEN_CONDITION),
                              postgresql_where=sa.text(OPEN_CONDITION))
                        for name, column in (("department", "department"), ("town", "town_code"),
                                             ("village", "village_code"), ("grid", "grid_code"))))

    id: str = Field(primary_key=True, max_length=36)
    report_id: str = Field(max_length=36)
    category_code: str = Field(max_length=10)
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
    deadline: datetime | None = None  # the current stage's deadline (claim, handle or verify)
    version: int = 1
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    # Issue #6: what routing knew and decided, and the SLA clock of the current stage.
    channel: str = Field(default="patrol", max_length=20)
    department_areas: str = Field(default="", max_length=500)  # comma-joined department-area codes at the point
    priority: str = Field(default="normal", max_length=10)  # normal | urgent
    first_department: str | None = Field(default=None, max_length=50)  # for 首派准确率
    decision_trace: str | None = Field(default=None, max_length=8000)  # JSON: which rules matched and why
    rule_set_version: int | None = None
    catalog_version: int | None = None
    stage: str | None = Field(default=None, max_length=10)  # claim | handle | verify: which clock runs
    stage_started_at: datetime | None = None
    stage_limit_amount: float | None = None
    stage_limit_unit: str | None = Field(default=None, max_length=20)
    stage_total_s: float | None = None  # the stage's whole length in its unit's seconds (limit + extensions)
    deadline_provisional: bool = False
    paused_at: datetime | None = None  # return pending, extension pending or suspended: the clock stands
    remaining_s: float | None = None  # time left on the paused clock, in its unit's seconds
    sla_level: str = Field(default="green", max_length=10)  # green | yellow (warning) | red (breach)
    escalation_level: int = 0  # 0 none, 1 village, 2 town, 3 city
    next_check_at: datetime | None = Field(default=None, index=True)  # when the scanner must look again
    supervised: bool = False  # 督办
    return_count: int = 0
    rework_count: int = 0
    extension_s: float | None = None  # the extension asked for (seconds of the stage clock's unit), pending
    # Issue #14: the latest geofence verdict of on-site evidence (核查, 处置反馈, 自行处置); None: never checked.
    geofence_verdict: str | None = Field(default=None, max_length=20, index=True)
    geofence_reasons: str | None = Field(default=None, sa_type=sa.Text)  # JSON [{code, message}]
    geofence_checked_at: datetime | None = None

    @property
    def geofence(self) -> dict[str, Any] | None:
        """The latest geofence verdict as the API shows it: ``{verdict, reasons, checked_at}``, or None."""
        if self.geofence_verdict is None:
            return None
        return {"verdict": self.geofence_verdict, "reasons": json.loads(self.geofence_reasons or "[]"),
                "checked_at": self.geofence_checked_at}


def is_open() -> ColumnElement[bool]:
    """The ticket is not closed, written as the open tickets' partial indexes write it (see ``OPEN_CONDITION``)."""
    return Ticket.state != sa.literal_column(_CLOSED)


def is_return() -> ColumnElement[bool]:
    """The transition is a return (退单), written as ``ix_ticket_transition_returns`` writes it."""
    return TicketTransition.action == sa.literal_column(_RETURN)


class TicketTransition(DispatchTable, table=True):
    """The audit row of one transition; ``seq`` is the ticket's version after it (1 = registered)."""

    __tablename__ = "ticket_transition"
    # The indicators find a period's counted transitions by time; the returns list finds each ticket's last return
    # (a partial index, which the indicators' query cannot take instead of the time index).
    __table_args__ = (Index("ix_ticket_transition_at_action", "at", "action", "ticket_id"),
                      Index("ix_ticket_transition_returns", "ticket_id", "seq",
                            sqlite_where=sa.text(RETURN_CONDITION), postgresql_where=sa.text(RETURN_CONDITION)))

    ticket_id: str = Field(primary_key=True, max_length=36, foreign_key="ticket.id")
    seq: int = Field(primary_key=True)
    action: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    actor_id: str = Field(max_length=100)
    actor_role: str = Field(max_length=20)
    # The display name the actor's token carried then (a name can change; the trail keeps the one shown at the time).
    actor_name: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    photos: str | None = Field(default=None, max_length=4000)  # JSON list of media ids or URLs (处置/核查 photos)
    event_id: str = Field(max_length=36)  # the envelope that announced it on gridgov.tickets.events
    geofence: str | None = Field(default=None, sa_type=sa.Text)  # JSON {verdict, reasons, checked_at} (issue #14)
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


# The SLA clock of a ticket's current stage lives in the ticket's own columns; these two map one to the other.
def clock_of(ticket: Ticket) -> clocks.Clock:
    """The SLA clock a ticket row stores."""
    return clocks.Clock(stage=ticket.stage, started_at=ticket.stage_started_at, deadline=ticket.deadline,
                        unit=ticket.stage_limit_unit, amount=ticket.stage_limit_amount, total_s=ticket.stage_total_s,
                        provisional=ticket.deadline_provisional, paused_at=ticket.paused_at,
                        remaining_s=ticket.remaining_s, sla_level=ticket.sla_level,
                        escalation_level=ticket.escalation_level, next_check_at=ticket.next_check_at)


def clock_values(clock: clocks.Clock) -> dict[str, Any]:
    """The ticket columns of an SLA clock."""
    return {"stage": clock.stage, "stage_started_at": clock.started_at, "deadline": clock.deadline,
            "stage_limit_unit": clock.unit, "stage_limit_amount": clock.amount, "stage_total_s": clock.total_s,
            "deadline_provisional": clock.provisional, "paused_at": clock.paused_at,
            "remaining_s": clock.remaining_s, "sla_level": clock.sla_level,
            "escalation_level": clock.escalation_level, "next_check_at": clock.next_check_at}
