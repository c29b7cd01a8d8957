"""API shapes of alarm types: windows written as durations with their unit ("30m"), never bare numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from gridgov_common.events.reports import Code, Name
from gridgov_sensing.alarms.durations import parse_duration

CasePolicy = Literal["auto", "verify_first", "record_only"]
AlarmKind = Literal["video_ai", "iot"]
# The fields an alarm's fingerprint may be taken over: the device snapshot's and ``label.<name>``.
FINGERPRINT_FIELD_PATTERN = (r"^(catalog_code|alarm_type|device_id|grid_code|village_code|town_code"
                             r"|label\.[A-Za-z0-9_.-]{1,64})$")


def _check_duration(text: str) -> str:
    parse_duration(text)  # ValueError names the reason; pydantic reports it against the field
    return text


Duration = Annotated[str, Field(max_length=16, examples=["30m"]), AfterValidator(_check_duration)]
FingerprintField = Annotated[str, Field(pattern=FINGERPRINT_FIELD_PATTERN)]


class AlarmTypeUpdate(BaseModel):
    """What an administrator may change of an alarm type (every field at once, as read)."""

    model_config = {"extra": "forbid"}

    name_zh: Name = Field(min_length=1)
    kind: AlarmKind
    catalog_code: Code = Field(min_length=1)
    fingerprint_fields: list[FingerprintField] = Field(min_length=1, max_length=10)
    dedupe_window: Duration
    case_policy: CasePolicy
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    resolved_verifies: bool = False
    flap_threshold: int = Field(ge=2, le=1000)
    flap_window: Duration


class AlarmTypeRead(AlarmTypeUpdate):
    """An alarm type as stored, with its code."""

    code: Code
    updated_at: datetime


class AlarmTypeList(BaseModel):
    """Every alarm type."""

    items: list[AlarmTypeRead]
