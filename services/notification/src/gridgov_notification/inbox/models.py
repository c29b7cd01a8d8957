"""Inbox messages as notification stores them (站内信)."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from gridgov_notification.tables import NotificationTable


class InboxMessage(NotificationTable, table=True):
    """One message in one recipient address's inbox, filed because of one ticket event.

    ``(source_event_id, recipient)`` is unique, so a redelivered event can never file a message twice.
    Read state belongs to the message: on a shared address (a department, a grid) one reader marks it for all.
    """

    __tablename__ = "inbox_message"
    __table_args__ = (
        UniqueConstraint("source_event_id", "recipient", name="uq_inbox_message_event_recipient"),
        Index("ix_inbox_message_recipient_created", "recipient", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    recipient: str = Field(max_length=150)
    ticket_id: str = Field(max_length=36, index=True)
    report_id: str = Field(max_length=36)
    event_type: str = Field(max_length=50)
    source_event_id: str = Field(max_length=36)
    title: str = Field(max_length=200)
    body: str = Field(max_length=2000)
    created_at: datetime
    read_at: datetime | None = None
