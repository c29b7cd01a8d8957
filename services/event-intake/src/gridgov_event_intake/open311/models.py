"""Open311 client systems and their API keys (only a hash of each key is stored)."""

from datetime import datetime

from sqlmodel import Field

from gridgov_event_intake.tables import IntakeTable


class ApiClient(IntakeTable, table=True):
    """A client system allowed to POST Open311 requests; its key is shown once, stored as a SHA-256 hash."""

    __tablename__ = "api_client"

    name: str = Field(primary_key=True, max_length=100)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime
