"""API shapes of alarms and alarm groups; the alarm itself (``AlarmIn``, ``Evidence``) is the bus contract's.

``AlarmIn`` and ``Evidence`` live in ``gridgov_common.events.alarms`` because they travel on the bus (dispatch reads
``AlarmGroupEvent``'s evidence); they are re-exported here so adapters import them from their own service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gridgov_common.events.alarms import (
    AlarmGroupEvent,
    AlarmIn,
    AlarmReceived,
    AlarmSource,
    AlarmState,
    DeviceKind,
    Evidence,
    Severity,
)

__all__ = [
    "BATCH_MAX", "AcceptResult", "AlarmBatch", "AlarmGroupEvent", "AlarmGroupDetail", "AlarmGroupPage",
    "AlarmGroupRead", "AlarmIn", "AlarmRead", "AlarmReceived", "AlarmSource", "AlarmState", "DeviceKind", "Evidence",
    "FalsePositiveRow", "FalsePositiveStats", "Severity",
]

BATCH_MAX = 10_000  # alarms in one POST /v1/alarms


class AlarmBatch(BaseModel):
    """The body of ``POST /v1/alarms``."""

    alarms: list[AlarmIn] = Field(min_length=1, max_length=BATCH_MAX)


class AcceptResult(BaseModel):
    """What ingest accepted (all of the batch, or nothing)."""

    accepted: int


class AlarmRead(BaseModel):
    """One stored alarm of a group."""

    id: str
    state: str
    occurred_at: datetime
    confidence: float | None
    evidence: dict[str, Any] | None
    labels: dict[str, str]
    source: str
    verdict: str | None


class AlarmGroupRead(BaseModel):
    """An alarm group: the alarms of one fingerprint while it is open, with their count."""

    id: str
    fingerprint: str
    alarm_type: str
    catalog_code: str
    kind: str
    device_id: str
    grid_code: str | None
    village_code: str | None
    town_code: str | None
    lon: float | None
    lat: float | None
    state: str
    is_open: bool
    count: int
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    flaps: int
    report_id: str | None
    ticket_state: str | None
    suppressed_by: str | None
    monitored_by: list[str]
    last_evidence: list[dict[str, Any]]


class AlarmGroupDetail(AlarmGroupRead):
    """A group with its latest alarms (newest first)."""

    alarms: list[AlarmRead]


class AlarmGroupPage(BaseModel):
    """A page of alarm groups."""

    items: list[AlarmGroupRead]
    total: int


class FalsePositiveRow(BaseModel):
    """Verification outcomes of one alarm type or one device."""

    key: str
    name: str | None
    verified: int
    rejected: int
    rate: float | None  # rejected / (verified + rejected); None before any outcome


class FalsePositiveStats(BaseModel):
    """``GET /v1/stats/false-positives``."""

    by: str
    rows: list[FalsePositiveRow]
