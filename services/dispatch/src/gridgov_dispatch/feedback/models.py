"""Ticket ratings (满意度评价) as dispatch stores them."""

from datetime import datetime

from sqlmodel import Field

from gridgov_dispatch.tables import DispatchTable


class TicketRating(DispatchTable, table=True):
    """One reporter's answer to one follow-up (回访); the follow-up id makes a re-published answer count once."""

    __tablename__ = "ticket_rating"

    followup_id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(max_length=36, index=True)
    reporter_id: str = Field(max_length=100)
    solved: bool
    satisfaction: int  # 1–5
    answered_at: datetime = Field(index=True)  # the 满意率 of a period counts the ratings answered in it
