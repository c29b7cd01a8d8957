"""Use cases of tickets: register (立案) and dispatch (派遣) a located report, and every later transition.

Each transition is one transaction: the version-guarded state change, its audit row and its
``gridgov.tickets.events`` envelope in the outbox.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.db import Database
from gridgov_common.events.reports import REPORT_LOCATED, ReportLocated
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_common.logs import correlation
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.routing import rules as routing
from gridgov_dispatch.tickets import lifecycle, service
from gridgov_dispatch.tickets.access import SYSTEM, Actor, TicketFacts, authorize_view
from gridgov_dispatch.tickets.lifecycle import Action, State
from gridgov_dispatch.tickets.models import Ticket, TicketTransition

log = logging.getLogger(__name__)

SERVICE = "dispatch"
REGISTER_CONSUMER = "dispatch.register"


def register_located_report(db: Database, session: Session, envelope: Envelope) -> None:
    """Make a ticket from a located report (立案) and dispatch it at once when it is routable (派遣).

    Runs in the consumer's transaction, which also records the envelope id. A report that already has a
    ticket (a redelivery under a new envelope id) is left alone; the UNIQUE report_id is the last guard: a
    concurrent insert fails the transaction, and the retry finds the ticket and changes nothing.
    """
    if envelope.type != REPORT_LOCATED:
        return
    located = ReportLocated.model_validate(envelope.payload)
    report_id = located.report.report_id
    if service.get_by_report(session, report_id) is not None:
        log.info("report %s already has a ticket; message %s changes nothing", report_id, envelope.id)
        return
    ticket = _register(db, session, located, envelope)
    _dispatch_if_routable(db, session, ticket, envelope)
    log.info("ticket %s registered for report %s; state %s, department %s", ticket.id, report_id,
             ticket.state, ticket.department)


def act(db: Database, ticket_id: str, action: Action, actor: Actor, note: str | None = None) -> Ticket:
    """Take ``action`` on a ticket for ``actor`` (签收, 处置反馈, 核查, 返工, 结案) and return it.

    403 when the actor may not see the ticket, 409 when its state does not allow the action or a
    concurrent change got there first.
    """
    with db.session() as session:
        ticket = service.get_or_raise(session, ticket_id)
        authorize_view(actor, service.facts(ticket))
        _transition(db, session, ticket, action, actor, note=note)
        session.commit()
    with correlation(ticket.report_id):
        log.info("ticket %s: %s by %s (%s); now %s", ticket.id, action.value, actor.sub, actor.role, ticket.state)
    return ticket


def _register(db: Database, session: Session, located: ReportLocated, cause: Envelope) -> Ticket:
    report, location = located.report, located.location
    now = datetime.now(UTC)
    ticket = Ticket(
        id=str(uuid.uuid4()),
        report_id=report.report_id,
        category_code=report.category_code,
        description=report.description,
        lon=report.lon,
        lat=report.lat,
        reporter_id=report.reporter_id,
        grid_code=location.grid_code,
        village_code=location.village_code,
        town_code=location.town_code,
        location_status=location.status,
        state=lifecycle.apply(None, Action.REGISTER, SYSTEM, TicketFacts(None, location.grid_code)),
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()  # the UNIQUE report_id speaks here, before anything else is staged
    _record(db, session, ticket, Action.REGISTER, None, SYSTEM, note=None, at=now, causation_id=str(cause.id))
    return ticket


def _dispatch_if_routable(db: Database, session: Session, ticket: Ticket, cause: Envelope) -> None:
    """Dispatch at once when the location and the routing table allow; else leave it for triage."""
    decision = routing.route(ticket.category_code, ticket.location_status, datetime.now(UTC))
    if decision is None:
        log.info("ticket %s (%s, %s) awaits manual triage", ticket.id, ticket.category_code,
                 ticket.location_status)
        return
    if not departments.is_active(session, decision.department):
        log.warning("ticket %s routes to unknown or inactive department %s; awaits manual triage",
                    ticket.id, decision.department)
        return
    _transition(db, session, ticket, Action.DISPATCH, SYSTEM, causation_id=str(cause.id),
                changes={"department": decision.department, "deadline": decision.deadline})


def _transition(db: Database, session: Session, ticket: Ticket, action: Action, actor: Actor, *,
                note: str | None = None, causation_id: str | None = None,
                changes: dict[str, Any] | None = None) -> None:
    """Apply the state machine, write the version-guarded change, its audit row and its event."""
    source = State(ticket.state)
    target = lifecycle.apply(source, action, actor, service.facts(ticket))
    now = datetime.now(UTC)
    values: dict[str, Any] = {"state": target.value, "updated_at": now, **(changes or {})}
    if target is State.CLOSED:
        values["closed_at"] = now
    service.update_versioned(session, ticket, values)
    _record(db, session, ticket, action, source, actor, note=note, at=now, causation_id=causation_id)


def _record(db: Database, session: Session, ticket: Ticket, action: Action, source: State | None,
            actor: Actor, *, note: str | None, at: datetime, causation_id: str | None) -> None:
    """Stage the audit row and the ``ticket.<past tense>`` envelope of the transition just made."""
    payload = TicketEvent(
        ticket_id=ticket.id, report_id=ticket.report_id, action=action.value,
        from_state=source.value if source else None, to_state=ticket.state,
        category_code=ticket.category_code, department=ticket.department, grid_code=ticket.grid_code,
        village_code=ticket.village_code, town_code=ticket.town_code, reporter_id=ticket.reporter_id,
        deadline=ticket.deadline, actor_id=actor.sub, actor_role=actor.role, note=note, occurred_at=at,
    )
    envelope = new_envelope(type=ticket_event_type(action.value), producer=SERVICE, key=ticket.id,
                            payload=payload, correlation_id=ticket.report_id, causation_id=causation_id)
    session.add(TicketTransition(
        ticket_id=ticket.id, seq=ticket.version, action=action.value,
        from_state=payload.from_state, to_state=payload.to_state, actor_id=actor.sub, actor_role=actor.role,
        note=note, event_id=str(envelope.id), at=at,
    ))
    db.add_outbox(session, TICKETS_EVENTS, envelope)
