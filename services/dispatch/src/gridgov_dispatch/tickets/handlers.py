"""Use cases of tickets: register (立案) and dispatch (派遣) a located report, merge (并案) and split it, take an
action on a ticket (签收, 处置反馈, 核查, 退单, 延期, 挂起, 督办 …), and record what a sensing device says of its case
(its alarm group's repeats and "resolved", issue #16).

Each runs the transition mechanics of ``tickets.transitions`` (state machine, SLA clock, audit row, event) in one
transaction; the SLA clock's own steps are ``sla.handlers``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session

from gridgov_common.auth import CITY_WIDE
from gridgov_common.bus.envelope import Envelope
from gridgov_common.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gridgov_common.events.alarms import AlarmGroupEvent
from gridgov_common.events.media import DeviceFix
from gridgov_common.events.reports import Location, ReportLocated, ReportReceived
from gridgov_common.ids import new_id
from gridgov_common.logs import correlation
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.rules import engine as rules
from gridgov_dispatch.tickets import batch, evidence, lifecycle, merge, service, transitions
from gridgov_dispatch.tickets.access import SYSTEM, Actor, SystemActor, TicketFacts, authorize_view
from gridgov_dispatch.tickets.lifecycle import Action, State
from gridgov_dispatch.tickets.merge import MergeDecision, MergePolicy
from gridgov_dispatch.tickets.models import MergedReport, Ticket
from gridgov_dispatch.tickets.schemas import NOTE_MAX, PlacedLocation

log = logging.getLogger(__name__)

SPLITTERS = ("dept_dispatcher", "command_centre")
TRACE_MAX = 8000
SENSING = SystemActor(sub="system:sensing")  # a sensing device's evidence and its "resolved" as verification
CHINA_TIME = timezone(timedelta(hours=8), "CST")  # China keeps no daylight saving time


def merge_policy(ctx: DispatchContext) -> MergePolicy:
    """并案: the distance and window within which a report joins an open ticket (0 metres: merging is off)."""
    return MergePolicy(ctx.settings.merge_distance_m, timedelta(minutes=ctx.settings.merge_window_minutes))


def register_located_report(ctx: DispatchContext, session: Session, envelope: Envelope) -> None:
    """Make a ticket from a located report (立案) and dispatch it at once when the rules route it (派遣).

    Runs in the consumer's transaction, which also records the envelope id; ``ctx`` is a snapshot taken before
    it. A report that already has a ticket (a redelivery under a new envelope id) is left alone; the UNIQUE
    report_id is the last guard: a concurrent insert fails the transaction, and the retry finds the ticket and
    changes nothing.
    """
    located = ReportLocated.model_validate(envelope.payload)
    report_id = located.report.report_id
    if _has_ticket(ctx, session, report_id):
        log.info("report %s already has a ticket; message %s changes nothing", report_id, envelope.id)
        return
    if ctx.batch is not None:
        ctx.batch.take(report_id)  # a second message of the report later in this batch changes nothing
    policy = merge_policy(ctx)
    if ctx.batch is not None and (policy.enabled or located.report.handled_on_spot):
        ctx.batch.write_staged(session)  # what follows reads the tickets and photos this batch made so far
    if policy.enabled and not located.report.handled_on_spot:
        report = located.report
        cases = service.open_cases(session, report.category_code, report.submitted_at - policy.window)
        decision = merge.decide(report.category_code, report.lon, report.lat, report.submitted_at, cases, policy)
        if decision is not None:
            _merge(ctx, session, located, decision, envelope)
            return
    if located.report.handled_on_spot:
        ticket = _register(ctx, session, located, envelope, None)
        _handled_on_spot(ctx, session, ticket, located, envelope)
    else:
        ticket = _register_routed(ctx, session, located, envelope, _decide(ctx, session, located))
    log.info("ticket %s registered for report %s; state %s, department %s", ticket.id, report_id,
             ticket.state, ticket.department)


def _has_ticket(ctx: DispatchContext, session: Session, report_id: str) -> bool:
    """Whether the report already has a ticket or was merged: the batch's read-ahead answer when it has one."""
    if ctx.batch is not None and ctx.batch.covers(report_id):
        return ctx.batch.taken(session, report_id)
    return service.get_by_report(session, report_id) is not None or session.get(MergedReport, report_id) is not None


def act(ctx: DispatchContext, ticket_id: str, action: Action, actor: Actor, note: str | None = None, *,
        photos: list[str] | None = None, department: str | None = None,
        extension: tuple[float, str] | None = None, location: PlacedLocation | None = None,
        fix: DeviceFix | None = None, geofenced: bool = False, category_code: str | None = None) -> Ticket:
    """Take ``action`` on a ticket for ``actor`` and return it (签收, 处置反馈, 核查, 退单, 延期, 挂起, 督办 …).

    403 when the actor may not see the ticket, 409 when its state does not allow the action or a concurrent
    change got there first, 422 when the action lacks what it needs (a reason, a department, an extension).
    A manual dispatch may carry where the command centre placed an unlocated ticket (``location``): it is
    written with the transition, in the same transaction, and the audit note says it was placed by hand.
    ``geofenced`` evidence (核查, and 处置反馈 with a device fix) is judged against the ticket's grid: a refusing
    verdict is a 422 naming the fix's field and nothing is stored; an accepted one is kept on the ticket, its
    audit row and its event.
    """
    ctx = ctx.snapshot()
    if geofenced and fix is not None and evidence.media_ids(photos or []):
        with ctx.db.session() as session:  # 404, 403 and 409 at once, not after waiting for the photos
            ticket = service.get_or_raise(session, ticket_id)
            authorize_view(actor, service.facts(ticket))
            lifecycle.apply(ticket.state, action, actor, service.facts(ticket))
        evidence.await_media(ctx, photos or [])  # before the transaction: it waits, and polls the database
    with ctx.db.session() as session:
        ticket = service.get_or_raise(session, ticket_id)
        authorize_view(actor, service.facts(ticket))
        changes = _action_changes(ctx, session, ticket, action, actor, note, department, extension)
        if category_code is not None:
            changes.update(_recategorise(ctx, ticket, action, category_code))
        if location is not None:
            changes.update(_placement(ticket, action, actor, location))
            note = _placed_note(actor, location, note)
        checked = None
        if geofenced:
            lifecycle.apply(ticket.state, action, actor, service.facts(ticket))  # 403 before the evidence's 422
            verdict = evidence.judge(ctx, session, ticket, fix, photos or [], datetime.now(UTC))
            if verdict.refused:
                log.info("ticket %s: %s by %s refused by the geofence: %s", ticket.id, action.value, actor.sub,
                         [r.code for r in verdict.refusals])
                raise evidence.refusal(verdict)
            changes.update(evidence.columns(verdict))
            checked = verdict.to_data()
        transitions.transition(ctx, session, ticket, action, actor, note=note, photos=photos, changes=changes,
                               geofence=checked)
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
    transitions.transition(ctx, session, ticket, action, actor, note=note, changes=changes, causation_id=causation_id)


def _action_changes(ctx: DispatchContext, session: Session, ticket: Ticket, action: Action, actor: Actor,
                    note: str | None, department: str | None,
                    extension: tuple[float, str] | None) -> dict[str, Any]:
    """What an action changes besides the state and the clock, after checking it has what it needs."""
    lifecycle.transition_for(ticket.state, action, actor.role)  # 409 before 422: a wrong state is said first
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


def _recategorise(ctx: DispatchContext, ticket: Ticket, action: Action, category_code: str) -> dict[str, Any]:
    """The category columns of a ruling that re-categorises the ticket (issue #17), after checking the code is a
    middle-or-deeper item of the current catalog."""
    if action is not Action.RULE_RETURN:
        raise ValidationFailed("only a ruling on a return re-categorises a ticket",
                               [ErrorDetail("category_code", f"not accepted with {action.value}")])
    catalog = ctx.catalog()
    try:
        known = category_code in catalog and catalog.resolved(category_code) is not None
    except NotFound:
        known = False
    if not known:
        raise ValidationFailed("unknown category", [ErrorDetail(
            "category_code", f"{category_code} is not a middle or detail item of the current catalog")])
    return {"category_code": category_code}


def _placement(ticket: Ticket, action: Action, actor: Actor, location: PlacedLocation) -> dict[str, Any]:
    """The location columns of a ticket placed by hand (人工定位), after checking who places what.

    Only the city-wide roles' manual dispatch may place a ticket, and only one that is not located yet: a
    located ticket's grid came from the registry's own lookup and a placement must not overwrite it. The codes
    are not checked against the grid registry (dispatch holds no boundaries and calls no service): the command
    centre placed the point with the registry's answer and is trusted for triage.
    """
    if action is not Action.DISPATCH:
        raise ValidationFailed("only a manual dispatch places a ticket",
                               [ErrorDetail("location", f"not accepted with {action.value}")])
    if actor.role not in CITY_WIDE:
        raise Forbidden(f"role {actor.role} may not place a ticket; allowed: {', '.join(CITY_WIDE)}", "location")
    if ticket.location_status == "located":
        raise Conflict(f"ticket {ticket.id} is already located in grid {ticket.grid_code}",
                       [ErrorDetail("location", "the ticket is already located; dispatch it without a location")])
    return {"lon": location.lon, "lat": location.lat, "grid_code": location.grid_code,
            "village_code": location.village_code, "town_code": location.town_code, "location_status": "located"}


def _placed_note(actor: Actor, location: PlacedLocation, note: str | None) -> str:
    """The audit note of a placement: where and by whom, then the operator's own note (one column holds both)."""
    placed = (f"placed by hand by {actor.sub} at {location.lon}, {location.lat}: grid {location.grid_code}, "
              f"village {location.village_code}, town {location.town_code}")
    if not note:
        return placed
    room = NOTE_MAX - len(placed) - 2
    if len(note) > room:
        raise ValidationFailed("the note is too long with the placement",
                               [ErrorDetail("note", f"at most {max(room, 0)} characters with a location")])
    return f"{placed}; {note}"


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
    transitions.announce(ctx, session, ticket, "merge", report.report_id, report.reporter_id, SYSTEM, note,
                         str(cause.id))
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
        transitions.announce(ctx, session, own, "split", merged.report_id, merged.reporter_id, actor,
                             f"split from ticket {ticket_id} by {actor.sub}", None)
        session.commit()
    with correlation(report_id):
        log.info("report %s split from ticket %s into ticket %s by %s", report_id, ticket_id, own.id, actor.sub)
    return own


def _decide(ctx: DispatchContext, session: Session, located: ReportLocated) -> rules.Decision:
    """What the published rule set decides for a located report (department or triage, priority, trace)."""
    report, location = located.report, located.location
    facts = rules.ReportFacts(
        category_code=report.category_code, channel=report.channel, description=report.description,
        location_status=location.status, town_code=location.town_code, village_code=location.village_code,
        grid_code=location.grid_code, department_areas=frozenset(location.department_areas or ()),
        priority="urgent" if report.urgency == "urgent" else "normal", at=report.submitted_at)
    return rules.decide(facts, ctx.rule_set(), ctx.routing_context(session))


def _trace_json(decision: rules.Decision) -> str:
    """The decision as stored on the ticket: whole when it fits the column, else without the non-matching rules."""
    text = decision.to_json()  # the text json.dumps writes, with the trace entries shared by a category reused
    if len(text) > TRACE_MAX:
        data = decision.to_data()
        data["trace"] = [t for t in data["trace"] if t.get("matched")]
        data["trace_trimmed"] = True
        text = json.dumps(data, ensure_ascii=False)[:TRACE_MAX]
    return text


def _register(ctx: DispatchContext, session: Session, located: ReportLocated, cause: Envelope | None,
              routed: rules.Decision | None) -> Ticket:
    report = located.report
    now = datetime.now(UTC)
    ticket = Ticket(**_new_ticket_values(ctx, located, routed, now))
    session.add(ticket)
    session.flush()  # the UNIQUE report_id speaks here, before anything else is staged
    # The report's own photos open the audit trail (a later step reusing one is caught); a 自行处置's are the
    # handling's and go on that row.
    transitions.record(ctx, session, ticket, Action.REGISTER, None, SYSTEM, note=routed.reason if routed else None,
                       at=now, causation_id=str(cause.id) if cause else None,
                       photos=None if report.handled_on_spot else report.media_ids)
    return ticket


def _register_routed(ctx: DispatchContext, session: Session, located: ReportLocated, cause: Envelope,
                     routed: rules.Decision) -> NewTicket:
    """立案 and, when the rules name an active department, 派遣 — written as one ticket row and its audit rows.

    The same rows and events as ``_register`` then ``_dispatch_if_routed`` (the ticket at version 2 after its
    dispatch, audit rows 1 and 2, ``ticket.registered`` then ``ticket.dispatched``), but the dispatch is applied
    to the new ticket before it is written, and in a consumer batch the rows of all its tickets are written by one
    multi-row Core insert of tickets and one of audit rows as the batch commits, instead of an ORM insert and
    flush per row and a version-guarded update per ticket (issue #18). The ticket is not in the session.
    """
    report = located.report
    now = datetime.now(UTC)
    ticket = _new_ticket(ctx, located, routed, now)
    causation_id = str(cause.id)
    audit = [transitions.audit_row(ctx, session, ticket, Action.REGISTER, None, SYSTEM, note=routed.reason, at=now,
                                   causation_id=causation_id, photos=report.media_ids)]
    if _routed_department(ctx, session, ticket, routed) is not None:
        source, at = State(ticket.state), datetime.now(UTC)
        values = transitions.changed_values(ctx, ticket, Action.DISPATCH, SYSTEM, {
            "department": routed.department, "first_department": routed.department}, at)
        for name, value in {**values, "version": ticket.version + 1}.items():
            setattr(ticket, name, value)
        audit.append(transitions.audit_row(ctx, session, ticket, Action.DISPATCH, source, SYSTEM, note=routed.reason,
                                           at=at, causation_id=causation_id))
    row = {name: getattr(ticket, name) for name in _TICKET_COLUMNS}
    if ctx.batch is not None:
        ctx.batch.stage(session, row, audit)  # written with the batch's others, in one insert each, at commit
    else:
        batch.write(session, [row], audit)
    return ticket


class NewTicket(SimpleNamespace):
    """A ticket being registered by the consumer, before its row is written: the columns as plain attributes
    (building an ORM ``Ticket`` cost a fifth of the consumer's CPU, issue #18)."""


_TICKET_COLUMNS = tuple(c.name for c in Ticket.__table__.columns)
_TICKET_DEFAULTS = {name: field.default for name, field in Ticket.model_fields.items()
                    if name in _TICKET_COLUMNS and not field.is_required()}


def _new_ticket(ctx: DispatchContext, located: ReportLocated, routed: rules.Decision | None,
                now: datetime) -> NewTicket:
    """A registered ticket of a located report (not yet stored), with what routing decided."""
    return NewTicket(**{**_TICKET_DEFAULTS, **_new_ticket_values(ctx, located, routed, now)})


def _new_ticket_values(ctx: DispatchContext, located: ReportLocated, routed: rules.Decision | None,
                       now: datetime) -> dict[str, Any]:
    """The columns of a registered ticket of a located report, with what routing decided."""
    report, location = located.report, located.location
    return dict(
        id=new_id(),
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


def _handled_on_spot(ctx: DispatchContext, session: Session, ticket: Ticket, located: ReportLocated,
                     cause: Envelope) -> None:
    """自行处置: record the grid worker's fix and leave the ticket awaiting verification, never dispatched.

    The report's device fix and photos are judged against the grid like a verification, but only flagged, never
    refused: the report is already accepted. The consumer does not wait for photos not learned yet (it would
    hold the batch's transaction); intake publishes ``media.stored`` at upload, before the report, so they are
    normally known, and one that is not is judged unknown (never inside).
    """
    report = located.report
    note = f"handled on the spot by {report.reporter_id}: {report.handled_note or ''}".strip()
    verdict = evidence.judge(ctx, session, ticket, report.device_fix, report.media_ids, datetime.now(UTC))
    transitions.transition(ctx, session, ticket, Action.HANDLE, SYSTEM, note=note[:2000], photos=report.media_ids,
                           causation_id=str(cause.id), changes=evidence.columns(verdict),
                           geofence=verdict.to_data())


def _dispatch_if_routed(ctx: DispatchContext, session: Session, ticket: Ticket, routed: rules.Decision | None,
                        cause: Envelope | None) -> None:
    """Dispatch at once when the rules name an active department; else leave it for triage (人工分拨)."""
    department = _routed_department(ctx, session, ticket, routed)
    if department is None:
        return
    transitions.transition(ctx, session, ticket, Action.DISPATCH, SYSTEM,
                           causation_id=str(cause.id) if cause else None, note=routed.reason if routed else None,
                           changes={"department": department, "first_department": department})


def _routed_department(ctx: DispatchContext, session: Session, ticket: Ticket,
                       routed: rules.Decision | None) -> str | None:
    """The active department the rules name, or None (logged: the ticket awaits manual triage, 人工分拨)."""
    if routed is None or routed.department is None:
        log.info("ticket %s (%s, %s) awaits manual triage", ticket.id, ticket.category_code,
                 ticket.location_status)
        return None
    if not ctx.department_active(session, routed.department):
        log.warning("ticket %s routes to unknown or inactive department %s; awaits manual triage",
                    ticket.id, routed.department)
        return None
    return routed.department


def record_sensor_repeat(ctx: DispatchContext, session: Session, envelope: Envelope) -> None:
    """Record a repeat of a case's alarm group (``alarm_group.repeated``) on its ticket as evidence (感知告警)."""
    _record_sensor_event(ctx, session, envelope, resolved=False)


def record_sensor_resolved(ctx: DispatchContext, session: Session, envelope: Envelope) -> None:
    """Record a device's "resolved" (``alarm_group.resolved``) on its ticket; where the alarm type lets it verify
    and the ticket awaits verification, it passes verification (核查通过, AI 复核) as the system ``system:sensing``."""
    _record_sensor_event(ctx, session, envelope, resolved=True)


def _record_sensor_event(ctx: DispatchContext, session: Session, envelope: Envelope, *, resolved: bool) -> None:
    """The evidence, and the verification ``lifecycle.sensor_actions`` allows, in the consumer's transaction.

    The ticket is the one made from the group's report, or the one that report was merged into (并案; evidence
    only). A report with no ticket here (never located, or not yet registered) is ignored with a log line, never
    dead-lettered; a closed ticket takes nothing. The consumer's handled-message record makes a redelivery a no-op.
    """
    event = AlarmGroupEvent.model_validate(envelope.payload)
    ticket = service.get_by_report(session, event.report_id)
    own = ticket is not None
    if ticket is None:
        merged = session.get(MergedReport, event.report_id)
        ticket = service.get(session, merged.ticket_id) if merged is not None and merged.split_at is None else None
    if ticket is None:
        log.info("alarm group %s: report %s has no ticket here; %s ignored", event.group_id, event.report_id,
                 envelope.type)
        return
    actions = lifecycle.sensor_actions(ticket.state, resolved=resolved, resolved_verifies=event.resolved_verifies,
                                       own_report=own)
    if not actions:
        log.info("alarm group %s: ticket %s is %s; %s not recorded", event.group_id, ticket.id, ticket.state,
                 envelope.type)
        return
    for action in actions:
        note = sensor_note(event, resolved) if action is Action.SENSOR_EVIDENCE else _SENSOR_VERIFIED
        act_in(ctx, session, ticket, action, SENSING, note, causation_id=str(envelope.id))
    with correlation(ticket.report_id):
        log.info("ticket %s: %s from alarm group %s (count %d)%s", ticket.id, envelope.type, event.group_id,
                 event.count, "; verified by the device's resolved" if Action.VERIFY in actions else "")


_SENSOR_VERIFIED = "设备复核已恢复，该告警类型允许以设备恢复作为核查：核查通过（system:sensing）"


def sensor_note(event: AlarmGroupEvent, resolved: bool) -> str:
    """The audit note of a sensing device's evidence: what, which device, how many times, when, and what it saw."""
    head = "设备报告已恢复" if resolved else "感知告警重复"
    parts = [f"{head}：告警类型 {event.alarm_type}（事项 {event.catalog_code}），设备 {event.device_id}",
             f"累计 {event.count} 次，首次 {_china(event.first_seen)}，最近 {_china(event.last_seen)}"]
    evidence = event.evidence
    if evidence is not None and evidence.reading is not None:
        parts.append(f"读数 {evidence.reading:g}{f' {evidence.unit}' if evidence.unit else ''}")
    if evidence is not None and evidence.snapshot_url:
        parts.append(f"快照 {evidence.snapshot_url}")
    return "；".join(parts)


def _china(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")
