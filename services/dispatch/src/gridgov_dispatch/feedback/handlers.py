"""Use cases of ratings: record a reporter's answer to a follow-up (回访) and reopen the case on a bad one."""

from __future__ import annotations

import logging

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.events.feedback import FeedbackReceived
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.feedback import rules, service
from gridgov_dispatch.feedback.models import TicketRating
from gridgov_dispatch.tickets import handlers as tickets
from gridgov_dispatch.tickets import service as ticket_service
from gridgov_dispatch.tickets.access import SYSTEM
from gridgov_dispatch.tickets.lifecycle import Action

log = logging.getLogger(__name__)

def record_rating(ctx: DispatchContext, session: Session, envelope: Envelope) -> None:
    """Record a rating and, when it is bad, reopen the closed ticket as rework (重新打开, 返工) by the system.

    Runs in the consumer's transaction (which also records the envelope id); ``ctx`` is a snapshot taken before
    it. The follow-up id is the rating's key: the same answer under a new envelope id changes nothing.
    """
    feedback = FeedbackReceived.model_validate(envelope.payload)
    if service.get(session, feedback.followup_id) is not None:
        log.info("follow-up %s already rated; message %s changes nothing", feedback.followup_id, envelope.id)
        return
    ticket = ticket_service.get(session, feedback.ticket_id)
    if ticket is None:
        log.warning("rating of follow-up %s names unknown ticket %s; ignored", feedback.followup_id,
                    feedback.ticket_id)
        return
    service.add(session, TicketRating(
        followup_id=feedback.followup_id, ticket_id=ticket.id, reporter_id=feedback.reporter_id,
        solved=feedback.solved, satisfaction=feedback.satisfaction, answered_at=feedback.answered_at))
    log.info("ticket %s rated by follow-up %s: solved=%s, satisfaction %d", ticket.id, feedback.followup_id,
             feedback.solved, feedback.satisfaction)
    if not rules.is_bad(feedback.solved, feedback.satisfaction, ctx.settings.reopen_satisfaction_max):
        return
    reason = rules.why_not_reopen(ticket.state, ticket.department, ticket.closed_at, feedback.closed_at)
    if reason is not None:
        log.info("bad rating of ticket %s (follow-up %s) leaves it alone: %s", ticket.id, feedback.followup_id,
                 reason)
        return
    note = rules.reopen_note(feedback)
    # In this transaction, with the rating and the handled-message record: a crash between them would lose the
    # reopen (act() would open a second transaction, and on SQLite wait for this one's connection).
    tickets.act_in(ctx, session, ticket, Action.REOPEN, SYSTEM, note, causation_id=str(envelope.id))
    log.info("ticket %s reopened for rework by a bad rating (follow-up %s)", ticket.id, feedback.followup_id)
