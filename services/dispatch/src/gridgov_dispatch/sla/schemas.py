"""API shapes of the command centre's SLA views (指挥中心): board, breaches, returned queue, map counts."""

from datetime import datetime

from pydantic import BaseModel, Field


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
    paused: bool = Field(description="The clock stands (return or extension pending, or suspended): the deadline "
                                     "moves when it restarts.")
    sla_level: str = Field(description="green | yellow (预警) | red (超期)")
    escalation_level: int
    supervised: bool = Field(description="督办")


class SlaBoard(BaseModel):
    """The command centre's view: tickets per state, open ones per department and town, and the most urgent."""

    generated_at: datetime
    counts: dict[str, int] = Field(description="Tickets per state, every state listed (zero included).")
    open_total: int
    overdue_total: int = Field(description="Open tickets past their current stage deadline.")
    open_by_department: dict[str, int] = Field(description="Open tickets per current department; "
                                                           "`none` for those awaiting triage.")
    open_by_town: dict[str, int] = Field(description="Open tickets per town code; `none` for those without one.")
    warning_total: int = Field(description="Open tickets at sla_level yellow (预警).")
    breach_total: int = Field(description="Open tickets at sla_level red (超期).")
    open_tickets: list[SlaBoardItem] = Field(description="Open tickets, earliest deadline first; those with no "
                                                         "deadline (awaiting triage) last.")


class BreachItem(BaseModel):
    """One open ticket past its deadline (sla_level red)."""

    id: str
    state: str
    category_code: str
    department: str | None
    town_code: str | None
    grid_code: str | None
    deadline: datetime | None
    overdue_hours: float = Field(description="Clock hours past the deadline, up to now (or up to the pause, while "
                                             "the clock stands).")
    escalation_level: int
    escalation_level_name: str = Field(description="none | village | town | city")
    paused: bool
    supervised: bool


class BreachPage(BaseModel):
    """A page of breaches, longest overdue first."""

    items: list[BreachItem]
    total: int
    limit: int
    offset: int


class ReturnedItem(BaseModel):
    """A returned ticket (退单) awaiting the command centre's ruling."""

    id: str
    category_code: str
    department: str | None = Field(description="The department that returned it.")
    town_code: str | None
    grid_code: str | None
    return_count: int
    reason: str | None = Field(description="The note of the latest `return` transition.")
    returned_by: str | None = Field(description="actor_id of the latest `return` transition.")
    returned_by_role: str | None
    returned_by_name: str | None = Field(default=None, description="actor_name of the latest `return` transition "
                                         "(the display name their token carried).")
    returned_at: datetime | None


class ReturnedPage(BaseModel):
    """A page of the returned queue, oldest return first."""

    items: list[ReturnedItem]
    total: int
    limit: int
    offset: int


class AreaCount(BaseModel):
    """Open tickets of one area, and how many of them are at warning (yellow) and breach (red)."""

    open: int
    yellow: int
    red: int
