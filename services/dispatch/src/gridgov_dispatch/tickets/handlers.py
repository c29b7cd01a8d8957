"""Use cases of tickets: register (立案) and dispatch (派遣) a located report, and every later transition.

Each transition is one transaction: the version-guarded state change, its audit row and its
``gridgov.tickets.events`` envelope in the outbox.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_common.logs import correlation
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.routing import engine
from gridgov_dispatch.routing import service as rule_sets
from gridgov_dispatch.sla import clock as sla
from gridgov_dispatch.sla import scanner
from gridgov_dispatch.tickets import lifecycle, merge, service
from gridgov_dispatch.tickets.access import SYSTEM, Actor, TicketFacts, authorize_view
from gridgov_dispatch.tickets.lifecycle import PAUSED_STATES, STAGE_OF, Action, State
from gridgov_dispatch.tickets.merge import MergeDecision, MergePolicy
from gridgov_dispatch.tickets.models import MergedReport, Ticket, TicketTransition

log = logging.getLogger(__name__)

SERVICE = "dispatch"
REGISTER_CONSUMER = "dispatch.register"
NO_MERGE = MergePolicy(0.0, timedelta(0))
SPLITTERS = ("dept_dispatcher", "command_centre")
# Where a stage's limit is missing from the catalog (it should not be: the catalog checks every middle item),
# one working day keeps the clock running rather than leaving the ticket without a deadline.
FALLBACK_LIMIT = (1.0, "working_days")
TRACE_MAX = 8000


def register_located_report(ctx: DispatchContext, session: Session, envelope: Envelope) -> None:
    """Make a ticket from a located report (立案) and dispatch it at once when the rules route it (派遣).

    Runs in the consumer's transaction, which also records the envelope id; ``ctx`` is a snapshot taken before
    it. A report that already has a ticket (a redelivery under a new envelope id) is left alone; the UNIQUE
    report_id is the last guard: a concurrent insert fails the transaction, and the retry finds the ticket and
    changes nothing.
    """
    if envelope.type != REPORT_LOCATED:
        return
    located = ReportLocated.model_validate(envelope.payload)
    report_id = located.report.report_id
    if service.get_by_report(session, report_id) is not None or session.get(MergedReport, report_id) is not None:
        log.info("report %s already has a ticket; message %s changes nothing", report_id, envelope.id)
        return
    policy = ctx.merge_policy
    if policy.enabled and not located.report.handled_on_spot:
        report = located.report
        cases = service.open_cases(session, report.category_code, report.submitted_at - policy.window)
        decision = merge.decide(report.category_code, report.lon, report.lat, report.submitted_at, cases, policy)
        if decision is not None:
            _merge(ctx, session, located, decision, envelope)
            return
    routed = _decide(ctx, session, located) if not located.report.handled_on_spot else None
    ticket = _register(ctx, session, located, envelope, routed)
    if located.report.handled_on_spot:
        _handled_on_spot(ctx, session, ticket, located, envelope)
    else:
        _dispatch_if_routed(ctx, session, ticket, routed, envelope)
    log.info("ticket %s registered for report %s; state %s, department %s", ticket.id, report_id,
             ticket.state, ticket.department)


def act(ctx: DispatchContext, ticket_id: str, action: Action, actor: Actor, note: str | None = None, *,
        photos: list[str] | None = None, department: str | None = None,
        extension: tuple[float, str] | None = None) -> Ticket:
    """Take ``action`` on a ticket for ``actor`` and return it (签收, 处置反馈, 核查, 退单, 延期, 挂起, 督办 …).

    403 when the actor may not see the ticket, 409 when its state does not allow the action or a concurrent
    change got there first, 422 when the action lacks what it needs (a reason, a department, an extension).
    """
    ctx = ctx.snapshot()
    with ctx.db.session() as session:
        ticket = service.get_or_raise(session, ticket_id)
        authorize_view(actor, service.facts(ticket))
        changes = _action_changes(ctx, session, ticket, action, actor, note, department, extension)
        _transition(ctx, session, ticket, action, actor, note=note, photos=photos, changes=changes)
        session.commit()
    with correlation(ticket.report_id):
        log.info("ticket %s: %s by %s (%s); now %s", ticket.id, action.value, actor.sub, actor.role, ticket.state)
    return ticket


def act_in(ctx: DispatchContext, session: Session, ticket: Ticket, action: Action, actor: Actor,
           note: str | None = None, *, causation_id: str | None = None) -> None:
    """Take ``action`` inside a transaction the caller owns (a consumer's), with its checks, clock and event.

    For the service's own steps that must commit together with what caused them (a bad rating's reopen).
    """
    changes = _action_changes(ctx, session, ticket, action, actor, note, None, None)
    _transition(ctx, session, ticket, action, actor, note=note, changes=changes, causation_id=causation_id)


def _action_changes(ctx: DispatchContext, session: Session, ticket: Ticket, action: Action, actor: Actor,
                    note: str | None, department: str | None,
                    extension: tuple[float, str] | None) -> dict[str, Any]:
    """What an action changes besides the state and the clock, after checking it has what it needs."""
    lifecycle.transition_for(ticket.state, action)  # 409 before 422: a wrong state is the first thing to say
    if action in (Action.RETURN, Action.SUSPEND, Action.REQUEST_EXTENSION, Action.REFUSE_EXTENSION) and not note:
        raise ValidationFailed(f"{action.value} needs a reason", [ErrorDetail("note", "a reason is required")])
    if action is Action.RETURN:
        return {"return_count": ticket.return_count + 1}
    if action in (Action.DISPATCH, Action.RULE_RETURN):
        target = department or (ticket.department if action is Action.RULE_RETURN else None)
        if target is None:
            raise ValidationFailed("which department?", [ErrorDetail("department", "a department is required")])
        if not departments.is_active(session, target):
            raise ValidationFailed("unknown department",
                                   [ErrorDetail("department", f"{target} is not an active department")])
        return {"department": target, "first_department": ticket.first_department or target}
    if action is Action.REQUEST_EXTENSION:
        if extension is None:
            raise ValidationFailed("how much longer?", [ErrorDetail("amount", "an extension amount is required")])
        amount, unit = extension
        cal, now = ctx.calendar(), datetime.now(UTC)
        extra = cal.working_seconds_between(now, cal.add(now, amount, unit).at, ticket.stage_limit_unit or unit)
        return {"extension_s": extra}
    if action in (Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION):
        return {"extension_s": None}
    if action is Action.REWORK or action is Action.REOPEN:
        if action is Action.REOPEN and not ticket.department:
            raise Conflict(f"ticket {ticket.id} has no department to rework it; dispatch a new ticket instead",
                           [ErrorDetail("department", "none: the case was handled on the spot")])
        return {"rework_count": ticket.rework_count + 1, "closed_at": None}
    if action is Action.SUPERVISE:
        return {"supervised": True}
    return {}


def _merge(ctx: DispatchContext, session: Session, located: ReportLocated, decision: MergeDecision,
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
    _announce(ctx, session, ticket, "merge", report.report_id, report.reporter_id, SYSTEM, note, str(cause.id))
    log.info("report %s %s", report.report_id, note)


def split(ctx: DispatchContext, ticket_id: str, report_id: str, actor: Actor) -> Ticket:
    """Take a merged report out of a ticket into a ticket of its own (registered and dispatched as usual)."""
    if actor.role not in SPLITTERS:
        raise Forbidden(f"role {actor.role} may not split; allowed: {', '.join(SPLITTERS)}")
    ctx = ctx.snapshot()
    with ctx.db.session() as session:
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
        routed = _decide(ctx, session, located)
        own = _register(ctx, session, located, None, routed)
        _dispatch_if_routed(ctx, session, own, routed, None)
        merged.split_at, merged.split_ticket_id = datetime.now(UTC), own.id
        session.add(merged)
        # Announced on the new ticket's key, so intake sees it after that ticket's own events.
        _announce(ctx, session, own, "split", merged.report_id, merged.reporter_id, actor,
                  f"split from ticket {ticket_id} by {actor.sub}", None)
        session.commit()
    with correlation(report_id):
        log.info("report %s split from ticket %s into ticket %s by %s", report_id, ticket_id, own.id, actor.sub)
    return own


def scan_sla(ctx: DispatchContext, now: datetime | None = None, limit: int = 500) -> int:
    """Give every ticket whose SLA moment has come its warning (预警) or escalation steps (升级); how many steps.

    One transaction per ticket, version-guarded: a user's transition or another instance's scan that got
    there first wins, and this scan leaves that ticket to its next pass.
    """
    now = now or datetime.now(UTC)
    ctx = ctx.snapshot()
    cal, share = ctx.calendar(), ctx.warning_share
    with ctx.db.session() as session:
        due = [(t.id, t.version) for t in scanner.due(session, now, limit)]
    taken = 0
    for ticket_id, version in due:
        try:
            with ctx.db.session() as session:
                ticket = service.get_or_raise(session, ticket_id)
                if ticket.version != version:
                    continue
                steps, after = sla.due_steps(cal, clock_of(ticket), now, share)
                if not steps:  # nothing owed yet (e.g. a calendar change moved the moment): look again later
                    service.update_unversioned(session, ticket, version, {"next_check_at": after.next_check_at})
                for step in steps:
                    _transition(ctx, session, ticket, Action(step.action), SYSTEM, note=step.note, now=now,
                                clock=after if step is steps[-1] else None,
                                changes={"sla_level": "yellow" if step.action == "warn" else "red",
                                         "escalation_level": step.level or ticket.escalation_level})
                session.commit()
                taken += len(steps)
        except Conflict:
            log.info("ticket %s changed while its SLA was scanned; the next pass looks again", ticket_id)
    return taken


def clock_of(ticket: Ticket) -> sla.Clock:
    """The SLA clock a ticket row stores."""
    return sla.Clock(stage=ticket.stage, started_at=ticket.stage_started_at, deadline=ticket.deadline,
                     unit=ticket.stage_limit_unit, amount=ticket.stage_limit_amount, total_s=ticket.stage_total_s,
                     provisional=ticket.deadline_provisional, paused_at=ticket.paused_at,
                     remaining_s=ticket.remaining_s, sla_level=ticket.sla_level,
                     escalation_level=ticket.escalation_level, next_check_at=ticket.next_check_at)


def clock_values(clock: sla.Clock) -> dict[str, Any]:
    """The ticket columns of an SLA clock."""
    return {"stage": clock.stage, "stage_started_at": clock.started_at, "deadline": clock.deadline,
            "stage_limit_unit": clock.unit, "stage_limit_amount": clock.amount, "stage_total_s": clock.total_s,
            "deadline_provisional": clock.provisional, "paused_at": clock.paused_at,
            "remaining_s": clock.remaining_s, "sla_level": clock.sla_level,
            "escalation_level": clock.escalation_level, "next_check_at": clock.next_check_at}


def _clock_after(ctx: DispatchContext, ticket: Ticket, action: Action, target: State,
                 now: datetime) -> sla.Clock | None:
    """The clock after a transition (None: unchanged): a new stage starts, pauses, resumes or stops."""
    if action in (Action.SUPERVISE, Action.WARN, Action.ESCALATE):
        return None
    cal, share = ctx.calendar(), ctx.warning_share
    current = clock_of(ticket)
    if target.value in PAUSED_STATES:
        return sla.pause(cal, current, now)
    if action in (Action.RESUME, Action.REFUSE_EXTENSION):
        return sla.resume(cal, current, now, share)
    if action is Action.APPROVE_EXTENSION:
        return sla.resume(cal, current, now, share, extra_s=ticket.extension_s or 0.0)
    stage = STAGE_OF.get(target.value)
    if stage is None:
        return sla.STOPPED
    amount, unit = _stage_limit(ctx, ticket.category_code, stage)
    return sla.start(cal, stage, amount, unit, now, share)


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


def _announce(ctx: DispatchContext, session: Session, ticket: Ticket, action: str, report_id: str,
              reporter_id: str, actor: Actor, note: str, causation_id: str | None) -> None:
    """Stage a ticket event about one reporter's report (merge, split) that changes no ticket state."""
    payload = _payload(ticket, action, ticket.state, actor, note, datetime.now(UTC), [])
    payload = payload.model_copy(update={"report_id": report_id, "reporter_id": reporter_id})
    ctx.db.add_outbox(session, TICKETS_EVENTS, new_envelope(
        type=ticket_event_type(action), producer=SERVICE, key=ticket.id, payload=payload,
        correlation_id=report_id, causation_id=causation_id))


def _decide(ctx: DispatchContext, session: Session, located: ReportLocated) -> engine.Decision:
    """What the published rule set decides for a located report (department or triage, priority, trace)."""
    report, location = located.report, located.location
    facts = engine.ReportFacts(
        category_code=report.category_code, channel=report.channel, description=report.description,
        location_status=location.status, town_code=location.town_code, village_code=location.village_code,
        grid_code=location.grid_code, department_areas=frozenset(location.department_areas or ()),
        priority="urgent" if report.urgency == "urgent" else "normal", at=report.submitted_at)
    return engine.decide(facts, ctx.rule_set(), rule_sets.routing_context(session))


def _trace_json(decision: engine.Decision) -> str:
    """The decision as stored on the ticket: whole when it fits the column, else without the non-matching rules."""
    data = decision.to_data()
    text = json.dumps(data, ensure_ascii=False)
    if len(text) > TRACE_MAX:
        data["trace"] = [t for t in data["trace"] if t.get("matched")]
        data["trace_trimmed"] = True
        text = json.dumps(data, ensure_ascii=False)[:TRACE_MAX]
    return text


def _register(ctx: DispatchContext, session: Session, located: ReportLocated, cause: Envelope | None,
              routed: engine.Decision | None) -> Ticket:
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
        channel=report.channel,
        department_areas=",".join(sorted(location.department_areas or ())),
        priority=(routed.priority if routed else None) or ("urgent" if report.urgency == "urgent" else "normal"),
        decision_trace=_trace_json(routed) if routed else None,
        rule_set_version=ctx.rule_set().version if routed else None,
        catalog_version=ctx.catalog().version,
    )
    session.add(ticket)
    session.flush()  # the UNIQUE report_id speaks here, before anything else is staged
    _record(ctx, session, ticket, Action.REGISTER, None, SYSTEM, note=routed.reason if routed else None, at=now,
            causation_id=str(cause.id) if cause else None)
    return ticket


def _handled_on_spot(ctx: DispatchContext, session: Session, ticket: Ticket, located: ReportLocated,
                     cause: Envelope) -> None:
    """自行处置: record the grid worker's fix and leave the ticket awaiting verification, never dispatched."""
    note = f"handled on the spot by {located.report.reporter_id}: {located.report.handled_note or ''}".strip()
    _transition(ctx, session, ticket, Action.HANDLE, SYSTEM, note=note[:2000], photos=located.report.media_ids,
                causation_id=str(cause.id))


def _dispatch_if_routed(ctx: DispatchContext, session: Session, ticket: Ticket, routed: engine.Decision | None,
                        cause: Envelope | None) -> None:
    """Dispatch at once when the rules name an active department; else leave it for triage (人工分拨)."""
    if routed is None or routed.department is None:
        log.info("ticket %s (%s, %s) awaits manual triage", ticket.id, ticket.category_code,
                 ticket.location_status)
        return
    if not departments.is_active(session, routed.department):
        log.warning("ticket %s routes to unknown or inactive department %s; awaits manual triage",
                    ticket.id, routed.department)
        return
    _transition(ctx, session, ticket, Action.DISPATCH, SYSTEM, causation_id=str(cause.id) if cause else None,
                note=routed.reason,
                changes={"department": routed.department, "first_department": routed.department})


def _transition(ctx: DispatchContext, session: Session, ticket: Ticket, action: Action, actor: Actor, *,
                note: str | None = None, photos: list[str] | None = None, causation_id: str | None = None,
                changes: dict[str, Any] | None = None, now: datetime | None = None,
                clock: sla.Clock | None = None) -> None:
    """Apply the state machine, move the SLA clock, write the version-guarded change, its audit row and event."""
    source = State(ticket.state)
    target = lifecycle.apply(source, action, actor, service.facts(ticket))
    now = now or datetime.now(UTC)
    values: dict[str, Any] = {"state": target.value, "updated_at": now, **(changes or {})}
    if target is State.CLOSED:
        values["closed_at"] = now
    after = clock or _clock_after(ctx, ticket, action, target, now)
    if after is not None:
        values.update(clock_values(after))
    service.update_versioned(session, ticket, values)
    _record(ctx, session, ticket, action, source, actor, note=note, photos=photos, at=now,
            causation_id=causation_id)


def _payload(ticket: Ticket, action: str, source: str | None, actor: Actor, note: str | None, at: datetime,
             merged: list[tuple[str, str]]) -> TicketEvent:
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


def _record(ctx: DispatchContext, session: Session, ticket: Ticket, action: Action, source: State | None,
            actor: Actor, *, note: str | None, at: datetime, causation_id: str | None,
            photos: list[str] | None = None) -> None:
    """Stage the audit row and the ``ticket.<past tense>`` envelope of the transition just made."""
    # Their reporters follow the ticket too; the system's own steps at registration come before any merge.
    merged = [] if actor is SYSTEM and action in (Action.REGISTER, Action.DISPATCH) else \
        service.merged_reporters(session, ticket.id)
    payload = _payload(ticket, action.value, source.value if source else None, actor, note, at, merged)
    envelope = new_envelope(type=ticket_event_type(action.value), producer=SERVICE, key=ticket.id,
                            payload=payload, correlation_id=ticket.report_id, causation_id=causation_id)
    session.add(TicketTransition(
        ticket_id=ticket.id, seq=ticket.version, action=action.value,
        from_state=payload.from_state, to_state=payload.to_state, actor_id=actor.sub, actor_role=actor.role,
        note=note, photos=json.dumps(photos) if photos else None, event_id=str(envelope.id), at=at,
    ))
    ctx.db.add_outbox(session, TICKETS_EVENTS, envelope)
