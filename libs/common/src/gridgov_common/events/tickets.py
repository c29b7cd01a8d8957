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
    # Issue #6: the full lifecycle and the SLA clock's steps.
    "return": "returned",  # 退单
    "rule_return": "return_ruled",  # 退单裁定: re-dispatched
    "request_extension": "extension_requested",  # 延期申请
    "approve_extension": "extension_approved",
    "refuse_extension": "extension_refused",
    "suspend": "suspended",  # 挂起
    "resume": "resumed",
    "supervise": "supervised",  # 督办
    "reopen": "reopened",  # 回访不满意: back to the department
    "warn": "warned",  # SLA 预警 (yellow)
    "escalate": "escalated",  # SLA 超期升级 (red), village → town → city
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
    merged_reporter_ids: list[str] = []  # their reporters, in the same order: each hears the outcome
    # Additive (issue #6): the routing and SLA facts of the ticket after this event.
    priority: str | None = None
    channel: str | None = None
    stage: str | None = None  # claim | handle | verify: the clock that runs now
    deadline_provisional: bool = False
    sla_level: str | None = None  # green | yellow | red
    escalation_level: int = 0  # 0 none, 1 village, 2 town, 3 city
    supervised: bool = False
