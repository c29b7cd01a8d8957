"""Reports as event-intake stores them."""

from datetime import datetime

from sqlmodel import Field

from gridgov_event_intake.tables import IntakeTable


class Report(IntakeTable, table=True):
    """A report accepted from any channel, normalised; its status follows the ticket it became."""

    __tablename__ = "report"

    id: str = Field(primary_key=True, max_length=36)
    channel: str = Field(max_length=20)
    category_code: str = Field(max_length=10, index=True)
    description: str = Field(max_length=2000)
    lon: float | None = None
    lat: float | None = None
    source_crs: str = Field(default="wgs84", max_length=10)
    reporter_id: str = Field(max_length=100, index=True)
    reporter_role: str = Field(max_length=20)
    status: str = Field(default="received", max_length=20)
    ticket_id: str | None = Field(default=None, max_length=36)
    department: str | None = Field(default=None, max_length=50)
    deadline: datetime | None = None
    submitted_at: datetime
    updated_at: datetime
