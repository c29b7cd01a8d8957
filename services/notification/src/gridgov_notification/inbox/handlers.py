"""Use cases of the inbox: file the notices of a ticket event, read the inbox, mark a message read."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlmodel import Session

from gridgov_common.auth import Principal
from gridgov_common.bus.envelope import Envelope
from gridgov_common.db import Database
from gridgov_common.events.tickets import TicketEvent
from gridgov_notification import subscriptions
from gridgov_notification.inbox import service
from gridgov_notification.inbox.models import InboxMessage

log = logging.getLogger(__name__)

INBOX_CONSUMER = "notification.inbox"


def deliver_ticket_event(session: Session, envelope: Envelope) -> int:
    """File one inbox message per recipient the rules name, in the consumer's transaction."""
    if not subscriptions.is_subscribed(envelope.type):
        return 0
    event = TicketEvent.model_validate(envelope.payload)
    notices = subscriptions.notices_for(envelope.type, event)
    if not notices:
        return 0
    now = datetime.now(UTC)
    for notice in notices:
        service.add(session, InboxMessage(
            id=str(uuid.uuid4()),
            recipient=notice.recipient,
            ticket_id=event.ticket_id,
            report_id=event.report_id,
            event_type=envelope.type,
            source_event_id=str(envelope.id),
            title=notice.title,
            body=notice.body,
            created_at=now,
        ))
    log.info("ticket %s %s: inbox messages for %s", event.ticket_id, envelope.type,
             ", ".join(n.recipient for n in notices))
    return len(notices)


def read_inbox(db: Database, principal: Principal, *, unread_only: bool, limit: int,
               offset: int) -> service.InboxSlice:
    """The caller's inbox: everything addressed to them, their department, grid or role."""
    with db.session() as session:
        return service.list_for(session, principal.inbox_addresses, unread_only=unread_only,
                                limit=limit, offset=offset)


def mark_read(db: Database, principal: Principal, message_id: str) -> InboxMessage:
    """Mark a message read (已读) for its recipient; marking it again keeps the first time."""
    with db.session() as session:
        message = service.get_for_or_raise(session, message_id, principal.inbox_addresses)
        if message.read_at is None:
            message.read_at = datetime.now(UTC)
            session.add(message)
            session.commit()
        return message
