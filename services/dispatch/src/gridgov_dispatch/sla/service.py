"""Queries behind the command centre's views: the SLA board, breaches, the returned queue and map counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func
from sqlmodel import Session, select

from gridgov_dispatch.tickets.lifecycle import STATES, State
from gridgov_dispatch.tickets.models import Ticket, TicketTransition, is_open, is_return

CLOSED = State.CLOSED.value
RETURNED = "returned"  # 退单 awaiting the command centre's ruling (state added by issue #6)
YELLOW, RED = "yellow", "red"
AREA_COLUMNS = {"town": Ticket.town_code, "village": Ticket.village_code, "grid": Ticket.grid_code}


def counts_by_state(session: Session) -> dict[str, int]:
    """How many tickets are in each state (every state of the machine listed, zero included)."""
    rows = session.exec(select(Ticket.state, func.count()).group_by(Ticket.state)).all()
    counts = {s.value: 0 for s in STATES}
    counts.update({state: n for state, n in rows})
    return counts


def overdue_count(session: Session, now: datetime) -> int:
    """How many open tickets are past their deadline."""
    return session.exec(select(func.count()).select_from(Ticket).where(
        is_open(), Ticket.deadline.is_not(None), Ticket.deadline < now)).one()


def open_counts_by(session: Session, column: str) -> dict[str, int]:
    """Open tickets per department or per town (``column``); tickets without one count under ``"none"``."""
    col = {"department": Ticket.department, "town": Ticket.town_code}[column]
    rows = session.exec(select(col, func.count()).where(is_open()).group_by(col)).all()
    return {key if key is not None else "none": n for key, n in sorted(rows, key=lambda r: (r[0] is None, r[0]))}


def sla_level_counts(session: Session) -> dict[str, int]:
    """Open tickets at each SLA level: green, yellow (预警) and red (超期)."""
    rows = session.exec(select(Ticket.sla_level, func.count()).where(is_open()).group_by(Ticket.sla_level)).all()
    counts = {"green": 0, YELLOW: 0, RED: 0}
    counts.update({level: n for level, n in rows})
    return counts


def open_tickets(session: Session, limit: int) -> list[Ticket]:
    """Open tickets, earliest deadline first (tickets awaiting triage, with no deadline, last)."""
    return list(session.exec(
        select(Ticket).where(is_open())
        .order_by(Ticket.deadline.is_(None), Ticket.deadline, Ticket.created_at, Ticket.id).limit(limit)
    ).all())


def breaches(session: Session, *, department: str | None, town: str | None, limit: int,
             offset: int) -> tuple[list[Ticket], int]:
    """Open tickets at sla_level red (超期), longest overdue first, and how many there are in all."""
    where = [is_open(), Ticket.sla_level == RED]
    if department is not None:
        where.append(Ticket.department == department)
    if town is not None:
        where.append(Ticket.town_code == town)
    total = session.exec(select(func.count()).select_from(Ticket).where(*where)).one()
    rows = session.exec(select(Ticket).where(*where).order_by(Ticket.deadline.is_(None), Ticket.deadline, Ticket.id)
                        .offset(offset).limit(limit)).all()
    return list(rows), total


def returned_queue(session: Session, *, limit: int, offset: int
                   ) -> tuple[list[tuple[Ticket, TicketTransition | None]], int]:
    """Returned tickets awaiting a ruling, oldest return first, each with its latest ``return`` transition."""
    latest = (select(TicketTransition.ticket_id, func.max(TicketTransition.seq).label("seq"))
              .where(is_return()).group_by(TicketTransition.ticket_id).subquery())
    total = session.exec(select(func.count()).select_from(Ticket).where(Ticket.state == RETURNED)).one()
    rows = session.exec(
        select(Ticket, TicketTransition)
        .join(latest, latest.c.ticket_id == Ticket.id, isouter=True)
        .join(TicketTransition, and_(TicketTransition.ticket_id == latest.c.ticket_id,
                                     TicketTransition.seq == latest.c.seq), isouter=True)
        .where(Ticket.state == RETURNED)
        # A returned ticket with no return row (not expected) sorts by its last update, last among equals.
        .order_by(func.coalesce(TicketTransition.at, Ticket.updated_at), Ticket.id)
        .offset(offset).limit(limit)
    ).all()
    return [(t, tr) for t, tr in rows], total


def area_counts(session: Session, level: str) -> dict[str, dict[str, int]]:
    """Open, yellow and red tickets per town, village or grid code (areas with no open ticket are left out)."""
    col = AREA_COLUMNS[level]
    rows = session.exec(
        select(col, func.count(), func.sum(case((Ticket.sla_level == YELLOW, 1), else_=0)),
               func.sum(case((Ticket.sla_level == RED, 1), else_=0)))
        .where(is_open(), col.is_not(None)).group_by(col).order_by(col)
    ).all()
    return {code: {"open": n, "yellow": int(y or 0), "red": int(r or 0)} for code, n, y, r in rows}
