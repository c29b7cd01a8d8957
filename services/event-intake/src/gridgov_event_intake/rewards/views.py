"""HTTP routes of the reward ledger (thin)."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlmodel import select

from gridgov_common.auth import CITY_WIDE, Principal
from gridgov_common.deps import require
from gridgov_common.errors import Forbidden
from gridgov_event_intake.deps import Runtime
from gridgov_event_intake.rewards.models import RewardEntry

router = APIRouter(prefix="/v1/rewards", tags=["rewards"])

LedgerReader = Annotated[Principal, Depends(require("citizen", *CITY_WIDE))]  # a citizen: their own only


class RewardEntryRead(BaseModel):
    """One credit in the ledger."""

    report_id: str
    points: int
    reason: str
    at: str


class RewardLedger(BaseModel):
    """A citizen's points: the balance and every entry, newest first."""

    citizen: str
    balance: int
    entries: list[RewardEntryRead]


@router.get("/{citizen}", response_model=RewardLedger)
def get_rewards(citizen: str, runtime: Runtime, principal: LedgerReader) -> RewardLedger:
    """A citizen's reward ledger. Who: the citizen themself, command_centre, admin."""
    if principal.role == "citizen" and principal.sub != citizen:
        raise Forbidden("a citizen reads only their own ledger", "citizen")
    with runtime.db.session() as session:
        rows = session.exec(select(RewardEntry).where(RewardEntry.citizen_id == citizen)
                            .order_by(RewardEntry.at.desc(), RewardEntry.id.desc())).all()
    entries = [RewardEntryRead(report_id=r.report_id, points=r.points, reason=r.reason, at=r.at.isoformat())
               for r in rows]
    return RewardLedger(citizen=citizen, balance=sum(e.points for e in entries), entries=entries)
