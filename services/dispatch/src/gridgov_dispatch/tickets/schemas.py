"""API shapes of tickets."""

import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from gridgov_common.events.media import DeviceFix
from gridgov_common.schemas import Latitude, Longitude, Number

NOTE_MAX = 2000
PHOTOS_MAX = 9  # as many as a WeChat post holds
Photos = list[Annotated[str, Field(min_length=1, max_length=300)]]


class GeofenceReasonRead(BaseModel):
    """Why a geofence verdict is what it is: a code and a Chinese message."""

    code: str
    message: str


class GeofenceRead(BaseModel):
    """The geofence verdict of on-site evidence (地理围栏核验): inside | boundary | outside | unverifiable."""

    verdict: Literal["inside", "boundary", "outside", "unverifiable"]
    reasons: list[GeofenceReasonRead]
    checked_at: datetime


def _json_or_none(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


class TicketRead(BaseModel):
    """A ticket and where it stands."""

    id: str
    report_id: str
    category_code: str
    description: str
    lon: float | None
    lat: float | None
    reporter_id: str
    department: str | None
    grid_code: str | None
    village_code: str | None
    town_code: str | None
    location_status: str
    state: str
    deadline: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    channel: str
    priority: str
    first_department: str | None
    stage: str | None = Field(description="the stage whose clock runs: claim | handle | verify")
    deadline_provisional: bool = Field(description="the deadline crosses a year with no official calendar yet")
    paused_at: datetime | None = Field(description="set while a return, an extension or a suspension stops the clock")
    sla_level: str = Field(description="green | yellow (warning) | red (breach)")
    escalation_level: int = Field(description="0 none, 1 village, 2 town, 3 city")
    supervised: bool
    return_count: int
    rework_count: int
    geofence: GeofenceRead | None = Field(
        default=None, description="the latest geofence verdict of on-site evidence; null when never checked")


class TransitionRead(BaseModel):
    """One step of a ticket's audit trail."""

    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor_id: str
    actor_role: str
    actor_name: str | None = Field(default=None, description="the actor's display name when they acted, if their "
                                   "token carried one (the OIDC name claim)")
    note: str | None
    photos: list[str] = []
    at: datetime
    geofence: GeofenceRead | None = Field(default=None, description="the geofence verdict of this step's evidence")

    @field_validator("photos", mode="before")
    @classmethod
    def _photos(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else (value or [])

    @field_validator("geofence", mode="before")
    @classmethod
    def _geofence(cls, value: object) -> object:
        return _json_or_none(value)


class MergedReportRead(BaseModel):
    """A report merged into the ticket (并案) and why: how far, how many minutes after it opened."""

    report_id: str
    channel: str
    reporter_id: str
    distance_m: float
    minutes: float
    merged_at: datetime
    split_at: datetime | None
    split_ticket_id: str | None


class TicketDetail(TicketRead):
    """A ticket with its audit trail, its merged reports and the actions the caller may take now."""

    transitions: list[TransitionRead]
    allowed_actions: list[str]
    merged_reports: list[MergedReportRead] = []
    decision: dict | None = Field(default=None,
                                  description="the routing decision: the rules matched and why the winner won")
    rule_set_version: int | None = None
    catalog_version: int | None = None


class SplitBody(BaseModel):
    """Which merged report to take out into a ticket of its own."""

    model_config = ConfigDict(extra="forbid")

    report_id: str = Field(min_length=1, max_length=36)


class TicketPage(BaseModel):
    """One page of tickets."""

    items: list[TicketRead]
    total: int
    limit: int
    offset: int


class HandleBody(BaseModel):
    """The department's handling report (处理反馈)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=NOTE_MAX, description="what was done")
    photos: Photos = Field(default=[], max_length=PHOTOS_MAX, description="media ids or URLs of the fix")
    fix: DeviceFix | None = Field(default=None, description="the phone's position when the fix photos were taken; "
                                                            "with it the handling is checked against the grid")


class VerifyBody(BaseModel):
    """The grid worker's on-site check (核查): passed closes the way, failed sends it back (返工)."""

    model_config = ConfigDict(extra="forbid")

    passed: bool
    note: str | None = Field(default=None, max_length=NOTE_MAX)
    photos: Photos = Field(default=[], max_length=PHOTOS_MAX, description="media ids or URLs taken on site")
    fix: DeviceFix | None = Field(default=None, description="the phone's position on site; without it the verdict "
                                                            "is unverifiable (accepted, flagged)")


class CloseBody(BaseModel):
    """Closing remarks (结案), optional."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=NOTE_MAX)


class ReasonBody(BaseModel):
    """Why (退单 return, 挂起 suspension, 延期驳回 refusal): the reason is required."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=NOTE_MAX, description="the reason")


class NoteBody(BaseModel):
    """An optional remark (督办 supervision, 恢复 resume, 延期批准 approval, 重新打开 reopen)."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=NOTE_MAX)


class DispatchBody(BaseModel):
    """Which department takes the ticket: manual triage (人工分拨) or the ruling on a return (退单裁定).

    For a ruling, leaving ``department`` out keeps the ticket with the department that returned it (return
    refused)."""

    model_config = ConfigDict(extra="forbid")

    department: str | None = Field(default=None, min_length=1, max_length=50)
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class RulingBody(DispatchBody):
    """The ruling on a return (退单裁定): the department as for a dispatch, and optionally the right category
    (``category_code``, re-categorising the ticket: its events carry it and the new stage clock follows its limits).
    """

    category_code: str | None = Field(default=None, min_length=1, max_length=20, pattern=r"^[0-9]{2,12}$")


class PlacedLocation(BaseModel):
    """Where the command centre placed an unlocated report by hand (人工定位), as the grid registry located it.

    Dispatch cannot ask the grid registry itself (it holds no boundaries and calls no service), so it checks only
    that the codes are well formed and nest (a code's prefix is its parent's: 9-digit town, 12-digit village,
    15-digit grid); the command centre is trusted for triage."""

    model_config = ConfigDict(extra="forbid")

    lon: Longitude
    lat: Latitude
    grid_code: str = Field(pattern=r"^[0-9]{15}$", description="15-digit grid code")
    village_code: str = Field(pattern=r"^[0-9]{12}$", description="12-digit village code, the grid's parent")
    town_code: str = Field(pattern=r"^[0-9]{9}$", description="9-digit town code, the village's parent")

    @field_validator("village_code")
    @classmethod
    def _village_holds_grid(cls, value: str, info: ValidationInfo) -> str:
        grid = info.data.get("grid_code")
        if grid is not None and not grid.startswith(value):
            raise ValueError(f"grid {grid} is not in village {value} (a grid code starts with its village's code)")
        return value

    @field_validator("town_code")
    @classmethod
    def _town_holds_village(cls, value: str, info: ValidationInfo) -> str:
        village = info.data.get("village_code")
        if village is not None and not village.startswith(value):
            raise ValueError(f"village {village} is not in town {value} (a village code starts with its "
                             "town's code)")
        return value


class ManualDispatchBody(DispatchBody):
    """Manual triage (人工分拨): the department, and for a ticket that is not located, where it was placed."""

    location: PlacedLocation | None = Field(
        default=None, description="the point placed by hand on the map and the grid, village and town the grid "
                                  "registry found there; only for a ticket that is not located")


class ExtensionBody(BaseModel):
    """An extension request (延期申请): how much more time, in one of the three units, and why."""

    model_config = ConfigDict(extra="forbid")

    amount: Number = Field(gt=0, le=1000)
    unit: Literal["clock_hours", "working_hours", "working_days"]
    note: str = Field(min_length=1, max_length=NOTE_MAX, description="the reason")
