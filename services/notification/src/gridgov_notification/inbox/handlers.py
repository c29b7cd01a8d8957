"""Use cases of the inbox: read the inbox, mark a message read (the inbox channel files the messages)."""

from __future__ import annotations

from datetime import UTC, datetime

from gridgov_common.auth import Principal
from gridgov_common.db import Database
from gridgov_notification.inbox import service
from gridgov_notification.inbox.models import InboxMessage


def read_inbox(db: Database, principal: Principal, *, unread_only: bool, limit: int,
               offset: int) -> service.InboxSlice:
    """The caller's inbox: everything addressed to them, their department, grid or role."""
    with db.snapshot() as session:  # the page, its total and the unread count from one committed state
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
