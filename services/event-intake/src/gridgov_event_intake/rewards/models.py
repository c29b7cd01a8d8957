"""The citizens' reward-points ledger."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from gridgov_event_intake.tables import IntakeTable


class RewardEntry(IntakeTable, table=True):
    """Points credited to a citizen for one accepted report (one entry per report and reason)."""

    __tablename__ = "reward_entry"
    __table_args__ = (UniqueConstraint("report_id", "reason", name="uq_reward_entry_report_reason"),)

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: str = Field(max_length=100, index=True)
    report_id: str = Field(max_length=36)
    points: int
    reason: str = Field(max_length=30)
    at: datetime
