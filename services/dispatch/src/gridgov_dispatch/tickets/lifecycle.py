"""The ticket state machine (案卷生命周期), pure and table-driven.

registered 立案 → dispatched 派遣 → claimed 签收 → handled 处置反馈 → verified 核查 → closed 结案, and around it:
return 退单 (the department says it is not theirs; the command centre rules and re-dispatches), extension 延期
(asked by the department, approved or refused by the command centre), suspension 挂起 (the clock stops for a
legitimate reason), supervision 督办 (the command centre presses the department; the state stays), rework 返工
(verification failed, or the reporter's rating reopens a closed case), and the SLA clock's own warning 预警 and
escalation 升级 steps. Each row of ``TRANSITIONS`` names the state it leaves, the action, the state it reaches,
and who may take it in which scope; ``apply`` only reads the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.errors import Forbidden, IllegalTransition
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_dispatch.tickets.access import SYSTEM, Actor, Scope, TicketFacts, check_scope


class State(StrEnum):
    """Where a ticket stands."""

    REGISTERED = "registered"  # 立案 (awaiting dispatch or manual triage)
    DISPATCHED = "dispatched"  # 派遣
    CLAIMED = "claimed"  # 签收
    HANDLED = "handled"  # 处置反馈
    VERIFIED = "verified"  # 核查
    CLOSED = "closed"  # 结案
    RETURNED = "returned"  # 退单, awaiting the command centre's ruling
    EXTENSION_REQUESTED = "extension_requested"  # 延期申请, awaiting approval
    SUSPENDED = "suspended"  # 挂起


class Action(StrEnum):
    """What can be done to a ticket (imperative; its event is the past tense)."""

    REGISTER = "register"  # 立案
    DISPATCH = "dispatch"  # 派遣 (automatic, or the command centre's manual triage)
    CLAIM = "claim"  # 签收
    HANDLE = "handle"  # 处置反馈
    VERIFY = "verify"  # 核查通过
    REWORK = "rework"  # 核查不通过, 返工
    CLOSE = "close"  # 结案
    RETURN = "return"  # 退单, with a reason
    RULE_RETURN = "rule_return"  # 退单裁定: re-dispatch, to the same department or another
    REQUEST_EXTENSION = "request_extension"  # 延期申请
    APPROVE_EXTENSION = "approve_extension"  # 延期批准: the deadline moves
    REFUSE_EXTENSION = "refuse_extension"  # 延期驳回
    SUSPEND = "suspend"  # 挂起
    RESUME = "resume"  # 恢复
    SUPERVISE = "supervise"  # 督办
    REOPEN = "reopen"  # 重新打开: the reporter found it unsolved (回访不满意), back to the department
    WARN = "warn"  # SLA 预警 (yellow), by the clock
    ESCALATE = "escalate"  # SLA 超期升级 (red; village → town → city), by the clock
    SENSOR_EVIDENCE = "sensor_evidence"  # a device's repeat or "resolved" on the case's alarm group (issue #16)


NEW = "new"  # how a ticket that does not exist yet is named in errors

# States in which a stage clock runs, and the stage it times.
STAGE_OF: Mapping[str, str] = MappingProxyType({"dispatched": "claim", "claimed": "handle", "handled": "verify"})
# States in which the clock stands still (return awaiting ruling, extension awaiting approval, suspension).
PAUSED_STATES = frozenset({"returned", "extension_requested", "suspended"})


@dataclass(frozen=True)
class Transition:
    """One row of the table: from ``source`` (None: a new ticket), ``action`` leads to ``target``."""

    source: State | None
    action: Action
    target: State
    who: Mapping[str, Scope] = field(default_factory=dict)


def _who(**roles: Scope) -> Mapping[str, Scope]:
    return MappingProxyType(dict(roles))


_DEPT = _who(dept_dispatcher=Scope.OWN_DEPARTMENT)
_CC = _who(command_centre=Scope.ANY)
_CLOCKED = (State.DISPATCHED, State.CLAIMED, State.HANDLED)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(None, Action.REGISTER, State.REGISTERED, _who(system=Scope.ANY)),
    Transition(State.REGISTERED, Action.DISPATCH, State.DISPATCHED,
               _who(system=Scope.ANY, command_centre=Scope.ANY)),
    # 自行处置: a grid worker fixed it while reporting; it goes straight to on-site verification.
    Transition(State.REGISTERED, Action.HANDLE, State.HANDLED, _who(system=Scope.ANY)),
    Transition(State.DISPATCHED, Action.CLAIM, State.CLAIMED, _DEPT),
    Transition(State.DISPATCHED, Action.RETURN, State.RETURNED, _DEPT),
    Transition(State.CLAIMED, Action.RETURN, State.RETURNED, _DEPT),
    Transition(State.RETURNED, Action.RULE_RETURN, State.DISPATCHED, _CC),
    Transition(State.CLAIMED, Action.HANDLE, State.HANDLED, _DEPT),
    Transition(State.CLAIMED, Action.REQUEST_EXTENSION, State.EXTENSION_REQUESTED, _DEPT),
    Transition(State.EXTENSION_REQUESTED, Action.APPROVE_EXTENSION, State.CLAIMED, _CC),
    Transition(State.EXTENSION_REQUESTED, Action.REFUSE_EXTENSION, State.CLAIMED, _CC),
    # Suspension applies to work under way (claimed); resuming returns to it with the time that was left.
    Transition(State.CLAIMED, Action.SUSPEND, State.SUSPENDED, _CC),
    Transition(State.SUSPENDED, Action.RESUME, State.CLAIMED, _CC),
    # The system verifies only for a device whose "resolved" the catalog lets count as verification (AI 复核,
    # issue #16: ``sensor_actions``); everyone else's verification is the grid worker's, on site.
    Transition(State.HANDLED, Action.VERIFY, State.VERIFIED, _who(grid_worker=Scope.OWN_GRID, system=Scope.ANY)),
    Transition(State.HANDLED, Action.REWORK, State.CLAIMED, _who(grid_worker=Scope.OWN_GRID)),
    Transition(State.VERIFIED, Action.CLOSE, State.CLOSED,
               _who(command_centre=Scope.ANY, grid_worker=Scope.OWN_GRID)),
    # A bad follow-up rating (回访) reopens the case as rework for its department.
    Transition(State.CLOSED, Action.REOPEN, State.CLAIMED, _who(system=Scope.ANY, command_centre=Scope.ANY)),
    # 督办 and the clock's steps keep the state; they are audited and published like any transition.
    *(Transition(s, Action.SUPERVISE, s, _CC)
      for s in (State.DISPATCHED, State.CLAIMED, State.HANDLED, State.RETURNED, State.EXTENSION_REQUESTED,
                State.SUSPENDED)),
    *(Transition(s, Action.WARN, s, _who(system=Scope.ANY)) for s in _CLOCKED),
    *(Transition(s, Action.ESCALATE, s, _who(system=Scope.ANY)) for s in _CLOCKED),
    # A sensing device's evidence (repeats, "resolved") is recorded on an open case; the state and clock stay.
    *(Transition(s, Action.SENSOR_EVIDENCE, s, _who(system=Scope.ANY)) for s in State if s is not State.CLOSED),
)

STATES: tuple[State, ...] = tuple(State)
ACTIONS: tuple[Action, ...] = tuple(Action)
_ACTION_VALUES = frozenset(a.value for a in Action)
OPEN_STATES: tuple[State, ...] = tuple(s for s in State if s is not State.CLOSED)

_TABLE: dict[tuple[State | None, Action], Transition] = {}
for _t in TRANSITIONS:
    if (_t.source, _t.action) in _TABLE:
        raise ValueError(f"two transitions for {_t.source} + {_t.action}")
    _TABLE[(_t.source, _t.action)] = _t


def _state(state: State | str | None) -> State | None:
    return None if state is None else State(state)


def allowed_actions(state: State | str | None, role: str = SYSTEM.role) -> list[str]:
    """The actions the table allows from ``state`` (None: a new ticket), in table order; for a person's ``role``
    only the rows some person may take (the clock's warn and escalate and a device's evidence are the system's:
    naming them to a dispatcher who took a wrong step would offer what nobody can do)."""
    source = _state(state)
    return [t.action.value for t in TRANSITIONS
            if t.source == source and (role == SYSTEM.role or any(r != SYSTEM.role for r in t.who))]


def roles_for(action: Action | str) -> tuple[str, ...]:
    """Every role that may take ``action`` from some state (what the endpoint admits)."""
    roles: dict[str, None] = {}
    for t in TRANSITIONS:
        if t.action == action:
            roles.update(dict.fromkeys(t.who))
    return tuple(roles)


def transition_for(state: State | str | None, action: Action | str, role: str = SYSTEM.role) -> Transition:
    """The row for ``action`` from ``state``; IllegalTransition (naming the actions ``role`` could be offered
    from ``state``, see ``allowed_actions``) if none."""
    source = _state(state)
    row = _TABLE.get((source, Action(action))) if action in _ACTION_VALUES else None
    if row is None:
        raise IllegalTransition(source.value if source else NEW, str(action), allowed_actions(source, role))
    return row


def authorize(row: Transition, actor: Actor, facts: TicketFacts) -> None:
    """Raise Forbidden unless the actor's role may take this row, on this ticket."""
    scope = row.who.get(actor.role)
    if scope is None:
        allowed = ", ".join(sorted(row.who)) or "nobody"
        raise Forbidden(f"role {actor.role} may not {row.action.value}; allowed: {allowed}")
    check_scope(actor, scope, facts)


def apply(state: State | str | None, action: Action | str, actor: Actor, facts: TicketFacts) -> State:
    """The state after ``actor`` takes ``action`` on a ticket in ``state``.

    Raises IllegalTransition (409) when the state does not allow the action, Forbidden (403) when the
    actor's role, department or grid may not take it.
    """
    row = transition_for(state, action, actor.role)
    authorize(row, actor, facts)
    return row.target


def available_actions(state: State | str | None, actor: Actor, facts: TicketFacts) -> list[str]:
    """The actions this actor may take now (for clients to offer the right buttons)."""
    source = _state(state)
    out = []
    for row in TRANSITIONS:
        if row.source != source:
            continue
        try:
            authorize(row, actor, facts)
        except Forbidden:
            continue
        out.append(row.action.value)
    return out


def sensor_actions(state: State | str, *, resolved: bool, resolved_verifies: bool,
                   own_report: bool) -> tuple[Action, ...]:
    """What a sensing device's alarm-group event does to a ticket: nothing on a closed one; else the evidence,
    and verification (核查通过) too when the device reports the condition resolved, its alarm type lets that
    verify, the ticket awaits verification and was made from that device's report (a merged one only adds
    evidence: the case's own reporter's verification is not a merged device's to give)."""
    current = State(state)
    if current is State.CLOSED:
        return ()
    if resolved and resolved_verifies and own_report and current is State.HANDLED:
        return (Action.SENSOR_EVIDENCE, Action.VERIFY)
    return (Action.SENSOR_EVIDENCE,)


# --- events: every row taken is published as ``ticket.<past tense>`` ---------------------------------------------

PRODUCER = "dispatch"


class TicketLike(Protocol):
    """What an event tells of a ticket (the stored row has it; the state machine needs no table)."""

    id: str
    report_id: str
    state: str
    category_code: str
    department: str | None
    grid_code: str | None
    village_code: str | None
    town_code: str | None
    reporter_id: str
    deadline: datetime | None
    priority: str | None
    channel: str | None
    stage: str | None
    deadline_provisional: bool
    sla_level: str
    escalation_level: int
    supervised: bool


def ticket_event(ticket: TicketLike, action: str, source: str | None, actor: Actor, note: str | None, at: datetime,
                 merged: Sequence[tuple[str, str]]) -> TicketEvent:
    """The event of ``action`` on a ticket as it stands after it: its state, department, clock and reporters."""
    return TicketEvent(
        ticket_id=ticket.id, report_id=ticket.report_id, action=action, from_state=source, to_state=ticket.state,
        category_code=ticket.category_code, department=ticket.department, grid_code=ticket.grid_code,
        village_code=ticket.village_code, town_code=ticket.town_code, reporter_id=ticket.reporter_id,
        deadline=ticket.deadline, actor_id=actor.sub, actor_role=actor.role, note=note, occurred_at=at,
        merged_report_ids=[r for r, _ in merged], merged_reporter_ids=[p for _, p in merged],
        priority=ticket.priority, channel=ticket.channel, stage=ticket.stage,
        deadline_provisional=ticket.deadline_provisional, sla_level=ticket.sla_level,
        escalation_level=ticket.escalation_level, supervised=ticket.supervised,
    )


def event_envelope(event: TicketEvent, causation_id: str | None) -> Envelope:
    """The envelope of a ticket event: keyed by the ticket (its events stay in order), correlated by the report."""
    return new_envelope(type=ticket_event_type(event.action), producer=PRODUCER, key=event.ticket_id, payload=event,
                        correlation_id=event.report_id, causation_id=causation_id)
