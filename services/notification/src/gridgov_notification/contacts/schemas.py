"""API shapes of contact points."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ADDRESS_PATTERN = r"^(department|grid|user|role):[^\s:]{1,140}$"


class ContactPointCreate(BaseModel):
    """A new way of reaching an address. ``secret`` (≥ 16 characters) is required for webhooks."""

    address: str = Field(pattern=ADDRESS_PATTERN, max_length=150,
                         examples=["department:water", "grid:441900001001001", "user:u1", "role:command_centre"])
    channel: Literal["webhook", "email", "sms"]
    target: str = Field(min_length=3, max_length=500, description="URL (webhook), e-mail address or phone number")
    secret: str | None = Field(default=None, min_length=16, max_length=200,
                               description="HMAC key of a webhook's X-Gridgov-Signature; never returned")
    active: bool = True


class ContactPointRead(BaseModel):
    """A contact point as an admin sees it (without its secret)."""

    id: str
    address: str
    channel: str
    target: str
    has_secret: bool
    active: bool
    created_at: datetime
    created_by: str


class ContactPointPage(BaseModel):
    """Contact points matching a filter."""

    items: list[ContactPointRead]
    total: int
