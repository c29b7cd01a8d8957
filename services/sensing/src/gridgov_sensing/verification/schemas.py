"""API shapes of 核实 tasks and the false-positive statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from gridgov_common.schemas import SafeText


class TaskRead(BaseModel):
    """A 核实 task with what the grid worker needs to decide: type, device, place, time, the latest snapshot."""

    id: str
    group_id: str
    state: str
    grid_code: str | None
    alarm_type: str
    alarm_type_name: str | None
    device_id: str
    lon: float | None
    lat: float | None
    count: int
    first_seen: datetime
    last_seen: datetime
    evidence: dict[str, Any] | None
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None
    report_id: str | None


class TaskPage(BaseModel):
    """A page of tasks."""

    items: list[TaskRead]
    total: int


class Decision(BaseModel):
    """The grid worker's decision: the alarm is real (a case) or a false positive (误报)."""

    outcome: Literal["confirmed", "rejected"]
    note: Annotated[SafeText, Field(max_length=2000)] | None = None


class FalsePositiveRow(BaseModel):
    """Verification outcomes of one alarm type or one device."""

    key: str
    name: str | None
    verified: int
    rejected: int
    rate: float | None  # rejected / (verified + rejected)


class FalsePositiveStats(BaseModel):
    """``GET /v1/stats/false-positives``: noisiest first."""

    by: str
    since: datetime | None
    rows: list[FalsePositiveRow]
