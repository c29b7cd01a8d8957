"""API shapes of suppression rules and their replay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from gridgov_common.events.reports import Code
from gridgov_common.schemas import Number, SafeText

LIST_MAX = 1000  # devices or areas of one rule
TYPES_MAX = 100
EQUAL_MAX = 10
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def in_era(value: datetime) -> datetime:
    """Refuse a time no rule or replay can mean (and whose arithmetic would overflow: year 1 or 9999)."""
    if not EARLIEST <= value <= LATEST:
        raise ValueError("must be between 2000 and 2100")
    return value


RuleTime = Annotated[AwareDatetime, AfterValidator(in_era)]


class RuleWrite(BaseModel):
    """A rule as written: ``for`` ("2h") sets a snooze's expiry from its start (or now)."""

    name: Annotated[SafeText, Field(min_length=1, max_length=200)]
    kind: Literal["snooze", "maintenance", "inhibit", "confidence"]
    mode: Literal["enforce", "monitor"] = "enforce"
    starts_at: RuleTime | None = None
    ends_at: RuleTime | None = None
    for_: Annotated[str | None, Field(alias="for", max_length=16)] = None
    device_ids: list[Code] = Field(default=[], max_length=LIST_MAX)
    area_codes: list[Code] = Field(default=[], max_length=LIST_MAX)
    alarm_types: list[Code] = Field(default=[], max_length=TYPES_MAX)
    source_types: list[Code] = Field(default=[], max_length=TYPES_MAX)
    equal: list[Code] = Field(default=[], max_length=EQUAL_MAX)
    min_confidence: Annotated[Number, Field(gt=0, le=1)] | None = None
    note: Annotated[SafeText, Field(max_length=2000)] | None = None

    model_config = {"populate_by_name": True}


class RuleRead(BaseModel):
    """A stored rule."""

    id: str
    name: str
    kind: str
    mode: str
    starts_at: datetime | None
    ends_at: datetime | None
    device_ids: list[str]
    area_codes: list[str]
    alarm_types: list[str]
    source_types: list[str]
    equal: list[str]
    min_confidence: float | None
    note: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    active: bool  # in force now


class RulePage(BaseModel):
    """Every rule."""

    items: list[RuleRead]
    total: int


class ReplayResult(BaseModel):
    """What a rule would have suppressed over the stored alarms of a period, whatever its mode."""

    rule_id: str
    since: datetime
    until: datetime
    alarms_seen: int
    would_suppress: int
    by_alarm_type: dict[str, int]
    truncated: bool  # the period held more alarms than one replay reads
