"""Contact points as notification stores them: who is reached how (联系方式)."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from gridgov_notification.tables import NotificationTable


class ContactPoint(NotificationTable, table=True):
    """One way of reaching one address: a webhook URL, an e-mail address or a phone number.

    Every notice for ``address`` goes to the inbox and to each active contact point of that address.
    """

    __tablename__ = "contact_point"
    __table_args__ = (
        UniqueConstraint("address", "channel", "target", name="uq_contact_point_address_channel_target"),
    )

    id: str = Field(primary_key=True, max_length=36)
    address: str = Field(max_length=150, index=True)
    channel: str = Field(max_length=20)
    target: str = Field(max_length=500)
    secret: str | None = Field(default=None, max_length=200)  # the webhook's HMAC key; never shown again
    active: bool = True
    created_at: datetime
    created_by: str = Field(max_length=100)


class ReferenceVersion(NotificationTable, table=True):
    """A counter bumped in the same transaction as every change to a kind of reference data (``contact_point``).

    Consumers keep that data in memory and read this one row once per batch: a changed counter means reload, so
    a change another process committed is seen by the next batch, with no query per message.
    """

    __tablename__ = "reference_version"

    name: str = Field(primary_key=True, max_length=50)
    version: int = 0
