"""Payloads on ``gridgov.tickets.events``: one message per ticket transition."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from gridgov_common.events.reports import Code, Id, Subject
from gridgov_common.schemas import SafeText

# A person's note is at most 2,000 characters (dispatch's NOTE_MAX); a system note (a routing reason) may run
# longer, so the bus allows twice that and refuses only what no producer here writes.
NOTE_MAX = 4000
GEOFENCE_REASONS_MAX = 40  # one per photo (at most 9) times a few checks, plus the fix's own


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
    # Issue #16: a device's repeat or "resolved" on the case's alarm group, recorded on the ticket; the state stays.
    "sensor_evidence": "sensor_evidence_recorded",
}


class GeofenceReason(BaseModel):
    """Why a geofence verdict is what it is: a code and a Chinese message."""

    code: Code
    message: Annotated[SafeText, Field(max_length=500)]


class GeofenceCheck(BaseModel):
    """The geofence verdict of on-site evidence (issue #14): inside | boundary | outside | unverifiable."""

    verdict: Code
    reasons: list[GeofenceReason] = Field(default=[], max_length=GEOFENCE_REASONS_MAX)
    checked_at: datetime


class TicketEvent(BaseModel):
    """A ticket transition: who did what, from which state to which, and the ticket's routing facts."""

    ticket_id: Id
    report_id: Id
    action: Code
    from_state: Code | None
    to_state: Code
    category_code: Code
    department: Code | None
    grid_code: Code | None
    village_code: Code | None
    town_code: Code | None
    reporter_id: Subject
    deadline: datetime | None
    actor_id: Subject
    actor_role: Code
    note: Annotated[SafeText, Field(max_length=NOTE_MAX)] | None = None
    occurred_at: datetime
    # Additive (issue #5): reports merged into this ticket (并案); their reporters follow it too.
    merged_report_ids: list[Id] = []
    merged_reporter_ids: list[Subject] = []  # their reporters, in the same order: each hears the outcome
    # Additive (issue #6): the routing and SLA facts of the ticket after this event.
    priority: Code | None = None
    channel: Code | None = None
    stage: Code | None = None  # claim | handle | verify: the clock that runs now
    deadline_provisional: bool = False
    sla_level: Code | None = None  # green | yellow | red
    escalation_level: int = 0  # 0 none, 1 village, 2 town, 3 city
    supervised: bool = False
    # Additive (issue #14): the geofence verdict of this transition's on-site evidence (核查, 处置反馈, 自行处置);
    # None when the transition carried none to check.
    geofence: GeofenceCheck | None = None
