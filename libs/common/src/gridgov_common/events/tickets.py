"""Payloads on ``gridgov.tickets.events``: one message per ticket transition."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


def ticket_event_type(action: str) -> str:
    """The envelope type of a transition, e.g. ``ticket.claimed`` for the action ``claim``."""
    return f"ticket.{TICKET_EVENT_NAMES[action]}"


# action -> past-tense event name (commands are imperative, events past tense)
TICKET_EVENT_NAMES = {
    "register": "registered",
    "dispatch": "dispatched",
    "claim": "claimed",
    "handle": "handled",
    "verify": "verified",
    "rework": "reworked",
    "close": "closed",
    "merge": "merged",  # 并案: a report attached to an open ticket instead of opening another (issue #5)
    "split": "split",  # a merged report taken out again into a ticket of its own
}


class TicketEvent(BaseModel):
    """A ticket transition: who did what, from which state to which, and the ticket's routing facts."""

    ticket_id: str
    report_id: str
    action: str
    from_state: str | None
    to_state: str
    category_code: str
    department: str | None
    grid_code: str | None
    village_code: str | None
    town_code: str | None
    reporter_id: str
    deadline: datetime | None
    actor_id: str
    actor_role: str
    note: str | None = None
    occurred_at: datetime
    # Additive (issue #5): reports merged into this ticket (并案); their reporters follow it too.
    merged_report_ids: list[str] = []
