"""How one ticket transition is made inside a transaction: the state machine, the SLA clock, the version-guarded
change, its audit row and its ``gridgov.tickets.events`` envelope in the outbox. The use cases (``tickets.handlers``,
``sla.handlers``) call these; the caller owns the transaction.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.errors import NotFound
from gridgov_common.events.tickets import GeofenceCheck
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.tickets import lifecycle, service
from gridgov_dispatch.tickets.access import SYSTEM, Actor
from gridgov_dispatch.tickets.lifecycle import PAUSED_STATES, STAGE_OF, Action, State
from gridgov_dispatch.tickets.models import Ticket, TicketTransition, clock_of, clock_values
from gridgov_dispatch.worktime import clock as clocks

log = logging.getLogger(__name__)

# Where a stage's limit is missing from the catalog (it should not be: the catalog checks every middle item),
# one working day keeps the clock running rather than leaving the ticket without a deadline.
FALLBACK_LIMIT = (1.0, "working_days")


def transition(ctx: DispatchContext, session: Session, ticket: Ticket, action: Action, actor: Actor, *,
               note: str | None = None, photos: list[str] | None = None, causation_id: str | None = None,
               changes: dict[str, Any] | None = None, now: datetime | None = None,
               clock: clocks.Clock | None = None, geofence: dict[str, Any] | None = None) -> None:
    """Apply the state machine, move the SLA clock, write the version-guarded change, its audit row and event
    (with the geofence verdict of the transition's evidence, when it was checked)."""
    source = State(ticket.state)
    now = now or datetime.now(UTC)
    values = changed_values(ctx, ticket, action, actor, changes, now, clock)
    service.update_versioned(session, ticket, values)
    record(ctx, session, ticket, action, source, actor, note=note, photos=photos, at=now, causation_id=causation_id,
           geofence=geofence)


def changed_values(ctx: DispatchContext, ticket: Ticket, action: Action, actor: Actor, changes: dict[str, Any] | None,
                   now: datetime, clock: clocks.Clock | None = None) -> dict[str, Any]:
    """The columns a transition changes (state, clock, ``changes``), after the state machine allowed it."""
    target = lifecycle.apply(State(ticket.state), action, actor, service.facts(ticket))
    values: dict[str, Any] = {"state": target.value, "updated_at": now, **(changes or {})}
    if target is State.CLOSED:
        values["closed_at"] = now
    # A ruling may re-categorise the ticket (issue #17): the new stage runs on the new category's limits.
    after = clock or _clock_after(ctx, ticket, action, target, now, values.get("category_code"))
    if after is not None:
        values.update(clock_values(after))
    return values


def record(ctx: DispatchContext, session: Session, ticket: Ticket, action: Action, source: State | None,
           actor: Actor, *, note: str | None, at: datetime, causation_id: str | None,
           photos: list[str] | None = None, geofence: dict[str, Any] | None = None) -> None:
    """Stage the audit row and the ``ticket.<past tense>`` envelope of the transition just made."""
    session.add(TicketTransition(**audit_row(ctx, session, ticket, action, source, actor, note=note, at=at,
                                             causation_id=causation_id, photos=photos, geofence=geofence)))


def audit_row(ctx: DispatchContext, session: Session, ticket: Ticket, action: Action, source: State | None,
              actor: Actor, *, note: str | None, at: datetime, causation_id: str | None,
              photos: list[str] | None = None, geofence: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stage the ``ticket.<past tense>`` envelope of the transition just made and return its audit row's columns
    (for the caller to insert: as an ORM object, or with its siblings in one Core insert)."""
    # Their reporters follow the ticket too; the system's own steps at registration come before any merge.
    merged = [] if actor is SYSTEM and action in (Action.REGISTER, Action.DISPATCH) else \
        service.merged_reporters(session, ticket.id)
    payload = lifecycle.ticket_event(ticket, action.value, source.value if source else None, actor, note, at, merged)
    if geofence is not None:
        payload = payload.model_copy(update={"geofence": GeofenceCheck.model_validate(geofence)})
    envelope = lifecycle.event_envelope(payload, causation_id)
    ctx.db.add_outbox(session, TICKETS_EVENTS, envelope)
    return {"ticket_id": ticket.id, "seq": ticket.version, "action": action.value, "from_state": payload.from_state,
            "to_state": payload.to_state, "actor_id": actor.sub, "actor_role": actor.role,
            "actor_name": actor.name, "note": note, "photos": json.dumps(photos) if photos else None,
            "event_id": str(envelope.id), "at": at,
            "geofence": json.dumps(geofence, ensure_ascii=False) if geofence is not None else None}


def announce(ctx: DispatchContext, session: Session, ticket: Ticket, action: str, report_id: str,
             reporter_id: str, actor: Actor, note: str, causation_id: str | None) -> None:
    """Stage a ticket event about one reporter's report (merge, split) that changes no ticket state."""
    payload = lifecycle.ticket_event(ticket, action, ticket.state, actor, note, datetime.now(UTC), [])
    payload = payload.model_copy(update={"report_id": report_id, "reporter_id": reporter_id})
    ctx.db.add_outbox(session, TICKETS_EVENTS, lifecycle.event_envelope(payload, causation_id))


def _clock_after(ctx: DispatchContext, ticket: Ticket, action: Action, target: State,
                 now: datetime, category_code: str | None = None) -> clocks.Clock | None:
    """The clock after a transition (None: unchanged): a new stage starts, pauses, resumes or stops."""
    if action in (Action.SUPERVISE, Action.WARN, Action.ESCALATE, Action.SENSOR_EVIDENCE):
        return None
    cal, share = ctx.calendar(), ctx.warning_share
    # The stored clock is read only by the steps that move it (a new stage or a stop does not need it).
    if target.value in PAUSED_STATES:
        return clocks.pause(cal, clock_of(ticket), now)
    if action in (Action.RESUME, Action.REFUSE_EXTENSION):
        return clocks.resume(cal, clock_of(ticket), now, share)
    if action is Action.APPROVE_EXTENSION:
        return clocks.resume(cal, clock_of(ticket), now, share, extra_s=ticket.extension_s or 0.0)
    stage = STAGE_OF.get(target.value)
    if stage is None:
        return clocks.STOPPED
    amount, unit = _stage_limit(ctx, category_code or ticket.category_code, stage)
    return clocks.start(cal, stage, amount, unit, now, share)


def _stage_limit(ctx: DispatchContext, category_code: str, stage: str) -> tuple[float, str]:
    """The catalog's time limit of a stage for a category: (amount, unit)."""
    try:
        limit = getattr(ctx.catalog().resolved(category_code).limits, stage, None)
    except NotFound:
        limit = None
    if limit is None:
        log.warning("catalog has no %s limit for %s; counting %s %s", stage, category_code, *FALLBACK_LIMIT)
        return FALLBACK_LIMIT
    return float(limit.amount), str(limit.unit)
