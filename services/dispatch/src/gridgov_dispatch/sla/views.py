"""HTTP routes of the command centre's SLA views (thin: authorise, query, shape)."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from gridgov_common.deps import CityWide, IfNoneMatch, OfficeStaff, Staff, not_modified
from gridgov_common.errors import Forbidden
from gridgov_dispatch.deps import Runtime
from gridgov_dispatch.sla import service
from gridgov_dispatch.sla.schemas import (
    AreaCount,
    BreachItem,
    BreachPage,
    ReturnedItem,
    ReturnedPage,
    SlaBoard,
    SlaBoardItem,
)
from gridgov_dispatch.tickets.models import Ticket
from gridgov_dispatch.worktime.clock import is_overdue

router = APIRouter(prefix="/v1/sla", tags=["sla"])

DepartmentCode = Annotated[str | None, Query(pattern=r"^[a-z0-9_-]{1,50}$", description="department code")]
TownCode = Annotated[str | None, Query(pattern=r"^[0-9]{9}$", description="town code (9 digits)")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=2**62)]

ESCALATION_NAMES = {0: "none", 1: "village", 2: "town", 3: "city"}
COUNTS_MAX_AGE = 15  # seconds: the console polls; counts a few seconds old are fine and spare the database


@router.get("/board", response_model=SlaBoard)
def get_sla_board(runtime: Runtime, _principal: CityWide,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> SlaBoard:
    """Counts by state, open counts by department and town, warnings (预警) and breaches (超期), and the open
    tickets with deadline, overdue and paused flags, most urgent first. Who: command_centre, admin."""
    now = datetime.now(UTC)
    with runtime.db.snapshot() as session:  # six queries, one committed state: the totals add up
        counts = service.counts_by_state(session)
        overdue = service.overdue_count(session, now)
        by_department = service.open_counts_by(session, "department")
        by_town = service.open_counts_by(session, "town")
        levels = service.sla_level_counts(session)
        rows = service.open_tickets(session, limit)
    items = [
        SlaBoardItem(id=t.id, state=t.state, category_code=t.category_code, department=t.department,
                     town_code=t.town_code, grid_code=t.grid_code, deadline=t.deadline,
                     overdue=is_overdue(t.deadline, now), paused=t.paused_at is not None, sla_level=t.sla_level,
                     escalation_level=t.escalation_level, supervised=t.supervised)
        for t in rows
    ]
    open_total = sum(n for state, n in counts.items() if state != service.CLOSED)
    return SlaBoard(generated_at=now, counts=counts, open_total=open_total, overdue_total=overdue,
                    open_by_department=by_department, open_by_town=by_town, warning_total=levels[service.YELLOW],
                    breach_total=levels[service.RED], open_tickets=items)


def _overdue_hours(ticket: Ticket, now: datetime) -> float:
    if ticket.deadline is None:
        return 0.0
    # While the clock stands, the overdue time stands with it.
    until = ticket.paused_at or now
    return round(max(0.0, (until - ticket.deadline).total_seconds()) / 3600, 2)


@router.get("/breaches", response_model=BreachPage)
def list_breaches(runtime: Runtime, principal: OfficeStaff, department: DepartmentCode = None,
                  town: TownCode = None,
                  limit: Limit = 50, offset: Offset = 0) -> BreachPage:
    """Open tickets at sla_level red (超期), longest overdue first, with how long overdue and the escalation level
    reached. Filters: department, town (code). Who: command_centre, admin; dept_dispatcher (its department's
    only: its department is applied, another one is 403)."""
    if principal.role == "dept_dispatcher":
        if principal.department is None:
            raise Forbidden("a dept_dispatcher token must name its department", "department")
        if department is not None and department != principal.department:
            raise Forbidden(f"a dispatcher of {principal.department} sees only its own department's breaches",
                            "department")
        department = principal.department
    now = datetime.now(UTC)
    with runtime.db.snapshot() as session:  # the page and its total from one committed state
        rows, total = service.breaches(session, department=department, town=town, limit=limit, offset=offset)
    items = [
        BreachItem(id=t.id, state=t.state, category_code=t.category_code, department=t.department,
                   town_code=t.town_code, grid_code=t.grid_code, deadline=t.deadline,
                   overdue_hours=_overdue_hours(t, now), escalation_level=t.escalation_level,
                   escalation_level_name=ESCALATION_NAMES.get(t.escalation_level, str(t.escalation_level)),
                   paused=t.paused_at is not None, supervised=t.supervised)
        for t in rows
    ]
    return BreachPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/returns", response_model=ReturnedPage)
def list_returns(runtime: Runtime, _principal: CityWide, limit: Limit = 50, offset: Offset = 0) -> ReturnedPage:
    """Returned tickets (退单) awaiting the command centre's ruling, oldest return first, with the reason (the note
    of the latest `return` transition), who returned it and when. Who: command_centre, admin."""
    with runtime.db.snapshot() as session:  # the page and its total from one committed state
        rows, total = service.returned_queue(session, limit=limit, offset=offset)
    items = [
        ReturnedItem(id=t.id, category_code=t.category_code, department=t.department, town_code=t.town_code,
                     grid_code=t.grid_code, return_count=t.return_count, reason=tr.note if tr else None,
                     returned_by=tr.actor_id if tr else None, returned_by_role=tr.actor_role if tr else None,
                     returned_by_name=tr.actor_name if tr else None, returned_at=tr.at if tr else None)
        for t, tr in rows
    ]
    return ReturnedPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/counts", response_model=dict[str, AreaCount],
            responses={304: {"description": "Not modified: the If-None-Match ETag still matches."}})
def get_area_counts(runtime: Runtime, _principal: Staff, level: Literal["town", "village", "grid"],
                    if_none_match: IfNoneMatch = None) -> Response:
    """Open, yellow (预警) and red (超期) tickets per area code of ``level``, for the console to join with
    grid-registry's GeoJSON (``GET /v1/grids?level=...``, features' ``id`` = code); areas with no open ticket are
    left out. Cacheable for 15 s, with an ETag (If-None-Match → 304). Who: any staff role."""
    with runtime.db.session() as session:
        counts = service.area_counts(session, level)
    body = json.dumps(counts, separators=(",", ":"), sort_keys=True).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    # Vary: the answer is the same for every staff caller, but a shared cache must still not serve it anonymously.
    headers = {"ETag": etag, "Cache-Control": f"max-age={COUNTS_MAX_AGE}", "Vary": "Authorization"}
    return not_modified(if_none_match, etag, headers) or Response(body, media_type="application/json", headers=headers)
