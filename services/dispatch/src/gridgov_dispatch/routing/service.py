"""Queries routing's replay needs: the past tickets, as the cases a candidate rule set is replayed over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from gridgov_dispatch.rules.engine import ReportFacts
from gridgov_dispatch.rules.replay import ReplayCase
from gridgov_dispatch.tickets.models import Ticket

# Only what a replay case needs: a whole ticket row carries its stored decision trace (up to 8 KB), and a replay
# reads up to 10,000 of them.
_CASE_COLUMNS = (Ticket.id, Ticket.category_code, Ticket.channel, Ticket.description, Ticket.location_status,
                 Ticket.town_code, Ticket.village_code, Ticket.grid_code, Ticket.department_areas, Ticket.priority,
                 Ticket.created_at, Ticket.department, Ticket.first_department)


def past_cases(session: Session, since: datetime | None, limit: int) -> list[ReplayCase]:
    """The newest past tickets (since ``since``) as replay cases, at most ``limit``."""
    query = select(*_CASE_COLUMNS).order_by(col(Ticket.created_at).desc(), col(Ticket.id)).limit(limit)
    if since is not None:
        query = query.where(col(Ticket.created_at) >= since)
    return [ticket_case(row) for row in session.exec(query).all()]


def ticket_case(ticket: Ticket | Any) -> ReplayCase:
    """What routing knew of a ticket's report, and where the ticket went in the end (of a ticket, or a row of
    its columns)."""
    areas = getattr(ticket, "department_areas", "") or ""
    facts = ReportFacts(
        category_code=ticket.category_code, channel=getattr(ticket, "channel", None) or "patrol",
        description=ticket.description, location_status=ticket.location_status, town_code=ticket.town_code,
        village_code=ticket.village_code, grid_code=ticket.grid_code,
        department_areas=frozenset(a for a in areas.split(",") if a),
        priority=getattr(ticket, "priority", None) or "normal", at=ticket.created_at)
    return ReplayCase(ticket.id, facts, ticket.department or getattr(ticket, "first_department", None))
