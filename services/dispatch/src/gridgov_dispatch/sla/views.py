"""HTTP routes of the SLA board (thin: authorise, query, shape)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from gridgov_common.auth import Principal, require
from gridgov_dispatch.sla import service
from gridgov_dispatch.sla.clock import is_overdue
from gridgov_dispatch.sla.schemas import SlaBoard, SlaBoardItem
from gridgov_dispatch.tickets.lifecycle import State

router = APIRouter(prefix="/v1/sla", tags=["sla"])

Watcher = Annotated[Principal, Depends(require("command_centre", "admin"))]


@router.get("/board", response_model=SlaBoard)
def get_sla_board(request: Request, _principal: Watcher,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> SlaBoard:
    """Counts by state, and the open tickets with deadline and overdue flag (超期), most urgent first.
    Who: command_centre, admin."""
    now = datetime.now(UTC)
    with request.app.state.runtime.db.session() as session:
        counts = service.counts_by_state(session)
        overdue = service.overdue_count(session, now)
        rows = service.open_tickets(session, limit)
    items = [
        SlaBoardItem(id=t.id, state=t.state, category_code=t.category_code, department=t.department,
                     town_code=t.town_code, grid_code=t.grid_code, deadline=t.deadline,
                     overdue=is_overdue(t.deadline, now))
        for t in rows
    ]
    open_total = sum(n for state, n in counts.items() if state != State.CLOSED.value)
    return SlaBoard(generated_at=now, counts=counts, open_total=open_total, overdue_total=overdue, open_tickets=items)
