"""Queries on ticket ratings."""

from __future__ import annotations

from sqlmodel import Session, col, select

from gridgov_dispatch.feedback.models import TicketRating


def get(session: Session, followup_id: str) -> TicketRating | None:
    """The rating of a follow-up, or None."""
    return session.get(TicketRating, followup_id)


def for_ticket(session: Session, ticket_id: str) -> list[TicketRating]:
    """A ticket's ratings, in the order they were answered."""
    return list(session.exec(select(TicketRating).where(TicketRating.ticket_id == ticket_id)
                             .order_by(col(TicketRating.answered_at), col(TicketRating.followup_id))).all())


def add(session: Session, rating: TicketRating) -> None:
    """Stage a new rating (the follow-up id primary key refuses a second one)."""
    session.add(rating)
    session.flush()
