"""API shapes of the SLA board."""

from datetime import datetime

from pydantic import BaseModel


class SlaBoardItem(BaseModel):
    """One open ticket on the board."""

    id: str
    state: str
    category_code: str
    department: str | None
    town_code: str | None
    grid_code: str | None
    deadline: datetime | None
    overdue: bool


class SlaBoard(BaseModel):
    """The command centre's view: tickets per state, and the open ones, most urgent first."""

    generated_at: datetime
    counts: dict[str, int]
    open_total: int
    overdue_total: int
    open_tickets: list[SlaBoardItem]
