"""Follow-ups (回访) as notification stores them."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from gridgov_notification.tables import NotificationTable


class Followup(NotificationTable, table=True):
    """One reporter's follow-up of one closed ticket; the unguessable ``token`` is the reporter's credential.

    ``(event_id, reporter_id)`` is unique, so a redelivered ``ticket.closed`` never asks a reporter twice.
    ``id`` names the follow-up on the bus (the token never leaves this service).
    """

    __tablename__ = "followup"
    __table_args__ = (
        UniqueConstraint("event_id", "reporter_id", name="uq_followup_event_reporter"),
        UniqueConstraint("id", name="uq_followup_id"),
    )

    token: str = Field(primary_key=True, max_length=64)
    id: str = Field(max_length=36)
    event_id: str = Field(max_length=36)  # the ticket.closed envelope that asked for it
    ticket_id: str = Field(max_length=36, index=True)
    report_id: str = Field(max_length=36)  # this reporter's own report (the ticket's, or one merged into it)
    reporter_id: str = Field(max_length=100)
    channel: str | None = Field(default=None, max_length=20)
    category_code: str = Field(max_length=10)
    closed_note: str | None = Field(default=None, max_length=2000)
    closed_at: datetime
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None = None
    solved: bool | None = None
    satisfaction: int | None = None
    comment: str | None = Field(default=None, max_length=500)
    answered_by: str | None = Field(default=None, max_length=120)
