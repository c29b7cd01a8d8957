"""Use cases of intake: accept a normalised report from any channel, follow the ticket it became."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.categories import CategoryBook
from gridgov_common.db import Database, OutboxSession
from gridgov_common.errors import ErrorDetail, RateLimited, ValidationFailed
from gridgov_common.events.reports import REPORT_RECEIVED, ReportReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.ids import new_id
from gridgov_common.logs import correlation
from gridgov_event_intake.assist import repeat
from gridgov_event_intake.assist import service as assist
from gridgov_event_intake.catalog import handlers as catalogs
from gridgov_event_intake.groupcommit import GroupCommitter
from gridgov_event_intake.knowledge import service as knowledge
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.reports import ratelimit, service
from gridgov_event_intake.reports.batch import FollowBatch, follow_batch, ticket_facts, update_id
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.reports.normalise import (
    NOT_OPEN,
    REPEAT_STATUS,
    REPEATABLE_CHANNELS,
    Draft,
    RecordedSuggestion,
    no_suggestion,
    recorded_suggestion,
)
from gridgov_event_intake.settings import IntakeSettings

log = logging.getLogger(__name__)

SERVICE = "event-intake"
# Points are earned when the report's ticket passes verification (核查通过), once per report.
REWARD_REASON = "report_verified"
REWARD_ACTION = "verify"
REPORT_TABLE = Report.__table__
STAGED_REPORTS = "staged_reports"


@dataclass(frozen=True)
class RateLimit:
    """How many reports one device or one phone may file inside a window; optionally also one account, one
    source address (same window) and every submitter of the channel together (per minute)."""

    limit: int
    window: timedelta
    account_limit: int | None = None
    address_limit: int | None = None
    global_per_minute: int | None = None


@dataclass(frozen=True)
class Accepted:
    """The stored report's id and status, and whether this call created it (False: a retry got the original)."""

    report_id: str
    status: str
    created: bool

    @classmethod
    def original(cls, report: Report) -> Accepted:
        """A retry's answer: the report first stored under its key."""
        return cls(report.id, report.status, False)


def accept(db: Database, draft: Draft, key: str | None, *, rate: RateLimit | None = None,
           committer: GroupCommitter | None = None) -> Accepted:
    """Persist a normalised report, attach its media and stage ``report.received``, atomically.

    No reward is credited here: a citizen's points wait for the ticket to pass verification (``follow_ticket``).

    The category must be listed by the catalog version in effect (422 otherwise, before anything is written).
    A submission whose idempotency ``key`` is known returns the original report. Retries inside one process
    meet in the committer, one after the other; across processes they race to the UNIQUE constraint: the
    loser's transaction rolls back and it returns the winner. Any failure (bad media, rate limit) leaves
    nothing stored and nothing published. With a ``committer`` the write joins its current group commit;
    without, it is a transaction of its own. Either way the answer comes after the commit.
    """
    _check_category(catalogs.categories_for_write(db, committer), draft)
    job = report_writer(db, draft, key, rate=rate)
    try:
        accepted = committer.run(job) if committer is not None else _alone(db, job)
    except IntegrityError:
        if key is None:
            raise
        with db.session() as session:
            original = service.get_by_idempotency_key(session, key)
        if original is None:
            raise
        return Accepted.original(original)
    _log_accepted(accepted, draft)
    return accepted


async def accept_async(committer: GroupCommitter, db: Database, draft: Draft, key: str | None, *,
                       rate: RateLimit | None = None) -> Accepted:
    """``accept`` for async views: the write joins the committer's group commit, no worker thread is held."""
    _check_category(await catalogs.categories_for_write_async(db, committer), draft)
    try:
        accepted = await committer.run_async(report_writer(db, draft, key, rate=rate))
    except IntegrityError:
        if key is None:
            raise
        # Lost a race to another process under the same key (PostgreSQL): the winner has committed by now.
        original = await committer.run_async(partial(service.get_by_idempotency_key, key=key))
        if original is None:
            raise
        return Accepted.original(original)
    _log_accepted(accepted, draft)
    return accepted


# The form field that carries the category, where a channel does not call it ``category_code``.
CATEGORY_FIELD = {"open311": "service_code"}


def _check_category(book: CategoryBook, draft: Draft) -> None:
    """Refuse a category the catalog in effect does not list, naming the field the client filled in."""
    catalogs.require_known(book, draft.category_code, CATEGORY_FIELD.get(draft.channel, "category_code"))


def _alone(db: Database, job: Callable[[Session], Accepted]) -> Accepted:
    """Run the job in a transaction of its own."""
    with db.session() as session:
        accepted = job(session)
        session.commit()
    return accepted


def report_writer(db: Database, draft: Draft, key: str | None, *,
                  rate: RateLimit | None = None) -> Callable[[Session], Accepted]:
    """The write of ``accept`` as a job for a transaction it may share with other reports (group commit)."""
    return partial(_accept_in, db, draft, key, rate)


def _accept_in(db: Database, draft: Draft, key: str | None, rate: RateLimit | None,
               session: Session) -> Accepted:
    if key is not None or rate is not None:
        write_staged(session)  # the lookups below must see the reports staged earlier in this transaction
    if key is not None and (original := service.get_by_idempotency_key(session, key)) is not None:
        return Accepted.original(original)
    _check_links(session, draft)
    if rate is not None:
        _check_rate(session, draft, rate)
    return _persist(db, session, draft, key)


def _check_links(session: Session, draft: Draft) -> None:
    """422 naming the field when ``repeat_of`` is not an open hotline or citizen report of the same caller
    phone, or ``knowledge_article_id`` not an article in force today. Checked in the write's transaction, after
    the idempotency lookup: a resent order returns its original even if the case has closed since."""
    if draft.repeat_of is not None:
        reason = _not_repeatable(session.get(Report, draft.repeat_of), draft)
        if reason is not None:
            error = ValidationFailed("repeat_of is not an open case of this caller",
                                     [ErrorDetail("repeat_of", reason[0], reason[1])])
            error.message_zh = "关联的原工单无效"
            raise error
    if draft.knowledge_article_id is not None and knowledge.get_valid(session, draft.knowledge_article_id) is None:
        error = ValidationFailed("knowledge_article_id is not an article in force", [ErrorDetail(
            "knowledge_article_id", f"no knowledge-base article {draft.knowledge_article_id} in force today",
            f"知识库中没有今日有效的条目 {draft.knowledge_article_id}")])
        error.message_zh = "知识库条目无效"
        raise error


def _not_repeatable(target: Report | None, draft: Draft) -> tuple[str, str] | None:
    """Why the call cannot be recorded on ``target`` (English, Chinese), or None when it can."""
    wanted = draft.repeat_of
    if target is None:
        return f"no report {wanted}", f"原工单 {wanted} 不存在"
    if target.channel not in REPEATABLE_CHANNELS:
        return (f"report {wanted} is a {target.channel} report; repeat calls go on hotline and citizen reports",
                f"原工单 {wanted} 不是热线或市民上报的工单")
    if target.status == REPEAT_STATUS:
        return (f"report {wanted} is itself a repeat call of {target.repeat_of}; name that one",
                f"{wanted} 本身是重复来电，请关联原工单 {target.repeat_of}")
    if target.status in NOT_OPEN:
        return f"report {wanted} is {target.status}, no longer open", f"原工单 {wanted} 已办结"
    if draft.reporter_phone is None or target.reporter_phone not in repeat.phone_variants(draft.reporter_phone):
        return f"report {wanted} is not from caller_phone", f"原工单 {wanted} 不是该来电号码反映的"
    return None


def suggestion_for(db: Database, text: str, chosen_code: str) -> RecordedSuggestion:
    """The classifier's suggestion for a hotline order's text, to record beside the operator's choice.

    Never fails the order: without a model it records abstained/no_model (the classifier's own answer); if the
    classifier raises, abstained/error, logged.
    """
    try:
        return recorded_suggestion(assist.suggest(db, text), chosen_code)
    except Exception:  # noqa: BLE001 - a suggestion is advice; the order must be taken whatever happens to it
        log.exception("classifier failed on a hotline order; recording no suggestion")
        return no_suggestion("error")


def _log_accepted(accepted: Accepted, draft: Draft) -> None:
    # INFO on purpose: one line per report in every service, under the report's correlation id, is how an operator
    # follows a report across the loop (tests/e2e/test_loop.py). With orjson the line costs ~0.02 ms (#18).
    if not accepted.created or not log.isEnabledFor(logging.INFO):
        return
    with correlation(accepted.report_id):
        log.info("report %s accepted: channel %s, category %s%s", accepted.report_id, draft.channel,
                 draft.category_code, ", closed at intake (answered directly)" if draft.closed_at_intake else "")


def _stage(session: Session, row: dict) -> None:
    """Stage a report row, to be inserted with the others of its transaction in one statement.

    Rows, not ORM objects: the unit of work costs more than the rest of the write together, and one
    multi-row insert per group commit instead of one statement per report.
    """
    if not isinstance(session, ReportSession):
        raise TypeError("reports are staged only in intake's ReportSession: open the database with "
                        "app.open_database")
    session.info.setdefault(STAGED_REPORTS, []).append(row)


def write_staged(session: Session) -> None:
    """Insert the reports staged in this transaction (the UNIQUE idempotency key speaks here)."""
    rows = session.info.get(STAGED_REPORTS)
    if rows:
        session.execute(insert(REPORT_TABLE), rows)
        rows.clear()


class ReportSession(OutboxSession):
    """intake's session: writes the reports staged in the transaction before it commits, so no caller can
    commit and lose them, and forgets them with a rollback.

    Passed to intake's ``Database`` where it is built (``app.open_database``): nothing is attached to the
    shared ``OutboxSession`` class, and staging in any other session fails loudly instead of losing reports.
    """

    def commit(self) -> None:
        """Insert the staged reports, then the outbox rows, then commit."""
        write_staged(self)
        super().commit()

    def rollback(self) -> None:
        """Forget the staged reports with the rest of the transaction."""
        self.info.pop(STAGED_REPORTS, None)
        super().rollback()


# The suggestion columns of a report never shown to the classifier (every channel but the hotline).
NOT_SUGGESTED = dict.fromkeys(("suggested", "suggestion_model_version", "suggestion_abstained", "suggestion_reason",
                               "suggestion_agreed"))


def _persist(db: Database, session: Session, draft: Draft, key: str | None) -> Accepted:
    now = datetime.now(UTC)
    report_id = new_id()
    _stage(session, {
        "id": report_id, "channel": draft.channel, "category_code": draft.category_code,
        "description": draft.description, "lon": draft.lon, "lat": draft.lat, "source_crs": draft.source_crs,
        "reporter_id": draft.reporter_id, "reporter_role": draft.reporter_role,
        "reporter_name": draft.reporter_name, "reporter_phone": draft.reporter_phone, "device_id": draft.device_id,
        "address": draft.address, "external_id": draft.external_id, "idempotency_key": key,
        "urgency": draft.urgency, "feedback_tier": draft.feedback_tier, "handled_on_spot": draft.handled_on_spot,
        "handled_note": draft.handled_note, "answer": draft.answer, "status": draft.status,
        "source_address": draft.source_address, "submitted_at": now, "updated_at": now,
        "repeat_of": draft.repeat_of, "knowledge_article_id": draft.knowledge_article_id,
        **(draft.suggestion.columns() if draft.suggestion is not None else NOT_SUGGESTED),
    })
    _attach_media(session, report_id, draft)
    if draft.published:
        payload = ReportReceived(
            report_id=report_id, channel=draft.channel, category_code=draft.category_code,  # type: ignore[arg-type]
            description=draft.description, lon=draft.lon, lat=draft.lat, source_crs=draft.source_crs,
            reporter_id=draft.reporter_id, reporter_role=draft.reporter_role, submitted_at=now,
            handled_on_spot=draft.handled_on_spot, handled_note=draft.handled_note,
            media_ids=list(draft.media_ids), address=draft.address, urgency=draft.urgency,
            feedback_tier=draft.feedback_tier, device_fix=draft.device_fix,
        )
        db.add_outbox(session, REPORTS_RECEIVED, new_envelope(
            type=REPORT_RECEIVED, producer=SERVICE, key=report_id, payload=payload, correlation_id=report_id))
    return Accepted(report_id, draft.status, True)


def _attach_media(session: Session, report_id: str, draft: Draft) -> None:
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
        media.report_id = report_id
        session.add(media)


def _check_rate(session: Session, draft: Draft, rate: RateLimit) -> None:
    """429 naming the field when the account, the device, the phone or the source address has filed its limit
    of reports inside the window, or the channel its ceiling inside the last minute.

    Counted from the report table, so every instance of intake sees the same counts (see ``limits``).
    """
    now = datetime.now(UTC)
    per_window = f"per {int(rate.window.total_seconds())}s"
    checks = (("account", draft.reporter_id, Report.reporter_id, rate.account_limit),
              ("device_id", draft.device_id, Report.device_id, rate.limit),
              ("phone", draft.reporter_phone, Report.reporter_phone, rate.limit),
              ("source_address", draft.source_address, Report.source_address, rate.address_limit))
    for field_name, value, column, limit in checks:
        if value is None or limit is None:
            continue
        wait = _wait(session, now, rate.window, limit, Report.channel == draft.channel, column == value)
        if wait is not None:
            raise RateLimited(field_name, f"at most {limit} reports {per_window}", wait)
    if rate.global_per_minute is not None:
        wait = _wait(session, now, GLOBAL_WINDOW, rate.global_per_minute, Report.channel == draft.channel)
        if wait is not None:
            raise RateLimited("channel", f"at most {rate.global_per_minute} {draft.channel} reports per minute "
                                         "from everyone together", wait)


GLOBAL_WINDOW = timedelta(minutes=1)


def _wait(session: Session, now: datetime, window: timedelta, limit: int, *where) -> int | None:  # noqa: ANN002
    """Seconds before one more report matching ``where`` fits the sliding window, or None."""
    # Only the newest ``limit`` times decide (see ratelimit.retry_after): never more rows than that.
    times = session.exec(select(Report.submitted_at).where(*where, Report.submitted_at >= now - window)
                         .order_by(Report.submitted_at.desc()).limit(max(limit, 1))).all()
    return ratelimit.retry_after(list(times), now, limit, window)  # aware: sqlmodel's UTCDateTime


# The command centre's own steps (SLA warnings, escalations, 督办) are not news to the reporter: the state stays.
# Nor is a sensing device's evidence on the ticket (issue #16: its repeats, its "resolved").
INTERNAL_ACTIONS = frozenset({"warn", "escalate", "supervise", "sensor_evidence"})


def follow_ticket(deps: IntakeSettings | FollowBatch, session: Session, envelope: Envelope) -> None:
    """Keep each report's status, department and grid in step with its ticket, so every reporter can see where
    it stands and each report is readable by the department and grid that hold its ticket now.

    A ticket's reporters are the one it was made from and those merged into it (并案); each gets the update.
    When the ticket passes verification (核查通过) its own citizen report earns the settings' reward points,
    once: only the ticket's own report (a merged one was a duplicate), and any earlier entry of the report
    (credited at intake before issue #11) counts. The command centre's own steps are not routed here (see
    ``consumers``). The consumer hands a ``FollowBatch`` (the batch's reports read once, rows written at its
    commit); bare settings (a direct call) make a batch of this one event, written at once.
    """
    event = TicketEvent.model_validate(envelope.payload)
    batch = deps if isinstance(deps, FollowBatch) else follow_batch(deps, [envelope])
    now = datetime.now(UTC)
    points = batch.settings.citizen_reward_points
    for report_id in (event.report_id, *event.merged_report_ids):
        reporter = batch.reporter(session, report_id)
        if reporter is None:
            continue
        primary = report_id == event.report_id
        batch.set_facts(session, report_id, ticket_facts(event.to_state, event.ticket_id, event.department,
                                                         event.grid_code, event.deadline, now))
        batch.add_update(session, {"id": update_id(envelope.id, report_id, primary), "report_id": report_id,
                                   "status": event.to_state, "note": event.note, "at": event.occurred_at})
        if primary and event.action == REWARD_ACTION and points > 0 and reporter.channel == "citizen":
            batch.reward_once(session, report_id, {"citizen_id": reporter.reporter_id, "report_id": report_id,
                                                   "points": points, "reason": REWARD_REASON,
                                                   "at": event.occurred_at})
    if batch is not deps:
        batch.write_staged(session)


@dataclass(frozen=True)
class RepeatCandidate:
    """An open report of the caller alike to what they say now, and how alike (0..1)."""

    report: Report
    similarity: float


def find_repeats(session: Session, phone: str, text: str, window: timedelta, threshold: float,
                 limit: int = 5) -> list[RepeatCandidate]:
    """The caller's open hotline and citizen reports of the window whose description is at least ``threshold``
    alike to ``text``, most alike first (newest first among equals): the cases to offer for a repeat call."""
    reports = service.open_reports_of_caller(session, repeat.phone_variants(phone), datetime.now(UTC) - window)
    ranked = repeat.rank(text, [(r, r.description) for r in reports], threshold)
    return [RepeatCandidate(r, s) for r, s in ranked[:limit]]
