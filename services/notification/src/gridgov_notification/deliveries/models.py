"""Deliveries as notification stores them: one message to one target on one channel, and its fate."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from gridgov_notification.tables import NotificationTable

PENDING = "pending"  # waiting for its first attempt (maybe for quiet hours to end)
FAILED = "failed"  # an attempt failed; the next is due at next_attempt_at
SENT = "sent"
DEAD = "dead"  # given up: a permanent error or the last attempt failed; last_error says why
STATUSES = (PENDING, FAILED, SENT, DEAD)
DUE = (PENDING, FAILED)
FINISHED = tuple(s for s in STATUSES if s not in DUE)  # "not finished" is "due": a condition no index serves


class Delivery(NotificationTable, table=True):
    """One notice to one target on one channel, created in the consumer's transaction.

    ``(event_id, address, channel, target)`` is unique, so a redelivered event never sends twice. The worker
    claims a due row by setting a lease (``lease_owner``, ``lease_until``) in a guarded UPDATE, so two
    instances never send one row at the same time.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "address", "channel", "target", name="uq_delivery_event_address_channel_target"),
        Index("ix_delivery_status_next_attempt", "status", "next_attempt_at"),
        # The deliveries list, newest first: without it every page sorted the whole table (771 ms a page with
        # 600,000 rows, three months of a city's notices; 0.1 ms with it).
        Index("ix_delivery_created_at_id", "created_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    event_id: str = Field(max_length=36, index=True)
    event_type: str = Field(max_length=50)
    ticket_id: str = Field(max_length=36)
    report_id: str = Field(max_length=36)
    address: str = Field(max_length=150)
    channel: str = Field(max_length=20)
    target: str = Field(max_length=500)
    contact_id: str | None = Field(default=None, max_length=36)  # where the webhook secret is kept
    template: str = Field(max_length=100)
    subject: str = Field(max_length=300)
    body: str = Field(max_length=4000)
    urgent: bool = False
    status: str = Field(max_length=10)
    attempts: int = 0
    next_attempt_at: datetime
    lease_owner: str | None = Field(default=None, max_length=36)
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime
    sent_at: datetime | None = None
