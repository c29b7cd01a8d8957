"""HTTP routes of tickets (thin: parse, authorise, call a handler, shape)."""

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from gridgov_common.auth import Principal
from gridgov_common.deps import require
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_common.events.reports import Channel
from gridgov_common.periods import parse_period
from gridgov_common.schemas import SafeText
from gridgov_dispatch.deps import Context
from gridgov_dispatch.tickets import handlers, lifecycle, service
from gridgov_dispatch.tickets.access import READERS, authorize_view, list_scope
from gridgov_dispatch.tickets.lifecycle import Action, State
from gridgov_dispatch.tickets.models import Ticket
from gridgov_dispatch.tickets.schemas import (
    CloseBody,
    ExtensionBody,
    HandleBody,
    ManualDispatchBody,
    MergedReportRead,
    NoteBody,
    ReasonBody,
    RulingBody,
    SplitBody,
    TicketDetail,
    TicketPage,
    TicketRead,
    TransitionRead,
    VerifyBody,
)
from gridgov_dispatch.verification import geofence as geofence_rules

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])
SEARCH_MAX = 100  # characters of a list's search text (a description is at most 2,000)

# Each endpoint admits the roles the state machine names for its actions; the machine decides the rest.
Reader = Annotated[Principal, Depends(require(*READERS))]
Claimer = Annotated[Principal, Depends(require(*lifecycle.roles_for(Action.CLAIM)))]
Handler = Annotated[Principal, Depends(require(*lifecycle.roles_for(Action.HANDLE)))]
# The system's own verification (a sensing device's "resolved", issue #16) is no caller's role.
Verifier = Annotated[Principal, Depends(require(*[r for r in (*lifecycle.roles_for(Action.VERIFY),
                                                              *lifecycle.roles_for(Action.REWORK)) if r != "system"]))]
Splitter = Annotated[Principal, Depends(require(*handlers.SPLITTERS))]
Closer = Annotated[Principal, Depends(require(*lifecycle.roles_for(Action.CLOSE)))]
Returner = Annotated[Principal, Depends(require(*lifecycle.roles_for(Action.RETURN)))]
Centre = Annotated[Principal, Depends(require("command_centre"))]  # rulings, extensions, 挂起, 督办, triage
Reopener = Annotated[Principal, Depends(require(*[r for r in lifecycle.roles_for(Action.REOPEN) if r != "system"]))]


def _read(ticket: Ticket) -> TicketRead:
    return TicketRead.model_validate(ticket, from_attributes=True)


def _verdicts(text: str | None) -> list[str] | None:
    """The geofence filter's verdicts; 422 naming ``geofence`` for one that is not a verdict."""
    if text is None:
        return None
    verdicts = [v.strip() for v in text.split(",") if v.strip()]
    wrong = [v for v in verdicts if v not in geofence_rules.VERDICTS]
    if wrong or not verdicts:
        raise ValidationFailed("unknown geofence verdict", [ErrorDetail(
            "geofence", f"{', '.join(wrong) or 'none'} is not one of {', '.join(geofence_rules.VERDICTS)}",
            reason_zh=f"地理围栏核验结果只能是 {'、'.join(geofence_rules.VERDICTS)}")])
    return verdicts


@router.get("", response_model=TicketPage)
def list_tickets(ctx: Context, principal: Reader,
                 report_id: Annotated[str | None, Query(max_length=36)] = None,
                 state: Annotated[list[State] | None, Query(max_length=len(State), description=(
                     "one state, or several (the parameter repeated: ?state=dispatched&state=claimed)"))] = None,
                 open_: Annotated[bool | None, Query(alias="open", description=(
                     "true: the tickets not closed (在办); false: the closed ones"))] = None,
                 department: Annotated[str | None, Query(max_length=50)] = None,
                 town: Annotated[str | None, Query(max_length=20)] = None,
                 village: Annotated[str | None, Query(max_length=20)] = None,
                 grid: Annotated[str | None, Query(max_length=20, description=(
                     "grid code: the tickets recorded in that grid (the risk map's drill-down)"))] = None,
                 overdue: bool | None = None,
                 geofence: Annotated[str | None, Query(max_length=60, description=(
                     "comma-separated geofence verdicts, e.g. boundary,unverifiable,outside: the flagged ones"))]
                 = None,
                 channel: Annotated[Channel | None, Query(description="the report's channel (来源)")] = None,
                 category: Annotated[str | None, Query(pattern=r"^\d{2,9}$", description=(
                     "a catalog code: the tickets of it and of every code under it (02 = the whole class)"))] = None,
                 created: Annotated[str | None, Query(max_length=30, description=(
                     "立案时间, China time: 2026-11 | 2026-W47 | 2026-11-25 | 2026-11-01..2026-11-15"))] = None,
                 q: Annotated[SafeText | None, Query(max_length=SEARCH_MAX, description=(
                     "a piece of the ticket's id (e.g. the last 8 characters the console shows) or of its "
                     "description, any case; % and _ are plain characters"))] = None,
                 order: Annotated[Literal["oldest", "newest", "deadline"], Query(description=(
                     "oldest first (the default), newest first, or deadline: the open tickets most urgent first, "
                     "then the closed ones newest first"))] = "oldest",
                 limit: Annotated[int, Query(ge=1, le=500)] = 50,
                 offset: Annotated[int, Query(ge=0, le=2**62)] = 0) -> TicketPage:
    """Tickets in the order asked (oldest first unless told). Who: dept_dispatcher (its department's),
    grid_worker (its grid's), command_centre and admin (all)."""
    scope = list_scope(principal)
    verdicts = _verdicts(geofence)
    period = parse_period(created, "created") if created is not None else None
    with ctx.db.session() as session:
        rows, total = service.list_page(session, scope, report_id=report_id,
                                        state=[s.value for s in state] if state else None, open_tickets=open_,
                                        department=department,
                                        town=town, village=village, grid=grid, overdue=overdue,
                                        geofence=verdicts, channel=channel, category=category, created=period,
                                        search=(q or "").strip() or None, order=order,
                                        limit=limit, offset=offset)
    return TicketPage(items=[_read(t) for t in rows], total=total, limit=limit, offset=offset)


@router.get("/{ticket_id}", response_model=TicketDetail)
def get_ticket(ticket_id: str, ctx: Context, principal: Reader) -> TicketDetail:
    """A ticket with its audit trail and the caller's allowed actions, read from one snapshot (its state and its
    trail agree). Who: as for the list."""
    with ctx.db.snapshot() as session:
        ticket = service.get_or_raise(session, ticket_id)
        facts = service.facts(ticket)
        authorize_view(principal, facts)
        trail = service.transitions(session, ticket_id)
        merged = service.merged_reports(session, ticket_id)
    return TicketDetail(
        **_read(ticket).model_dump(),
        transitions=[TransitionRead.model_validate(t, from_attributes=True) for t in trail],
        merged_reports=[MergedReportRead.model_validate(m, from_attributes=True) for m in merged],
        allowed_actions=lifecycle.available_actions(ticket.state, principal, facts),
        decision=json.loads(ticket.decision_trace) if ticket.decision_trace else None,
        rule_set_version=ticket.rule_set_version, catalog_version=ticket.catalog_version,
    )


@router.post("/{ticket_id}/claim", response_model=TicketRead)
def claim_ticket(ticket_id: str, ctx: Context, principal: Claimer) -> TicketRead:
    """Claim a dispatched ticket (签收). Who: dept_dispatcher of the ticket's department."""
    return _read(handlers.act(ctx, ticket_id, Action.CLAIM, principal))


@router.post("/{ticket_id}/handle", response_model=TicketRead)
def handle_ticket(ticket_id: str, body: HandleBody, ctx: Context, principal: Handler) -> TicketRead:
    """Report the handling of a claimed ticket (处置反馈). Who: dept_dispatcher of the ticket's department.
    With ``fix`` (the phone's position on site) the handling is checked against the ticket's grid like a
    verification: refused (422 naming the fix's field) outside it, with a mocked, stale or inaccurate fix."""
    return _read(handlers.act(ctx, ticket_id, Action.HANDLE, principal, body.note, photos=body.photos,
                              fix=body.fix, geofenced=body.fix is not None))


@router.post("/{ticket_id}/verify", response_model=TicketRead)
def verify_ticket(ticket_id: str, body: VerifyBody, ctx: Context, principal: Verifier) -> TicketRead:
    """Verify a handled ticket on site (核查); ``passed: false`` sends it back to the department (返工).
    Who: grid_worker of the ticket's grid. The evidence is judged against the ticket's grid (``geofence`` on the
    answer): 422 naming ``fix``, ``fix.accuracy_m``, ``fix.fixed_at`` or ``fix.mocked`` when the fix is outside
    the grid, too inaccurate, stale or mocked (nothing stored); without a fix the verdict is unverifiable
    (accepted, flagged)."""
    action = Action.VERIFY if body.passed else Action.REWORK
    return _read(handlers.act(ctx, ticket_id, action, principal, body.note, photos=body.photos, fix=body.fix,
                              geofenced=True))


@router.post("/{ticket_id}/close", response_model=TicketRead)
def close_ticket(ticket_id: str, ctx: Context, principal: Closer,
                 body: CloseBody | None = None) -> TicketRead:
    """Close a verified ticket (结案). Who: command_centre, or grid_worker of the ticket's grid."""
    note = body.note if body else None
    return _read(handlers.act(ctx, ticket_id, Action.CLOSE, principal, note))


@router.post("/{ticket_id}/split", response_model=TicketRead)
def split_ticket(ticket_id: str, body: SplitBody, ctx: Context, principal: Splitter) -> TicketRead:
    """Take a merged report (并案) out into a ticket of its own; returns the new ticket.
    Who: dept_dispatcher of the ticket's department, command_centre."""
    return _read(handlers.split(ctx, ticket_id, body.report_id, principal))


@router.post("/{ticket_id}/return", response_model=TicketRead)
def return_ticket(ticket_id: str, body: ReasonBody, ctx: Context, principal: Returner) -> TicketRead:
    """Return a ticket that is not the department's (退单), with the reason; the clock stops until the command
    centre rules. Who: dept_dispatcher of the ticket's department."""
    return _read(handlers.act(ctx, ticket_id, Action.RETURN, principal, body.note))


@router.post("/{ticket_id}/rule_return", response_model=TicketRead)
def rule_on_return(ticket_id: str, body: RulingBody, ctx: Context, principal: Centre) -> TicketRead:
    """Rule on a returned ticket (退单裁定): re-dispatch it to ``department``, or, without one, back to the
    department that returned it; with ``category_code`` the ticket is re-categorised (a catalog item) and the new
    claim clock follows that category's limits. A new claim clock starts. Who: command_centre."""
    return _read(handlers.act(ctx, ticket_id, Action.RULE_RETURN, principal, body.note,
                              department=body.department, category_code=body.category_code))


@router.post("/{ticket_id}/dispatch", response_model=TicketRead)
def dispatch_ticket(ticket_id: str, body: ManualDispatchBody, ctx: Context, principal: Centre) -> TicketRead:
    """Dispatch a ticket awaiting triage to a department (人工分拨), placing it first when it is not located
    (``location``, 409 on a located ticket). Who: command_centre."""
    return _read(handlers.act(ctx, ticket_id, Action.DISPATCH, principal, body.note,
                              department=body.department, location=body.location))


@router.post("/{ticket_id}/request_extension", response_model=TicketRead)
def request_extension(ticket_id: str, body: ExtensionBody, ctx: Context, principal: Handler) -> TicketRead:
    """Ask for more time (延期申请); the clock stops until the command centre decides.
    Who: dept_dispatcher of the ticket's department."""
    return _read(handlers.act(ctx, ticket_id, Action.REQUEST_EXTENSION, principal, body.note,
                              extension=(body.amount, body.unit)))


@router.post("/{ticket_id}/approve_extension", response_model=TicketRead)
def approve_extension(ticket_id: str, ctx: Context, principal: Centre, body: NoteBody | None = None) -> TicketRead:
    """Approve an extension (延期批准): the clock runs again with the time it had left plus the extension.
    Who: command_centre."""
    return _read(handlers.act(ctx, ticket_id, Action.APPROVE_EXTENSION, principal,
                              body.note if body else None))


@router.post("/{ticket_id}/refuse_extension", response_model=TicketRead)
def refuse_extension(ticket_id: str, body: ReasonBody, ctx: Context, principal: Centre) -> TicketRead:
    """Refuse an extension (延期驳回), with the reason: the clock runs again with the time it had left.
    Who: command_centre."""
    return _read(handlers.act(ctx, ticket_id, Action.REFUSE_EXTENSION, principal, body.note))


@router.post("/{ticket_id}/suspend", response_model=TicketRead)
def suspend_ticket(ticket_id: str, body: ReasonBody, ctx: Context, principal: Centre) -> TicketRead:
    """Suspend a claimed ticket (挂起), with the reason: its clock stops. Who: command_centre."""
    return _read(handlers.act(ctx, ticket_id, Action.SUSPEND, principal, body.note))


@router.post("/{ticket_id}/resume", response_model=TicketRead)
def resume_ticket(ticket_id: str, ctx: Context, principal: Centre, body: NoteBody | None = None) -> TicketRead:
    """Resume a suspended ticket (恢复): its clock runs again with the time it had left. Who: command_centre."""
    return _read(handlers.act(ctx, ticket_id, Action.RESUME, principal, body.note if body else None))


@router.post("/{ticket_id}/supervise", response_model=TicketRead)
def supervise_ticket(ticket_id: str, ctx: Context, principal: Centre, body: NoteBody | None = None) -> TicketRead:
    """Press the department on a ticket (督办); the state stays and the department is told. Who: command_centre."""
    return _read(handlers.act(ctx, ticket_id, Action.SUPERVISE, principal, body.note if body else None))


@router.post("/{ticket_id}/reopen", response_model=TicketRead)
def reopen_ticket(ticket_id: str, ctx: Context, principal: Reopener, body: NoteBody | None = None) -> TicketRead:
    """Reopen a closed ticket as rework for its department (e.g. the reporter found it unsolved).
    Who: command_centre (the follow-up consumer reopens on a bad rating by itself)."""
    return _read(handlers.act(ctx, ticket_id, Action.REOPEN, principal, body.note if body else None))
