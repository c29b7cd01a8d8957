"""The read model's tables: one fact per ticket, the daily counts, and the cube's own state."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_analytics.tables import AnalyticsTable

BUS, HISTORY = "bus", "history"  # where a row came from: the live consumer, or the history generator's backfill


class TicketFact(AnalyticsTable, table=True):
    """One ticket as the read model knows it (see ``cube.projection.FactState``)."""

    __tablename__ = "ticket_fact"

    ticket_id: str = Field(primary_key=True, max_length=100)
    report_id: str = Field(default="", max_length=100)
    category_code: str = Field(default="", max_length=64)
    channel: str = Field(default="", max_length=32)
    grid_code: str = Field(default="", max_length=64)
    village_code: str = Field(default="", max_length=64)
    town_code: str = Field(default="", max_length=64)
    registered_at: datetime | None = None
    registered_day: date | None = Field(default=None, index=True)
    state: str = Field(default="", max_length=32)
    deadline: datetime | None = None
    closed_at: datetime | None = None
    late: bool = False
    returned_n: int = 0
    reworked_n: int = 0
    reopened_n: int = 0
    escalated: bool = False
    merged_n: int = 0
    satisfaction: int | None = None
    solved: bool | None = None
    rated_n: int = 0
    origin: str = Field(default=BUS, max_length=16)
    # The projection's guards (idempotence) and what waits for the ticket's first event; see cube.projection.
    seen: bool = False
    last_event_at: datetime | None = None
    last_actions: str = Field(default="", max_length=400)
    rated_at: datetime | None = None
    rated_ids: str = Field(default="", sa_type=sa.Text)
    pending: str = Field(default="", sa_type=sa.Text)
    # A history fact as the backfill left it, kept when a bus event first changes it: a rebuild restores it.
    history_state: str | None = Field(default=None, sa_type=sa.Text)


class DailyCount(AnalyticsTable, table=True):
    """How many times a measure happened on a local day, per grid, category, channel and origin.

    Village and town are part of the key: tickets located to a town only share grid ``""``, and a grid code a new
    grid set moves to another village keeps its old counts apart."""

    __tablename__ = "daily_count"

    day: date = Field(primary_key=True)
    grid_code: str = Field(primary_key=True, max_length=64)
    village_code: str = Field(primary_key=True, max_length=64)
    town_code: str = Field(primary_key=True, max_length=64)
    category_code: str = Field(primary_key=True, max_length=64)
    channel: str = Field(primary_key=True, max_length=32)
    measure: str = Field(primary_key=True, max_length=32)
    origin: str = Field(primary_key=True, max_length=16)
    n: int = Field(default=0, sa_type=sa.BigInteger)

    __table_args__ = (sa.Index("ix_daily_count_measure_day", "measure", "day"),)


class CubeState(AnalyticsTable, table=True):
    """The cube's own state: the consumer generation, the history marker."""

    __tablename__ = "cube_state"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=2000)
