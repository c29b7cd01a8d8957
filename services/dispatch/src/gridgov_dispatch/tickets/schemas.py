"""API shapes of tickets."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

NOTE_MAX = 2000


class TicketRead(BaseModel):
    """A ticket and where it stands."""

    id: str
    report_id: str
    category_code: str
    description: str
    lon: float | None
    lat: float | None
    reporter_id: str
    department: str | None
    grid_code: str | None
    village_code: str | None
    town_code: str | None
    location_status: str
    state: str
    deadline: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class TransitionRead(BaseModel):
    """One step of a ticket's audit trail."""

    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor_id: str
    actor_role: str
    note: str | None
    at: datetime


class MergedReportRead(BaseModel):
    """A report merged into the ticket (并案) and why: how far, how many minutes after it opened."""

    report_id: str
    channel: str
    reporter_id: str
    distance_m: float
    minutes: float
    merged_at: datetime
    split_at: datetime | None
    split_ticket_id: str | None


class TicketDetail(TicketRead):
    """A ticket with its audit trail, its merged reports and the actions the caller may take now."""

    transitions: list[TransitionRead]
    allowed_actions: list[str]
    merged_reports: list[MergedReportRead] = []


class SplitBody(BaseModel):
    """Which merged report to take out into a ticket of its own."""

    model_config = ConfigDict(extra="forbid")

    report_id: str = Field(min_length=1, max_length=36)


class TicketPage(BaseModel):
    """One page of tickets."""

    items: list[TicketRead]
    total: int
    limit: int
    offset: int


class HandleBody(BaseModel):
    """The department's handling report (处理反馈)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=NOTE_MAX, description="what was done")


class VerifyBody(BaseModel):
    """The grid worker's on-site check (核查): passed closes the way, failed sends it back (返工)."""

    model_config = ConfigDict(extra="forbid")

    passed: bool
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class CloseBody(BaseModel):
    """Closing remarks (结案), optional."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=NOTE_MAX)
