"""Pure rules of intake: turn each channel's submission into one normalised report, no I/O.

Every channel (patrol 巡查, 12345 hotline, citizen 随手拍, Open311) ends as the same ``Draft``: channel,
reporter, location in WGS84 (with the system it came in), category, text and media. The view parses, this
module decides, the handler persists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_common.events.fix import DeviceFix
from gridgov_common.geo import to_wgs84
from gridgov_common.logs import mask_phones

# Roles that may see a reporter's phone in full, besides the handling department's dispatcher.
FULL_PHONE_ROLES = frozenset({"command_centre"})


@dataclass(frozen=True)
class Draft:
    """A normalised report before it is stored: the one shape every channel produces."""

    channel: str
    category_code: str
    description: str
    lon: float | None
    lat: float | None
    source_crs: str
    reporter_id: str
    reporter_role: str
    reporter_name: str | None = None
    reporter_phone: str | None = None
    device_id: str | None = None
    address: str | None = None
    external_id: str | None = None
    urgency: str | None = None
    feedback_tier: str | None = None
    handled_on_spot: bool = False
    handled_note: str | None = None
    answer: str | None = None
    media_ids: tuple[str, ...] = field(default_factory=tuple)
    source_address: str | None = None  # the caller's address, for the per-address limit
    device_fix: DeviceFix | None = None  # patrol: the phone's own fix, carried to dispatch (never stored here)
    repeat_of: str | None = None  # hotline: the caller's open report this call repeats (重复来电)
    knowledge_article_id: str | None = None  # hotline: the knowledge-base article the answer came from
    suggestion: RecordedSuggestion | None = None  # hotline: the classifier's suggestion at submission

    @property
    def closed_at_intake(self) -> bool:
        """A hotline consultation answered directly (直接答复) is closed at intake and never dispatched."""
        return self.answer is not None

    @property
    def published(self) -> bool:
        """Whether the report becomes a case (``report.received``): not when answered directly, nor when it is
        a repeat call recorded on a case already open."""
        return not self.closed_at_intake and self.repeat_of is None

    @property
    def uploader(self) -> str:
        """Whose uploads the draft's media must be: the reporter's own."""
        return self.reporter_id

    @property
    def status(self) -> str:
        """The report's first status."""
        if self.repeat_of is not None:
            return REPEAT_STATUS
        return "closed" if self.closed_at_intake else "received"


# A repeat call's status: recorded on the open report it repeats, never a case of its own (no ticket follows).
REPEAT_STATUS = "repeat"
# Statuses after which a report is no longer open: closed (办结, or answered directly), or a repeat call.
NOT_OPEN = frozenset({"closed", REPEAT_STATUS})
# Channels whose reports have a caller's phone to recognise a repeat call by.
REPEATABLE_CHANNELS = ("hotline", "citizen")


@dataclass(frozen=True)
class RecordedSuggestion:
    """The classifier's suggestion recorded beside the operator's choice: codes with confidences (best first),
    the model version, whether it abstained and why, and whether the operator chose its top-1."""

    codes: tuple[tuple[str, float], ...]
    model_version: str | None
    abstained: bool
    reason: str
    agreed: bool | None  # None: nothing was suggested

    def columns(self) -> dict:
        """The report columns that keep it."""
        return {"suggested": [{"code": c, "confidence": p} for c, p in self.codes],
                "suggestion_model_version": self.model_version, "suggestion_abstained": self.abstained,
                "suggestion_reason": self.reason, "suggestion_agreed": self.agreed}


def recorded_suggestion(classification, chosen_code: str) -> RecordedSuggestion:  # noqa: ANN001 - Classification
    """The classifier's answer (``assist.model.Classification``) as recorded beside the operator's choice."""
    codes = tuple((s.code, round(float(s.confidence), 4)) for s in classification.suggestions)
    return RecordedSuggestion(codes=codes, model_version=classification.model_version,
                              abstained=bool(classification.abstained), reason=str(classification.reason),
                              agreed=codes[0][0] == chosen_code if codes else None)


def no_suggestion(reason: str) -> RecordedSuggestion:
    """What is recorded when the classifier could not answer (e.g. "error"): abstained, nothing suggested."""
    return RecordedSuggestion(codes=(), model_version=None, abstained=True, reason=reason, agreed=None)


def wgs84(lon: float | None, lat: float | None, crs: str) -> tuple[float | None, float | None]:
    """The point in WGS84 (None stays None); phones report GCJ-02, Baidu apps BD-09."""
    if lon is None or lat is None:
        return None, None
    x, y = to_wgs84(lon, lat, crs)
    return round(float(x), 7), round(float(y), 7)


Extent = tuple[float, float, float, float]  # west, south, east, north in WGS84 degrees


def require_in_city(draft: Draft, extent: Extent, fields: tuple[str, str] = ("lon", "lat")) -> Draft:
    """The draft, if its WGS84 point (when it has one) lies in the city's extent; else 422 naming both
    coordinate fields (as the channel calls them), "不在本市范围内" for clients that ask in Chinese.

    A point outside the city can never be dispatched to anyone: refused at the door, never stored as a ticket
    stuck unlocated (a phone's stale fix in another city, a map tap that slipped, swapped coordinates).
    """
    if draft.lon is None or draft.lat is None:
        return draft
    west, south, east, north = extent
    if west <= draft.lon <= east and south <= draft.lat <= north:
        return draft
    where = f"WGS84 point ({draft.lon}, {draft.lat}) is outside the city ({west} to {east} E, {south} to {north} N)"
    refused = ValidationFailed("the location is outside the city", [
        ErrorDetail(field, where, reason_zh=f"不在本市范围内（{draft.lon}, {draft.lat}）") for field in fields])
    refused.message_zh = "位置不在本市范围内"
    raise refused


def idempotency_key(channel: str, caller: str, *, header: str | None = None, order_no: str | None = None,
                    client_id: str | None = None) -> str | None:
    """The key under which a retried submission finds its original report, or None (no dedupe).

    The hotline's order number is the natural key of a work order, whoever sends it; a header key or a
    client-generated id is scoped to the caller, so two callers never collide on the same string.
    """
    if order_no:
        return f"hotline:order:{order_no}"
    if header:
        return f"{channel}:{caller}:header:{header}"
    if client_id:
        return f"{channel}:{caller}:client:{client_id}"
    return None


def mask_phone(phone: str | None) -> str | None:
    """A phone number as 138****1234 (shorter numbers keep only their last 4 digits)."""
    if phone is None:
        return None
    masked = mask_phones(phone)
    if masked != phone:
        return masked
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def sees_full_phone(role: str, department: str | None, report_department: str | None) -> bool:
    """Only the handling department's dispatcher and the command centre see a reporter's phone in full."""
    if role in FULL_PHONE_ROLES:
        return True
    return role == "dept_dispatcher" and department is not None and department == report_department


def patrol_draft(sub: str, role: str, body) -> Draft:  # noqa: ANN001 - PatrolReportCreate
    """A grid worker's patrol report as a draft; 自行处置 needs the note and a photo of the fix."""
    problems = []
    if body.handled_on_spot and not body.handled_note:
        problems.append(ErrorDetail("handled_note", "required when handled_on_spot is true"))
    if body.handled_on_spot and not body.media_ids:
        problems.append(ErrorDetail("media_ids", "a photo of the fix is required when handled_on_spot is true"))
    if problems:
        raise ValidationFailed("the patrol report is incomplete", problems)
    return Draft(channel="patrol", category_code=body.category_code, description=body.description,
                 lon=body.lon, lat=body.lat, source_crs="wgs84", reporter_id=sub, reporter_role=role,
                 handled_on_spot=body.handled_on_spot,
                 handled_note=body.handled_note if body.handled_on_spot else None,
                 media_ids=tuple(body.media_ids), device_fix=body.fix)


def hotline_draft(role: str, body) -> Draft:  # noqa: ANN001 - HotlineReportCreate
    """A 12345 work order as a draft: the caller is the reporter, coordinates (if any) become WGS84."""
    if (body.lon is None) != (body.lat is None):
        missing = "lat" if body.lat is None else "lon"
        raise ValidationFailed("give both coordinates or neither",
                               [ErrorDetail(missing, "required when the other coordinate is given")])
    _check_hotline_links(body)
    lon, lat = wgs84(body.lon, body.lat, body.crs)
    return Draft(channel="hotline", category_code=body.category_code, description=body.description,
                 lon=lon, lat=lat, source_crs=body.crs, reporter_id=f"hotline:{body.order_no}",
                 reporter_role=role, reporter_name=body.caller_name, reporter_phone=body.caller_phone,
                 address=body.address, external_id=body.order_no, urgency=body.urgency,
                 feedback_tier=body.feedback_tier, answer=body.answer, repeat_of=body.repeat_of,
                 knowledge_article_id=body.knowledge_article_id)


def _check_hotline_links(body) -> None:  # noqa: ANN001 - HotlineReportCreate
    """What ``repeat_of`` and ``knowledge_article_id`` need besides the database: a repeat call is known by the
    caller's phone and is not a consultation answered anew; an article is where an answer came from."""
    problems = []
    if body.repeat_of is not None and body.caller_phone is None:
        problems.append(ErrorDetail("caller_phone", "required with repeat_of: a repeat call is the same caller's",
                                    "关联重复来电时必须填写来电号码"))
    if body.repeat_of is not None and body.answer is not None:
        problems.append(ErrorDetail("repeat_of", "a repeat call is recorded on the open case; it cannot also be "
                                                 "answered directly (omit answer or repeat_of)",
                                    "重复来电记录在原工单上，不能同时直接答复"))
    if body.knowledge_article_id is not None and body.answer is None:
        problems.append(ErrorDetail("knowledge_article_id", "only with answer: the article an answer came from",
                                    "仅在直接答复（answer）时填写知识库条目"))
    if problems:
        error = ValidationFailed("the hotline order's links are inconsistent", problems)
        error.message_zh = "工单关联信息有误"
        raise error


def citizen_draft(sub: str, role: str, body) -> Draft:  # noqa: ANN001 - CitizenReportCreate
    """A citizen photo report (随手拍) as a draft: the phone's GCJ-02 point becomes WGS84."""
    lon, lat = wgs84(body.lon, body.lat, body.crs)
    return Draft(channel="citizen", category_code=body.category_code, description=body.description,
                 lon=lon, lat=lat, source_crs=body.crs, reporter_id=sub, reporter_role=role,
                 reporter_phone=body.phone, device_id=body.device_id, media_ids=tuple(body.media_ids))
