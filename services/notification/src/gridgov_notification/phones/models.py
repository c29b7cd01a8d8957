"""Phone-code requests as notification stores them: never the phone or the code in clear."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from gridgov_notification.tables import NotificationTable


class PhoneCode(NotificationTable, table=True):
    """One code sent to one phone: its keyed hash, when it expires, how many wrong tries it took.

    ``phone_key`` is a keyed hash of the normalised phone (HMAC with the service's secret): enough to count
    requests per phone and to check that a confirmation names the phone the code went to, without keeping the
    number. ``code_hash`` is the keyed hash of the code bound to this request's id, so a database dump alone
    cannot be brute-forced back to live codes (a six-digit code has only a million values).
    """

    __tablename__ = "phone_code"
    __table_args__ = (Index("ix_phone_code_phone_key_created_at", "phone_key", "created_at"),
                      Index("ix_phone_code_client_id_created_at", "client_id", "created_at"))

    id: str = Field(primary_key=True, max_length=36)
    phone_key: str = Field(max_length=64)
    client_id: str = Field(max_length=100)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(index=True)
    expires_at: datetime
    attempts: int = 0  # wrong codes tried; at the settings' maximum the request is locked
    confirmed_at: datetime | None = None
