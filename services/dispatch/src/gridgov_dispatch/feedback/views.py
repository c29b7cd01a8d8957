"""HTTP route of a ticket's follow-up ratings (回访评价), for its detail page (thin: authorise, query, shape)."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gridgov_common.deps import Staff
from gridgov_dispatch.deps import Context
from gridgov_dispatch.feedback import service
from gridgov_dispatch.tickets import service as tickets
from gridgov_dispatch.tickets.access import authorize_view

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])


class RatingRead(BaseModel):
    """One reporter's answer to the follow-up of a closed ticket."""

    reporter_id: str
    solved: bool = Field(description="whether the reporter says the problem was solved")
    satisfaction: int = Field(description="满意度 1 (very dissatisfied) to 5 (very satisfied)")
    answered_at: datetime


class RatingList(BaseModel):
    """A ticket's ratings, in the order they were answered."""

    items: list[RatingRead]


@router.get("/{ticket_id}/ratings", response_model=RatingList)
def list_ticket_ratings(ticket_id: str, ctx: Context, principal: Staff) -> RatingList:
    """The follow-up ratings of a ticket (回访评价), oldest first. Who: whoever may read the ticket."""
    with ctx.db.session() as session:
        ticket = tickets.get_or_raise(session, ticket_id)
        authorize_view(principal, tickets.facts(ticket))
        rows = service.for_ticket(session, ticket_id)
    return RatingList(items=[RatingRead.model_validate(r, from_attributes=True) for r in rows])
