"""API shapes of reports: one create shape per channel, one read shape for all."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gridgov_common.events.fix import DeviceFix
from gridgov_common.schemas import Number

DESCRIPTION_MAX = 2000
MEDIA_MAX = 9
PHONE_PATTERN = r"^\+?[0-9][0-9-]{5,19}$"
Crs = Literal["wgs84", "gcj02", "bd09"]


class _Categorised(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Its shape is checked here; whether the catalog in effect lists it, where the report is accepted.
    category_code: str = Field(pattern=r"^\d{5}$", description="event category, 2+3 digits, e.g. 01002; one "
                                                                "the event catalog in effect lists")
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)


class PatrolReportCreate(_Categorised):
    """A grid worker's patrol report: category, WGS84 location, description, photos; maybe handled on the spot."""

    lon: Number = Field(ge=-180, le=180, description="WGS84 longitude")
    lat: Number = Field(ge=-90, le=90, description="WGS84 latitude")
    media_ids: list[str] = Field(default_factory=list, max_length=MEDIA_MAX,
                                 description="ids from POST /v1/media, uploaded by the same grid worker")
    handled_on_spot: bool = Field(default=False, description="自行处置: fixed while reporting; goes to verification")
    handled_note: str | None = Field(default=None, max_length=DESCRIPTION_MAX, description="what was done")
    fix: DeviceFix | None = Field(default=None, description="the phone's own position (WGS84) and accuracy when "
                                  "filing; with 自行处置, dispatch judges the fix photo's geofence from it")


class HotlineReportCreate(_Categorised):
    """A 12345 hotline work order (工单): order number, caller, address, optional coordinates, urgency."""

    order_no: str = Field(pattern=r"^[A-Za-z0-9-]{1,50}$", description="the hotline's work-order number")
    caller_name: str | None = Field(default=None, min_length=1, max_length=100)
    caller_phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    address: str = Field(min_length=1, max_length=500, description="address text as the caller gave it")
    lon: Number | None = Field(default=None, ge=-180, le=180)
    lat: Number | None = Field(default=None, ge=-90, le=90)
    crs: Crs = Field(default="wgs84", description="coordinate system of lon/lat")
    urgency: Literal["normal", "urgent"] = "normal"
    feedback_tier: Literal["immediate", "2d", "5d"] | None = Field(
        default=None, description="enterprise requests: feedback immediately, within 2 or 5 days")
    answer: str | None = Field(default=None, min_length=1, max_length=DESCRIPTION_MAX,
                               description="直接答复: a consultation answered on the call; closed, never dispatched")
    repeat_of: str | None = Field(default=None, min_length=1, max_length=36, description=(
        "重复来电: the id of an open hotline or citizen report of the same caller phone (see POST "
        "/v1/assist/repeats); the call is recorded on it (status repeat), no new case; needs caller_phone"))
    knowledge_article_id: str | None = Field(default=None, min_length=1, max_length=36, description=(
        "only with answer: the knowledge-base article the answer came from; it must be in force today"))


class CitizenReportCreate(_Categorised):
    """A citizen photo report (随手拍): anonymous or with a phone, at least one photo, phone location."""

    device_id: str = Field(min_length=1, max_length=100, description="the phone's device id (rate limit)")
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN, description="omit to report anonymously")
    client_id: str | None = Field(default=None, min_length=1, max_length=64,
                                  description="client-generated id: a retry with it returns the original")
    lon: Number = Field(ge=-180, le=180)
    lat: Number = Field(ge=-90, le=90)
    crs: Crs = Field(default="gcj02", description="phones and mini-programs report GCJ-02")
    media_ids: list[str] = Field(min_length=1, max_length=MEDIA_MAX, description="ids from POST /v1/media")


class ReportAccepted(BaseModel):
    """The answer to an accepted report (202; 200 when a retry returns the original)."""

    report_id: str
    status: str


class SuggestedCode(BaseModel):
    """One code the classifier suggested, with its confidence (0..1)."""

    code: str
    confidence: float


class SuggestionRead(BaseModel):
    """The classifier's suggestion recorded at submission, beside the operator's choice (command centre, admin)."""

    suggestions: list[SuggestedCode] = Field(description="best first; empty when it abstained without any")
    model_version: str | None
    abstained: bool
    reason: str = Field(description="ok, low_confidence, no_model, no_signal, empty, or error")
    agreed: bool | None = Field(description="the operator chose its top-1; null: nothing was suggested")


class ReportRead(BaseModel):
    """A report and where it stands; the phone is masked unless the caller may see it."""

    id: str
    channel: str
    category_code: str
    description: str
    lon: float | None
    lat: float | None
    source_crs: str
    reporter_id: str
    reporter_name: str | None
    reporter_phone: str | None
    address: str | None
    external_id: str | None
    urgency: str | None
    feedback_tier: str | None
    handled_on_spot: bool
    handled_note: str | None
    answer: str | None
    media_ids: list[str]
    status: str
    ticket_id: str | None
    department: str | None
    deadline: datetime | None
    submitted_at: datetime
    updated_at: datetime
    repeat_of: str | None = Field(default=None, description="a repeat call (status repeat): the report it repeats")
    repeat_calls: int = Field(default=0, description="repeat calls (重复来电) recorded on this report")
    knowledge_article_id: str | None = None
    suggestion: SuggestionRead | None = Field(
        default=None, description="hotline: the classifier's suggestion at submission; command_centre and admin only")
