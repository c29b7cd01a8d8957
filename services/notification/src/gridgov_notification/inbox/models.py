"""Inbox messages as notification stores them (站内信)."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, text
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
        # An inbox page is ``recipient IN (the user's addresses) ORDER BY created_at DESC, id DESC LIMIT n``: with
        # the whole order in the index SQLite reads each address's newest n entries and stops; with (recipient,
        # created_at) it sorted every message of every address (the command centre's role address gets one per
        # ticket: 83 ms a page with 207,000 of them, 0.07 ms now).
        Index("ix_inbox_message_recipient_created_id", "recipient", "created_at", "id"),
        # the unread ones alone, for the badge's count and the unread page (52 -> 1.7 ms with 37,000 unread)
        Index("ix_inbox_message_unread", "recipient", "created_at", "id",
              sqlite_where=text("read_at IS NULL"), postgresql_where=text("read_at IS NULL")),
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
