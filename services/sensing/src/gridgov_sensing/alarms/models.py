"""Alarms and alarm groups: every alarm in a log, and one open group per fingerprint (the dedupe guard).

The guard is the database's, not the code's: a partial unique index on ``alarm_group.fingerprint WHERE is_open``
lets at most one open group exist per fingerprint, and the grouping consumer writes with
``INSERT … ON CONFLICT (fingerprint) WHERE is_open DO UPDATE`` — two transactions, two consumer instances or a
redelivery can count an alarm twice into nothing but the one group (ThingsBoard #15583: two alarms a few ms apart
became two alarms because its creation was a read, then a write).
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_sensing.tables import SensingTable

NULLABLE_JSON = sa.JSON(none_as_null=True)  # None is SQL NULL, not the JSON text 'null' (IS NULL must see it)
OPEN_INDEX = "uq_alarm_group_open_fingerprint"
OPEN_TYPE_INDEX = "ix_alarm_group_open_type"


class AlarmGroup(SensingTable, table=True):
    """The alarms of one fingerprint while it is open: count, first and last seen, and what became of them."""

    __tablename__ = "alarm_group"
    __table_args__ = (
        sa.Index(OPEN_INDEX, "fingerprint", unique=True, sqlite_where=sa.text("is_open"),
                 postgresql_where=sa.text("is_open")),
        sa.Index("ix_alarm_group_open_grid", "is_open", "grid_code"),
        # an inhibition rule's superior groups (see ``alarms.handlers._sources``)
        sa.Index(OPEN_TYPE_INDEX, "alarm_type", sqlite_where=sa.text("is_open"), postgresql_where=sa.text("is_open")),
        sa.Index("ix_alarm_group_lon_lat", "lon", "lat"),
    )

    id: str = Field(primary_key=True, max_length=36)
    fingerprint: str = Field(max_length=64, index=True)
    alarm_type: str = Field(max_length=64, index=True)
    catalog_code: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # video_ai | iot
    device_id: str = Field(max_length=64, index=True)
    device_kind: str = Field(max_length=16)  # camera | sensor
    owner_department: str | None = Field(default=None, max_length=64, index=True)
    grid_code: str | None = Field(default=None, max_length=64)
    village_code: str | None = Field(default=None, max_length=64)
    town_code: str | None = Field(default=None, max_length=64)
    lon: float | None = None
    lat: float | None = None
    # open | pending_verification | case | recorded | false_positive | resolved | closed
    state: str = Field(max_length=24, index=True)
    is_open: bool = True
    count: int = 1
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = Field(default=None)
    closed_at: datetime | None = Field(default=None)
    flaps: int = 0  # firing again after a resolved: one flap
    flapping: bool = False
    refired: bool = False  # the latest alarm fired again after a resolved (a flap): read back by the upsert
    state_changes: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # ISO times, the latest few
    report_id: str | None = Field(default=None, max_length=100, index=True)
    ticket_id: str | None = Field(default=None, max_length=100)
    ticket_state: str | None = Field(default=None, max_length=64)
    suppressed_by: str | None = Field(default=None, max_length=36)
    monitored_by: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    last_evidence: dict[str, Any] | None = Field(default=None, sa_type=NULLABLE_JSON)  # the latest alarm's
    labels: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)  # the latest alarm's (for inhibition)
    last_event_at: datetime | None = Field(default=None)  # the last alarm_group.repeated
    created_at: datetime


class Alarm(SensingTable, table=True):
    """One alarm as received (its envelope id), with its group and the suppression verdict it got.

    Two indexes only (a group's latest alarms, a replay's time range): every alarm writes this table."""

    __tablename__ = "alarm"
    __table_args__ = (sa.Index("ix_alarm_group_occurred", "group_id", "occurred_at"),)

    id: str = Field(primary_key=True, max_length=36)  # the alarm.received envelope's id
    alarm_id: str | None = Field(default=None, max_length=100)  # the producer's own id
    group_id: str | None = Field(default=None, max_length=36)  # None: suppressed, or a resolved without a group
    fingerprint: str = Field(max_length=64)
    alarm_type: str = Field(max_length=64)
    device_id: str = Field(max_length=64)
    grid_code: str | None = Field(default=None, max_length=64)
    village_code: str | None = Field(default=None, max_length=64)
    town_code: str | None = Field(default=None, max_length=64)
    state: str = Field(max_length=16)  # firing | resolved
    severity: str = Field(max_length=16)
    occurred_at: datetime = Field(index=True)
    received_at: datetime
    confidence: float | None = None
    evidence: dict[str, Any] | None = Field(default=None, sa_type=NULLABLE_JSON)
    labels: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    source: str = Field(max_length=16)
    verdict: str = Field(max_length=16)  # grouped | suppressed | unmatched (a resolved with no open group)
    suppressed_by: str | None = Field(default=None, max_length=36)
    monitored_by: list[str] = Field(default_factory=list, sa_type=sa.JSON)
