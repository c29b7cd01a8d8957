"""Use cases of tickets: register (立案) and dispatch (派遣) a located report, and every later transition.

Each transition is one transaction: the version-guarded state change, its audit row and its
``gridgov.tickets.events`` envelope in the outbox.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.db import Database
from gridgov_common.errors import Forbidden, NotFound
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_common.logs import correlation
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.routing import rules as routing
from gridgov_dispatch.tickets import lifecycle, merge, service
from gridgov_dispatch.tickets.access import SYSTEM, Actor, TicketFacts, authorize_view
from gridgov_dispatch.tickets.lifecycle import Action, State
from gridgov_dispatch.tickets.merge import MergeDecision, MergePolicy
from gridgov_dispatch.tickets.models import MergedReport, Ticket, TicketTransition

log = logging.getLogger(__name__)

SERVICE = "dispatch"
REGISTER_CONSUMER = "dispatch.register"
NO_MERGE = MergePolicy(0.0, timedelta(0))
SPLITTERS = ("dept_dispatcher", "command_centre")


def register_located_report(db: Database, session: Session, envelope: Envelope,
                            policy: MergePolicy = NO_MERGE) -> None:
    """Make a ticket from a located report (立案) and dispatch it at once when it is routable (派遣).

    Runs in the consumer's transaction, which also records the envelope id. A report that already has a
    ticket (a redelivery under a new envelope id) is left alone; the UNIQUE report_id is the last guard: a
    concurrent insert fails the transaction, and the retry finds the ticket and changes nothing.
    """
    if envelope.type != REPORT_LOCATED:
        return
    located = ReportLocated.model_validate(envelope.payload)
    report_id = located.report.report_id
    if service.get_by_report(session, report_id) is not None or session.get(MergedReport, report_id) is not None:
        log.info("report %s already has a ticket; message %s changes nothing", report_id, envelope.id)
        return
    if policy.enabled and not located.report.handled_on_spot:
        report = located.report
        cases = service.open_cases(session, report.category_code, report.submitted_at - policy.window)
        decision = merge.decide(report.category_code, report.lon, report.lat, report.submitted_at, cases, policy)
        if decision is not None:
            _merge(db, session, located, decision, envelope)
            return
    ticket = _register(db, session, located, envelope)
    if located.report.handled_on_spot:
        _handled_on_spot(db, session, ticket, located, envelope)
    else:
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


def _merge(db: Database, session: Session, located: ReportLocated, decision: MergeDecision,
           cause: Envelope) -> None:
    """并案: attach the report to the open ticket and tell its reporter, with the distance and minutes."""
    report, location = located.report, located.location
    ticket = service.get_or_raise(session, decision.ticket_id)
    session.add(MergedReport(
        report_id=report.report_id, ticket_id=ticket.id, channel=report.channel, category_code=report.category_code,
        description=report.description, lon=report.lon, lat=report.lat, reporter_id=report.reporter_id,
        grid_code=location.grid_code, village_code=location.village_code, town_code=location.town_code,
        location_status=location.status, distance_m=decision.distance_m, minutes=decision.minutes,
        merged_at=datetime.now(UTC)))
    note = f"merged into ticket {ticket.id}: {decision.distance_m} m away, {decision.minutes} min from its opening"
    _announce(db, session, ticket, "merge", report.report_id, report.reporter_id, SYSTEM, note, str(cause.id))
    log.info("report %s %s", report.report_id, note)


def split(db: Database, ticket_id: str, report_id: str, actor: Actor) -> Ticket:
    """Take a merged report out of a ticket into a ticket of its own (registered and dispatched as usual)."""
    if actor.role not in SPLITTERS:
        raise Forbidden(f"role {actor.role} may not split; allowed: {', '.join(SPLITTERS)}")
    with db.session() as session:
        ticket = service.get_or_raise(session, ticket_id)
        authorize_view(actor, service.facts(ticket))
        merged = session.get(MergedReport, report_id)
        if merged is None or merged.ticket_id != ticket_id or merged.split_at is not None:
            raise NotFound("merged report", report_id)
        located = ReportLocated(
            report=ReportReceived(report_id=merged.report_id, channel=merged.channel,  # type: ignore[arg-type]
                                  category_code=merged.category_code, description=merged.description,
                                  lon=merged.lon, lat=merged.lat, reporter_id=merged.reporter_id,
                                  reporter_role="reporter", submitted_at=merged.merged_at),
            location=Location(status=merged.location_status, grid_code=merged.grid_code,  # type: ignore[arg-type]
                              village_code=merged.village_code, town_code=merged.town_code))
        own = _register(db, session, located, None)
        _dispatch_if_routable(db, session, own, None)
        merged.split_at, merged.split_ticket_id = datetime.now(UTC), own.id
        session.add(merged)
        # Announced on the new ticket's key, so intake sees it after that ticket's own events.
        _announce(db, session, own, "split", merged.report_id, merged.reporter_id, actor,
                  f"split from ticket {ticket_id} by {actor.sub}", None)
        session.commit()
    with correlation(report_id):
        log.info("report %s split from ticket %s into ticket %s by %s", report_id, ticket_id, own.id, actor.sub)
    return own


def _announce(db: Database, session: Session, ticket: Ticket, action: str, report_id: str, reporter_id: str,
              actor: Actor, note: str, causation_id: str | None) -> None:
    """Stage a ticket event about one reporter's report (merge, split) that changes no ticket state."""
    payload = TicketEvent(
        ticket_id=ticket.id, report_id=report_id, action=action, from_state=ticket.state, to_state=ticket.state,
        category_code=ticket.category_code, department=ticket.department, grid_code=ticket.grid_code,
        village_code=ticket.village_code, town_code=ticket.town_code, reporter_id=reporter_id,
        deadline=ticket.deadline, actor_id=actor.sub, actor_role=actor.role, note=note,
        occurred_at=datetime.now(UTC))
    db.add_outbox(session, TICKETS_EVENTS, new_envelope(
        type=ticket_event_type(action), producer=SERVICE, key=ticket.id, payload=payload,
        correlation_id=report_id, causation_id=causation_id))


def _register(db: Database, session: Session, located: ReportLocated, cause: Envelope | None) -> Ticket:
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
    _record(db, session, ticket, Action.REGISTER, None, SYSTEM, note=None, at=now,
            causation_id=str(cause.id) if cause else None)
    return ticket


def _handled_on_spot(db: Database, session: Session, ticket: Ticket, located: ReportLocated,
                     cause: Envelope) -> None:
    """自行处置: record the grid worker's fix and leave the ticket awaiting verification, never dispatched."""
    note = f"handled on the spot by {located.report.reporter_id}: {located.report.handled_note or ''}".strip()
    _transition(db, session, ticket, Action.HANDLE, SYSTEM, note=note[:2000], causation_id=str(cause.id))


def _dispatch_if_routable(db: Database, session: Session, ticket: Ticket, cause: Envelope | None) -> None:
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
    _transition(db, session, ticket, Action.DISPATCH, SYSTEM, causation_id=str(cause.id) if cause else None,
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
        # Their reporters follow the ticket too; the system's own steps come before any merge.
        merged_report_ids=[] if actor is SYSTEM else service.merged_report_ids(session, ticket.id),
    )
    envelope = new_envelope(type=ticket_event_type(action.value), producer=SERVICE, key=ticket.id,
                            payload=payload, correlation_id=ticket.report_id, causation_id=causation_id)
    session.add(TicketTransition(
        ticket_id=ticket.id, seq=ticket.version, action=action.value,
        from_state=payload.from_state, to_state=payload.to_state, actor_id=actor.sub, actor_role=actor.role,
        note=note, event_id=str(envelope.id), at=at,
    ))
    db.add_outbox(session, TICKETS_EVENTS, envelope)
