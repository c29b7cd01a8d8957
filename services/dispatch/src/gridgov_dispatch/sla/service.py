"""Queries behind the SLA board."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from gridgov_dispatch.tickets.lifecycle import STATES, State
from gridgov_dispatch.tickets.models import Ticket


def counts_by_state(session: Session) -> dict[str, int]:
    """How many tickets are in each state (every state listed, zero included)."""
    rows = session.exec(select(Ticket.state, func.count()).group_by(Ticket.state)).all()
    counts = {s.value: 0 for s in STATES}
    counts.update({state: n for state, n in rows})
    return counts


def overdue_count(session: Session, now: datetime) -> int:
    """How many open tickets are past their deadline."""
    return session.exec(select(func.count()).select_from(Ticket).where(
        Ticket.state != State.CLOSED.value, Ticket.deadline.is_not(None), Ticket.deadline < now)).one()


def open_tickets(session: Session, limit: int) -> list[Ticket]:
    """Open tickets, earliest deadline first (tickets awaiting triage, with no deadline, last)."""
    return list(session.exec(
        select(Ticket).where(Ticket.state != State.CLOSED.value)
        .order_by(Ticket.deadline.is_(None), Ticket.deadline, Ticket.created_at).limit(limit)
    ).all())
