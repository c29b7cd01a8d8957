"""Use cases of intake: accept a normalised report from any channel, follow the ticket it became."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, RateLimited, ValidationFailed
from gridgov_common.events.reports import REPORT_RECEIVED, ReportReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.logs import correlation
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.reports import ratelimit, service
from gridgov_event_intake.reports.models import Report, ReportUpdate
from gridgov_event_intake.reports.normalise import Draft
from gridgov_event_intake.rewards.models import RewardEntry

log = logging.getLogger(__name__)

SERVICE = "event-intake"
TICKET_CONSUMER = "event-intake.ticket-status"
REWARD_REASON = "report_accepted"


@dataclass(frozen=True)
class RateLimit:
    """How many reports one device or one phone may file inside a window."""

    limit: int
    window: timedelta


@dataclass(frozen=True)
class Accepted:
    """The report, and whether this call created it (False: a retry got the original back)."""

    report: Report
    created: bool


def accept(db: Database, draft: Draft, key: str | None, *, rate: RateLimit | None = None,
           reward_points: int = 0) -> Accepted:
    """Persist a normalised report, attach its media, credit rewards and stage ``report.received``, atomically.

    A submission whose idempotency ``key`` is known returns the original report. Concurrent retries under
    one key race to the UNIQUE constraint: the loser's transaction rolls back and it returns the winner.
    Any failure (bad media, rate limit) leaves nothing stored and nothing published.
    """
    try:
        with db.session() as session:
            if key is not None and (original := service.get_by_idempotency_key(session, key)) is not None:
                return Accepted(original, False)
            if rate is not None:
                _check_rate(session, draft, rate)
            report = _persist(db, session, draft, key, reward_points)
            session.commit()
    except IntegrityError:
        if key is None:
            raise
        with db.session() as session:
            original = service.get_by_idempotency_key(session, key)
        if original is None:
            raise
        return Accepted(original, False)
    with correlation(report.id):
        log.info("report %s accepted: channel %s, category %s%s", report.id, report.channel,
                 report.category_code, ", closed at intake (answered directly)" if draft.closed_at_intake else "")
    return Accepted(report, True)


def _persist(db: Database, session: Session, draft: Draft, key: str | None, reward_points: int) -> Report:
    now = datetime.now(UTC)
    report = Report(
        id=str(uuid.uuid4()), channel=draft.channel, category_code=draft.category_code,
        description=draft.description, lon=draft.lon, lat=draft.lat, source_crs=draft.source_crs,
        reporter_id=draft.reporter_id, reporter_role=draft.reporter_role, reporter_name=draft.reporter_name,
        reporter_phone=draft.reporter_phone, device_id=draft.device_id, address=draft.address,
        external_id=draft.external_id, idempotency_key=key, urgency=draft.urgency,
        feedback_tier=draft.feedback_tier, handled_on_spot=draft.handled_on_spot,
        handled_note=draft.handled_note, answer=draft.answer, status=draft.status,
        submitted_at=now, updated_at=now,
    )
    session.add(report)
    session.flush()  # the UNIQUE idempotency key speaks here, before anything else is staged
    _attach_media(session, report, draft)
    if reward_points and draft.channel == "citizen":
        session.add(RewardEntry(citizen_id=draft.reporter_id, report_id=report.id, points=reward_points,
                                reason=REWARD_REASON, at=now))
    if not draft.closed_at_intake:
        payload = ReportReceived(
            report_id=report.id, channel=draft.channel, category_code=report.category_code,  # type: ignore[arg-type]
            description=report.description, lon=report.lon, lat=report.lat, source_crs=report.source_crs,
            reporter_id=report.reporter_id, reporter_role=report.reporter_role, submitted_at=now,
            handled_on_spot=draft.handled_on_spot, handled_note=draft.handled_note,
            media_ids=list(draft.media_ids), address=draft.address, urgency=draft.urgency,
            feedback_tier=draft.feedback_tier,
        )
        db.add_outbox(session, REPORTS_RECEIVED, new_envelope(
            type=REPORT_RECEIVED, producer=SERVICE, key=report.id, payload=payload, correlation_id=report.id))
    return report


def _attach_media(session: Session, report: Report, draft: Draft) -> None:
    """Attach the draft's uploads to the report; each must be the reporter's own and not used before."""
    if not draft.media_ids:
        return
    if len(set(draft.media_ids)) != len(draft.media_ids):
        raise ValidationFailed("media listed twice", [ErrorDetail("media_ids", "each id at most once")])
    found = {m.id: m for m in session.exec(select(Media).where(Media.id.in_(draft.media_ids))).all()}
    for media_id in draft.media_ids:
        media = found.get(media_id)
        if media is None or media.uploader_id != draft.uploader:
            raise ValidationFailed("unknown media", [ErrorDetail("media_ids", f"no upload {media_id} of yours")])
        if media.report_id is not None:
            raise ValidationFailed("media already used",
                                   [ErrorDetail("media_ids", f"upload {media_id} belongs to another report")])
        media.report_id = report.id
        session.add(media)


def _check_rate(session: Session, draft: Draft, rate: RateLimit) -> None:
    """429 when the device or the phone has filed ``rate.limit`` reports inside the window."""
    now = datetime.now(UTC)
    since = now - rate.window
    for field_name, value, column in (("device_id", draft.device_id, Report.device_id),
                                      ("phone", draft.reporter_phone, Report.reporter_phone)):
        if value is None:
            continue
        times = session.exec(select(Report.submitted_at).where(
            Report.channel == draft.channel, column == value, Report.submitted_at >= since)).all()
        wait = ratelimit.retry_after([_aware(t) for t in times], now, rate.limit, rate.window)
        if wait is not None:
            raise RateLimited(field_name, f"at most {rate.limit} reports per {int(rate.window.total_seconds())}s",
                              wait)


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; they were written as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def follow_ticket(session: Session, envelope: Envelope) -> None:
    """Keep each report's status in step with its ticket, so every reporter can see where it stands.

    A ticket's reporters are the one it was made from and those merged into it (并案); each gets the update.
    """
    if not envelope.type.startswith("ticket."):
        return
    event = TicketEvent.model_validate(envelope.payload)
    for report_id in (event.report_id, *event.merged_report_ids):
        report = session.get(Report, report_id)
        if report is None:
            continue
        report.status = event.to_state
        report.ticket_id = event.ticket_id
        report.department = event.department
        report.deadline = event.deadline
        report.updated_at = datetime.now(UTC)
        session.add(report)
        # One update per report and event: the primary report keeps the envelope id (redelivery-safe).
        update_id = str(envelope.id) if report_id == event.report_id else str(uuid.uuid5(envelope.id, report_id))
        if session.get(ReportUpdate, update_id) is None:
            session.add(ReportUpdate(id=update_id, report_id=report.id, status=event.to_state,
                                     note=event.note, at=event.occurred_at))
