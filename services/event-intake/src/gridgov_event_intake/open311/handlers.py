"""Use cases of the Open311 API: issue API keys, authenticate a client, turn a form into a draft, query.

Queries serve the public view only: reports of the channels a city lists (``open311_public_channels``;
by default patrol, citizen and open311 — the 12345 hotline's calls are private conversations and stay
unlisted unless a city adds ``hotline``), shaped by ``render`` into what a city publishes.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from gridgov_common.db import Database
from gridgov_common.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.open311 import render
from gridgov_event_intake.open311.models import ApiClient
from gridgov_event_intake.reports.models import Report, ReportUpdate
from gridgov_event_intake.reports.normalise import Draft
from gridgov_event_intake.reports.schemas import DESCRIPTION_MAX, PHONE_PATTERN

DEFAULT_SPAN = timedelta(days=90)  # the specification's default window for GET requests
# Dates a query may name: anything outside is a typo or a probe (0001-01-01, 9999-12-31T23:59:59-12:00 would
# overflow datetime arithmetic), and no report of this platform can lie there.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_DATE_RANGE = f"between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}"
ID_MAX = 100  # longer than any id gridgov issues (36); a longer one cannot match, so it is refused outright
# C0 controls and DEL: no id, code or date contains one, and PostgreSQL refuses NUL in text outright.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_RESULTS = 1000
NAME_MAX = 100


def create_client(db: Database, name: str) -> str:
    """Register a client system and return its new API key (only its hash is stored); Conflict if taken."""
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed("bad client name", [ErrorDetail("name", f"1 to {NAME_MAX} characters")])
    key = render.new_api_key()
    try:
        with db.session() as session:
            session.add(ApiClient(name=name, key_hash=render.hash_api_key(key), created_at=datetime.now(UTC)))
            session.commit()
    except IntegrityError as exc:
        raise Conflict(f"client {name} exists", [ErrorDetail("name", "already registered")]) from exc
    return key


def authenticate(session: Session, api_key: str | None) -> ApiClient:
    """The client holding this key; Forbidden (403) when it is missing or unknown."""
    if not api_key:
        raise Forbidden("api_key is required", "api_key")
    client = session.exec(select(ApiClient).where(ApiClient.key_hash == render.hash_api_key(api_key))).first()
    if client is None:
        raise Forbidden("api_key is not valid", "api_key")
    return client


def _float(form: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    raw = form.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{name} is not a number", [ErrorDetail(name, "not a number")]) from exc
    if not (low <= value <= high) or math.isnan(value):
        raise ValidationFailed(f"{name} out of range", [ErrorDetail(name, f"between {low} and {high}")])
    return value


def draft_from_form(client: str, form: Mapping[str, str]) -> Draft:
    """A POST requests form as a normalised draft (coordinates are WGS84, as the specification says)."""
    code = form.get("service_code") or ""
    if not code:
        raise ValidationFailed("service_code is required", [ErrorDetail("service_code", "required")])
    # Whether the catalog in effect lists the code is checked where the report is accepted (field service_code).
    lat, lon = _float(form, "lat", -90, 90), _float(form, "long", -180, 180)
    if (lat is None) != (lon is None):
        raise ValidationFailed("give lat and long together", [ErrorDetail("lat" if lat is None else "long",
                                                                          "required with the other")])
    address = (form.get("address_string") or form.get("address_id") or "").strip() or None
    if lat is None and address is None:
        raise ValidationFailed("a location is required",
                               [ErrorDetail("lat", "lat+long, address_string or address_id is required")])
    if address is not None and len(address) > 500:
        raise ValidationFailed("address too long", [ErrorDetail("address_string", "at most 500 characters")])
    description = (form.get("description") or "").strip() or code
    if len(description) > DESCRIPTION_MAX:
        raise ValidationFailed("description too long",
                               [ErrorDetail("description", f"at most {DESCRIPTION_MAX} characters")])
    phone = form.get("phone") or None
    if phone is not None and not re.match(PHONE_PATTERN, phone):
        raise ValidationFailed("bad phone", [ErrorDetail("phone", "not a phone number")])
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p).strip()[:NAME_MAX] or None
    who = form.get("account_id") or form.get("device_id")
    if not who and form.get("email"):  # an e-mail address is personal data: it never travels on the bus
        who = "email-" + hashlib.sha256(form["email"].strip().lower().encode()).hexdigest()[:16]
    return Draft(channel="open311", category_code=code, description=description, lon=lon, lat=lat,
                 source_crs="wgs84", reporter_id=f"open311:{client}:{(who or 'anonymous')[:60]}",
                 reporter_role="citizen", reporter_name=name, reporter_phone=phone,
                 device_id=(form.get("device_id") or None), address=address)


@dataclass(frozen=True)
class RequestFilter:
    """GET requests filters, parsed."""

    start: datetime
    end: datetime
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


def plain_value(name: str, value: str) -> str:
    """``value`` of the query or path parameter ``name``; 400 naming it when it holds a control character
    or is longer than any id."""
    if _CONTROL.search(value):
        raise ValidationFailed(f"{name} holds a control character", [ErrorDetail(name, "control character")])
    if len(value) > ID_MAX:
        raise ValidationFailed(f"{name} too long", [ErrorDetail(name, f"at most {ID_MAX} characters")])
    return value


def _date(query: Mapping[str, str], name: str) -> datetime | None:
    """The date parameter ``name`` in UTC; 400 naming it when malformed or outside EARLIEST..LATEST."""
    raw = query.get(name)
    if not raw:
        return None
    plain_value(name, raw)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        # Converted to UTC here, so that a date past year 9999 in UTC overflows now, not later in arithmetic.
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValidationFailed(f"{name} is not a date", [ErrorDetail(name, "not an ISO 8601 date")]) from exc
    except OverflowError as exc:  # 9999-12-31T23:59:59-12:00 is past year 9999 in UTC
        raise ValidationFailed(f"{name} out of range", [ErrorDetail(name, _DATE_RANGE)]) from exc
    if not EARLIEST <= moment <= LATEST:
        raise ValidationFailed(f"{name} out of range", [ErrorDetail(name, _DATE_RANGE)])
    return moment


def window(query: Mapping[str, str], now: datetime) -> tuple[datetime, datetime]:
    """The ``start_date``..``end_date`` window (default: the 90 days up to ``end_date`` or now); 400 when
    reversed."""
    start, end = _date(query, "start_date"), _date(query, "end_date")
    if start is not None and end is not None and start > end:
        raise ValidationFailed("start_date after end_date", [ErrorDetail("start_date", "after end_date")])
    end = end or now
    return start or (end - DEFAULT_SPAN), end


def _list(query: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(plain_value(name, p.strip()) for p in (query.get(name) or "").split(",") if p.strip())


def parse_filter(query: Mapping[str, str], now: datetime) -> RequestFilter:
    """The filters of GET requests; 400 naming the field when one is malformed."""
    statuses = _list(query, "status")
    for status in statuses:
        if status not in ("open", "closed"):
            raise ValidationFailed("bad status", [ErrorDetail("status", "open or closed")])
    start, end = window(query, now)
    return RequestFilter(start=start, end=end, ids=_list(query, "service_request_id")[:MAX_RESULTS],
                         service_codes=_list(query, "service_code"), statuses=statuses)


def get_public(session: Session, report_id: str, channels: Collection[str]) -> Report:
    """The report if the public may see it (its channel is listed); NotFound otherwise, as if it did not exist."""
    report = session.get(Report, plain_value("service_request_id", report_id))
    if report is None or report.channel not in channels:
        raise NotFound("service_request_id", report_id)
    return report


def list_requests(session: Session, wanted: RequestFilter, channels: Collection[str]) -> list[Report]:
    """Public reports matching the filters; ids override the rest, as the specification says. Newest first."""
    query = select(Report).where(Report.channel.in_(list(channels)))
    if wanted.ids:
        query = query.where(Report.id.in_(wanted.ids))
    else:
        query = query.where(Report.submitted_at >= wanted.start, Report.submitted_at <= wanted.end)
        if wanted.service_codes:
            query = query.where(Report.category_code.in_(wanted.service_codes))
        if wanted.statuses == ("closed",):
            query = query.where(Report.status == "closed")
        elif wanted.statuses == ("open",):
            query = query.where(Report.status != "closed")
    return list(session.exec(query.order_by(Report.submitted_at.desc()).limit(MAX_RESULTS)).all())


def first_media(session: Session, report_ids: list[str]) -> dict[str, str]:
    """The first media id of each report that has one."""
    if not report_ids:
        return {}
    rows = session.exec(select(Media.report_id, Media.id).where(Media.report_id.in_(report_ids))
                        .order_by(Media.created_at.desc(), Media.id.desc())).all()
    return {report_id: media_id for report_id, media_id in rows}


def list_updates(session: Session, query: Mapping[str, str], now: datetime,
                 channels: Collection[str]) -> list[ReportUpdate]:
    """Status changes of public reports in the window (default: the last 90 days), oldest first."""
    start, end = window(query, now)
    return list(session.exec(
        select(ReportUpdate).join(Report, Report.id == ReportUpdate.report_id)
        .where(Report.channel.in_(list(channels)), ReportUpdate.at >= start, ReportUpdate.at <= end)
        .order_by(ReportUpdate.at, ReportUpdate.id).limit(MAX_RESULTS)).all())
