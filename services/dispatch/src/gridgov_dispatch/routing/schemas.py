"""API shapes of rule sets, their validation and replay."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gridgov_common.schemas import Integer
from gridgov_dispatch.rules.parsing import MAX_RULES

REPLAY_LIMIT_MAX = 10000


class RuleSetBody(BaseModel):
    """A candidate rule set: its rules (each checked by the engine, errors name the rule) and a note."""

    model_config = ConfigDict(extra="forbid")

    rules: list[dict[str, Any]] = Field(max_length=MAX_RULES, description="the rules, as in GET /v1/rules")
    note: str | None = Field(default=None, max_length=500, description="why this version (published with it)")


PREVIEW_CATEGORIES_MAX = 5
Channel = Literal["patrol", "hotline", "citizen", "open311", "video_ai", "iot"]


class PreviewBody(BaseModel):
    """Categories to route as if a report came in now on ``channel`` at the place given (the finest code wins; no
    place: unlocated, i.e. triage)."""

    model_config = ConfigDict(extra="forbid")

    category_codes: list[Annotated[str, Field(pattern=r"^[0-9]{2,12}$")]] = Field(
        min_length=1, max_length=PREVIEW_CATEGORIES_MAX)
    channel: Channel = "hotline"
    town_code: str | None = Field(default=None, pattern=r"^[0-9]{9}$")
    village_code: str | None = Field(default=None, pattern=r"^[0-9]{12}$")
    grid_code: str | None = Field(default=None, pattern=r"^[0-9]{15}$")


class PreviewDecisionRead(BaseModel):
    """Where the current rules send one category: department (None = triage), its name, the rule and why."""

    category_code: str
    department: str | None
    department_name: str | None
    rule_id: str | None
    reason: str


class PreviewRead(BaseModel):
    """The decisions of the current rule set version for each category asked about."""

    rule_set_version: int | None
    decisions: list[PreviewDecisionRead]


class RuleSetRead(BaseModel):
    """The current rule set: its version, who published it, when and why, and its rules."""

    version: int
    published_at: datetime
    published_by: str
    note: str | None
    rules: list[dict[str, Any]]


class ValidationResult(BaseModel):
    """A candidate that passed: how many rules, and that every category is routable."""

    ok: bool
    rules: int
    categories_checked: int


class ReplayBody(BaseModel):
    """A candidate rule set to replay over past tickets created since ``since``, newest ``limit`` of them."""

    model_config = ConfigDict(extra="forbid")

    rules: list[dict[str, Any]] = Field(max_length=MAX_RULES)
    since: AwareDatetime | None = Field(default=None, description="tickets created at or after (with a zone)")
    limit: Integer = Field(default=1000, ge=1, le=REPLAY_LIMIT_MAX)


class DecisionRead(BaseModel):
    """One decision in short: department (None = triage), priority, winning rule and why."""

    department: str | None
    priority: str
    rule_id: str | None
    reason: str


class ChangedCaseRead(BaseModel):
    """A past ticket whose decision would change."""

    ticket_id: str
    category_code: str
    actual_department: str | None
    before: DecisionRead
    after: DecisionRead


class DepartmentShiftRead(BaseModel):
    """Cases a department (or ``triage``) gets with the current and with the candidate rule set."""

    before: int
    after: int


class ReplayReportRead(BaseModel):
    """What the candidate would have changed, against the current version."""

    current_version: int | None
    total: int
    changed: int
    department_changed: int
    priority_changed: int
    to_triage: int
    from_triage: int
    agree_actual_before: int
    agree_actual_after: int
    by_department: dict[str, DepartmentShiftRead]
    changed_cases: list[ChangedCaseRead]
    changed_cases_truncated: bool
    warnings: list[dict[str, str]]  # what would stop publishing (check_rule_set): field and reason
