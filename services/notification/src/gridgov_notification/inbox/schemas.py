"""API shapes of the inbox."""

from datetime import UTC, datetime

from pydantic import BaseModel, field_validator

LIMIT_DEFAULT = 50
LIMIT_MAX = 200


class InboxMessageRead(BaseModel):
    """One inbox message as its recipient sees it."""

    id: str
    recipient: str
    ticket_id: str
    report_id: str
    event_type: str
    source_event_id: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    unread: bool

    @field_validator("created_at", "read_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # SQLite hands back naive datetimes; every time stored here is UTC.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class InboxPage(BaseModel):
    """A page of the caller's inbox, newest first, with the counts a badge needs."""

    items: list[InboxMessageRead]
    total: int
    unread: int
    limit: int
    offset: int
