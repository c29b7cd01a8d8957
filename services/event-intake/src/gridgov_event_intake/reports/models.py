"""Reports as event-intake stores them."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint, false
from sqlmodel import Field

from gridgov_event_intake.tables import IntakeTable


class Report(IntakeTable, table=True):
    """A report accepted from any channel, normalised; its status follows the ticket it became.

    Reporter names and phones are personal data: they stay in intake's database, never on the bus.
    """

    __tablename__ = "report"
    # A retried submission finds its original here; the UNIQUE key is the guard under concurrent retries.
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_report_idempotency_key"),)

    id: str = Field(primary_key=True, max_length=36)
    channel: str = Field(max_length=20)
    category_code: str = Field(max_length=10, index=True)
    description: str = Field(max_length=2000)
    lon: float | None = None
    lat: float | None = None
    source_crs: str = Field(default="wgs84", max_length=10)
    reporter_id: str = Field(max_length=100, index=True)
    reporter_role: str = Field(max_length=20)
    reporter_name: str | None = Field(default=None, max_length=100)
    reporter_phone: str | None = Field(default=None, max_length=20, index=True)
    device_id: str | None = Field(default=None, max_length=100, index=True)
    address: str | None = Field(default=None, max_length=500)
    external_id: str | None = Field(default=None, max_length=50)  # the hotline's order number (工单号)
    idempotency_key: str | None = Field(default=None, max_length=250)
    urgency: str | None = Field(default=None, max_length=20)
    feedback_tier: str | None = Field(default=None, max_length=20)
    handled_on_spot: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    handled_note: str | None = Field(default=None, max_length=2000)
    answer: str | None = Field(default=None, max_length=2000)
    status: str = Field(default="received", max_length=20)
    ticket_id: str | None = Field(default=None, max_length=36)
    # The ticket's current department and grid, from its events: who besides the reporter may read the report.
    department: str | None = Field(default=None, max_length=50, index=True)
    grid_code: str | None = Field(default=None, max_length=30, index=True)
    # Where the submission came from, for the per-address limit (never shown; an IP address is personal data).
    source_address: str | None = Field(default=None, max_length=45, index=True)
    deadline: datetime | None = None
    submitted_at: datetime = Field(index=True)
    updated_at: datetime
    # A repeat call (重复来电, status "repeat"): the open report it was recorded on; never a case of its own.
    repeat_of: str | None = Field(default=None, max_length=36, index=True)
    # 直接答复 from the knowledge base: the article the answer came from.
    knowledge_article_id: str | None = Field(default=None, max_length=36)
    # The classifier's suggestion at submission (hotline), beside the operator's choice ``category_code``:
    # [{"code", "confidence"}] best first, the model version, whether it abstained and why, and whether the
    # operator chose its top-1 (None: it suggested nothing). How often operators agree is the model's field test.
    suggested: list[dict] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    suggestion_model_version: str | None = Field(default=None, max_length=40)
    suggestion_abstained: bool | None = None
    suggestion_reason: str | None = Field(default=None, max_length=20)
    suggestion_agreed: bool | None = None


class ReportUpdate(IntakeTable, table=True):
    """One change of a report's status, from its ticket's events (Open311's servicerequestupdates)."""

    __tablename__ = "report_update"

    id: str = Field(primary_key=True, max_length=36)  # the ticket event's envelope id: redelivery-safe
    report_id: str = Field(max_length=36, index=True)
    status: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    at: datetime = Field(index=True)


class RateHit(IntakeTable, table=True):
    """One counted request of a rate limit kept in the database (Open311 POST per api_key or address).

    In the database, not in process memory, so every instance of intake counts the same requests.
    """

    __tablename__ = "rate_hit"
    __table_args__ = (Index("ix_rate_hit_subject_at", "subject", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=200)  # e.g. "open311:client:<name>" or "open311:addr:<address>"
    at: datetime = Field(index=True)
