"""Suppression rules: snoozes, maintenance windows, inhibitions and confidence thresholds, each enforced or only
monitored (what it would have suppressed is recorded on the alarms)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_sensing.tables import SensingTable


class SuppressionRule(SensingTable, table=True):
    """One rule; empty lists match anything (but an inhibit rule's ``equal`` keys must be present on both sides)."""

    __tablename__ = "suppression_rule"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # snooze | maintenance | inhibit | confidence
    mode: str = Field(max_length=16)  # enforce | monitor
    starts_at: datetime | None = Field(default=None)
    ends_at: datetime | None = Field(default=None)  # None: open-ended
    device_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    area_codes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    alarm_types: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    source_types: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    equal: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    min_confidence: float | None = None
    note: str | None = Field(default=None, max_length=2000)
    created_by: str = Field(max_length=256)
    created_at: datetime
    updated_at: datetime
