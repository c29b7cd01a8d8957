"""Use cases of follow-ups (回访): create them when a ticket closes, show one, take its answer.

Creating runs in the consumer's transaction with the inbox messages and deliveries that ask for the answer;
answering writes the answer and its ``feedback.received`` envelope (the outbox) in one transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session

from gridgov_common.auth import Principal
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import FEEDBACK_RECEIVED
from gridgov_common.categories import CategoryBook, seed_book
from gridgov_common.db import Database
from gridgov_common.events.feedback import FEEDBACK_RECEIVED_TYPE, FeedbackReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_notification import subscriptions
from gridgov_notification.catalog import handlers as catalog
from gridgov_notification.channels import TransactionalChannel
from gridgov_notification.contacts.cache import book as contacts
from gridgov_notification.deliveries import planning
from gridgov_notification.deliveries import service as deliveries
from gridgov_notification.deliveries.handlers import outgoing
from gridgov_notification.deliveries.policy import QuietHours
from gridgov_notification.followups import rules, service
from gridgov_notification.followups.models import Followup
from gridgov_notification.followups.schemas import FollowupAnswer, FollowupRead
from gridgov_notification.templates import TemplateBook

log = logging.getLogger(__name__)

SERVICE = "notification"


class FollowupPlanner:
    """On ``ticket.closed``: one follow-up per reporter, and the notice asking for each answer."""

    def __init__(self, templates: TemplateBook, inbox: TransactionalChannel, quiet: QuietHours | None, *,
                 expiry_days: int, link_base: str = "", wake: threading.Event | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 token: Callable[[], str] = rules.new_token,
                 names: Callable[[Session], CategoryBook] = lambda _session: seed_book()):
        self.templates = templates
        self.inbox = inbox
        self.quiet = quiet
        self.expiry_days = expiry_days
        self.link_base = link_base
        self.wake = wake or threading.Event()  # the delivery worker's: set after each batch commits
        self.clock = clock
        self.token = token
        self.names = names  # the learned catalog version in effect (cached), read in the consumer's session

    def __call__(self, session: Session, envelope: Envelope) -> int:
        """Create the follow-ups of one closed ticket (``ticket.closed``) and stage their notices; returns how many
        were created."""
        with subscriptions.naming_from(self.names(session)):
            return self._create(session, envelope)

    def _create(self, session: Session, envelope: Envelope) -> int:
        event = TicketEvent.model_validate(envelope.payload)
        event_id, now = str(envelope.id), self.clock()
        drafts = rules.drafts_for(event, now, self.expiry_days, (), self.token)
        closed_note = (event.note or None) and event.note[:rules.NOTE_MAX]
        inserted = service.insert_new(session, [{
            "token": d.token, "id": d.id, "event_id": event_id, "ticket_id": event.ticket_id,
            "report_id": d.report_id, "reporter_id": d.reporter_id, "channel": d.channel,
            "category_code": event.category_code, "closed_note": closed_note, "closed_at": event.occurred_at,
            "created_at": now, "expires_at": d.expires_at} for d in drafts])
        drafts = [d for d in drafts if d.reporter_id in inserted]  # a reporter asked before is not asked again
        if not drafts:
            return 0
        # A request to rate never wakes anyone at night, whatever the ticket's priority.
        quiet_event = event.model_copy(update={"priority": "normal"})
        notices = [(d, rules.notice_for(d, event, rules.link(self.link_base, d.token))) for d in drafts]
        known = contacts.active_for(session, sorted({n.recipient for _, n in notices}))  # checked once per batch
        for draft, notice in notices:
            # Each follow-up is its own source event: the closed notice to the same reporter (same event id)
            # and a second hotline call-back to the command centre are separate messages.
            planned = planning.plan(draft.id, rules.FOLLOWUP_REQUESTED, quiet_event, [notice], known,
                                    self.templates, now, self.quiet)
            for delivery in planned:
                if delivery.channel == self.inbox.name:
                    self.inbox.send_in(session, outgoing(delivery))
            deliveries.insert_new(session, planned)
        if log.isEnabledFor(logging.INFO):  # the record and its joined list only when someone reads it
            log.info("ticket %s closed: %d follow-up(s) for %s", event.ticket_id, len(drafts),
                     ", ".join(n.recipient for _, n in notices))
        return len(drafts)


def _read(followup: Followup, now: datetime, names: CategoryBook) -> FollowupRead:
    category = names.get(followup.category_code)
    return FollowupRead(
        ticket_id=followup.ticket_id, category_code=followup.category_code,
        category_name=category.name_zh if category else None, closed_note=followup.closed_note,
        closed_at=followup.closed_at, expires_at=followup.expires_at,
        expired=rules.is_expired(followup.expires_at, now), callback=rules.is_hotline(followup.reporter_id),
        answered=followup.answered_at is not None, answered_at=followup.answered_at, solved=followup.solved,
        satisfaction=followup.satisfaction, comment=followup.comment)


def show(db: Database, token: str, now: datetime | None = None) -> FollowupRead:
    """What the holder of a follow-up link may see (404 for an unknown token)."""
    with db.session() as session:
        return _read(service.get_or_raise(session, token), now or datetime.now(UTC), catalog.names_in(db, session))


def answer(db: Database, token: str, body: FollowupAnswer, principal: Principal | None,
           now: datetime | None = None) -> FollowupRead:
    """Record the answer once and publish ``feedback.received`` in the same transaction.

    404 unknown token; 401/403 when a hotline call-back is not recorded by a command-centre operator, or an
    operator answers a reporter's own follow-up; 409 already answered; 410 expired. Nothing is written then.
    """
    now = now or datetime.now(UTC)
    with db.session() as session:
        followup = service.get_or_raise(session, token)
        by = rules.answered_by(followup.reporter_id, principal.role if principal else None,
                               principal.sub if principal else None)
        rules.check_answerable(followup.answered_at, followup.expires_at, now)
        comment = body.comment.strip() if body.comment and body.comment.strip() else None
        service.record_answer(session, followup, {"answered_at": now, "solved": body.solved,
                                                  "satisfaction": body.satisfaction, "comment": comment,
                                                  "answered_by": by})
        payload = FeedbackReceived(
            followup_id=followup.id, ticket_id=followup.ticket_id, report_id=followup.report_id,
            reporter_id=followup.reporter_id, channel=followup.channel, solved=body.solved,
            satisfaction=body.satisfaction, comment=comment, answered_at=now, answered_by=by,
            closed_at=followup.closed_at)
        db.add_outbox(session, FEEDBACK_RECEIVED, new_envelope(
            type=FEEDBACK_RECEIVED_TYPE, producer=SERVICE, key=followup.ticket_id, payload=payload,
            correlation_id=followup.report_id, causation_id=followup.event_id))
        names = catalog.names_in(db, session)
        session.commit()
    log.info("follow-up %s of ticket %s answered by %s: solved=%s, satisfaction %d", followup.id,
             followup.ticket_id, by, body.solved, body.satisfaction)
    return _read(followup, now, names)

