"""Queries on inbox messages, always scoped to the addresses a caller reads."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from gridgov_common.db import stage_insert
from gridgov_common.errors import NotFound
from gridgov_notification.inbox.models import InboxMessage

# The unique key that makes filing idempotent: one message per event and recipient.
_ONCE_PER_EVENT = ("source_event_id", "recipient")


@dataclass(frozen=True)
class InboxSlice:
    """One page of messages and the counts around it."""

    items: list[InboxMessage]
    total: int
    unread: int


def list_for(session: Session, addresses: list[str], *, unread_only: bool, limit: int,
             offset: int) -> InboxSlice:
    """Messages addressed to any of ``addresses``, newest first; ``total`` counts the filtered set."""
    mine = col(InboxMessage.recipient).in_(addresses)
    is_unread = col(InboxMessage.read_at).is_(None)
    where = [mine, is_unread] if unread_only else [mine]
    items = session.exec(
        select(InboxMessage).where(*where)
        .order_by(col(InboxMessage.created_at).desc(), col(InboxMessage.id).desc())
        .limit(limit).offset(offset)
    ).all()
    total = session.exec(select(func.count()).select_from(InboxMessage).where(*where)).one()
    unread = session.exec(select(func.count()).select_from(InboxMessage).where(mine, is_unread)).one()
    return InboxSlice(list(items), total, unread)


def get_for_or_raise(session: Session, message_id: str, addresses: list[str]) -> InboxMessage:
    """The message if it is addressed to one of ``addresses``; else NotFound (others' mail stays unseen)."""
    message = session.get(InboxMessage, message_id)
    if message is None or message.recipient not in addresses:
        raise NotFound("inbox_message", message_id)
    return message


def add(session: Session, message: InboxMessage) -> None:
    """Stage a new message in the session."""
    session.add(message)


def add_new(session: Session, message: InboxMessage) -> None:
    """Insert a message unless its event already filed one for the recipient (a redelivery files nothing)."""
    add_new_rows(session, [message.model_dump()])


def add_new_rows(session: Session, rows: list[dict]) -> None:
    """Stage message rows (every column but ``read_at``) to be inserted at commit in one statement, each unless
    its event already filed one for the recipient (a redelivery files nothing)."""
    stage_insert(session, InboxMessage.__table__, rows, _ONCE_PER_EVENT)
