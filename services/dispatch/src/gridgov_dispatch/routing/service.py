"""Queries routing's replay needs: the past tickets, as the cases a candidate rule set is replayed over."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from gridgov_dispatch.rules.engine import ReportFacts
from gridgov_dispatch.rules.replay import ReplayCase
from gridgov_dispatch.tickets.models import Ticket


def past_cases(session: Session, since: datetime | None, limit: int) -> list[ReplayCase]:
    """The newest past tickets (since ``since``) as replay cases, at most ``limit``."""
    query = select(Ticket).order_by(col(Ticket.created_at).desc(), col(Ticket.id)).limit(limit)
    if since is not None:
        query = query.where(col(Ticket.created_at) >= since)
    return [ticket_case(t) for t in session.exec(query).all()]


def ticket_case(ticket: Ticket) -> ReplayCase:
    """What routing knew of a ticket's report, and where the ticket went in the end."""
    areas = getattr(ticket, "department_areas", "") or ""
    facts = ReportFacts(
        category_code=ticket.category_code, channel=getattr(ticket, "channel", None) or "patrol",
        description=ticket.description, location_status=ticket.location_status, town_code=ticket.town_code,
        village_code=ticket.village_code, grid_code=ticket.grid_code,
        department_areas=frozenset(a for a in areas.split(",") if a),
        priority=getattr(ticket, "priority", None) or "normal", at=ticket.created_at)
    return ReplayCase(ticket.id, facts, ticket.department or getattr(ticket, "first_department", None))
