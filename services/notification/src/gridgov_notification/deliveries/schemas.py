"""API shapes of deliveries."""

from datetime import datetime

from pydantic import BaseModel

LIMIT_DEFAULT = 50
LIMIT_MAX = 500


class DeliveryRead(BaseModel):
    """One delivery and its fate: status, attempts, the last error."""

    id: str
    event_id: str
    event_type: str
    ticket_id: str
    address: str
    channel: str
    target: str
    template: str
    subject: str
    urgent: bool
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    """A page of deliveries, newest first."""

    items: list[DeliveryRead]
    total: int
    limit: int
    offset: int
