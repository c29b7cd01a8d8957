"""Alarm types: what a camera algorithm or a sensor reports, the catalog item it becomes, how its alarms are
fingerprinted, deduplicated and turned into cases (seeded from ``types/seed.py``; an administrator tunes them)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_sensing.tables import SensingTable


class AlarmType(SensingTable, table=True):
    """One alarm type; windows are stored in seconds (``*_s``) and written as durations ("30m") in the API."""

    __tablename__ = "alarm_type"

    code: str = Field(primary_key=True, max_length=64)
    name_zh: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # video_ai | iot: the report channel
    catalog_code: str = Field(max_length=64)
    fingerprint_fields: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    dedupe_window_s: int
    case_policy: str = Field(max_length=16)  # auto | verify_first | record_only
    min_confidence: float | None = None
    resolved_verifies: bool = False
    flap_threshold: int
    flap_window_s: int
    updated_at: datetime
