"""API shapes of the inbox."""

from datetime import datetime

from pydantic import BaseModel

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


class InboxPage(BaseModel):
    """A page of the caller's inbox, newest first, with the counts a badge needs."""

    items: list[InboxMessageRead]
    total: int
    unread: int
    limit: int
    offset: int
