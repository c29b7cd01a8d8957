"""Queries that build the per-ticket facts the indicators (综合评价) are computed from."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import union
from sqlmodel import Session, select

from gridgov_dispatch.feedback.models import TicketRating
from gridgov_dispatch.indicators.formulas import CaseFacts, Period
from gridgov_dispatch.tickets.models import Ticket, TicketTransition

# The transitions the formulas read; the others (claim, verify, warn, supervise …) change no indicator.
COUNTED_ACTIONS = ("dispatch", "handle", "rework", "return", "escalate", "close")


def _tickets_touching(period: Period, now: datetime):
    """Ids of tickets that may count in the period: a counted transition in it, or an open deadline passed in it."""
    acted = select(TicketTransition.ticket_id).where(
        TicketTransition.at >= period.start, TicketTransition.at < period.end,
        TicketTransition.action.in_(COUNTED_ACTIONS))
    closed = select(Ticket.id).where(Ticket.closed_at >= period.start, Ticket.closed_at < period.end)
    lapsed = select(Ticket.id).where(Ticket.state != "closed", Ticket.deadline >= period.start,
                                     Ticket.deadline < min(period.end, now))
    rated = select(TicketRating.ticket_id).where(TicketRating.answered_at >= period.start,
                                                 TicketRating.answered_at < period.end)
    return union(acted, closed, lapsed, rated).subquery()


CHUNK = 5_000  # ids per IN (...) list: far under SQLite's and PostgreSQL's bound on bound parameters
_FACT_COLUMNS = (Ticket.id, Ticket.state, Ticket.department, Ticket.first_department, Ticket.town_code,
                 Ticket.deadline, Ticket.closed_at, Ticket.sla_level, Ticket.return_count)


def case_facts(session: Session, period: Period, now: datetime) -> list[CaseFacts]:
    """The facts of every ticket that may count in the period (the formulas decide what each one adds)."""
    # The ids are read once and the rest is fetched by id in chunks, only the columns the formulas read: a union
    # subquery repeated in three IN clauses, and whole ticket rows (routing trace included), made a month of a
    # city with 200k past tickets take 12 s.
    ids = sorted(session.exec(select(next(iter(_tickets_touching(period, now).c)))).all())
    trail: dict[str, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    ratings: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    tickets = []
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        tickets.extend(session.exec(select(*_FACT_COLUMNS).where(Ticket.id.in_(chunk))).all())
        for ticket_id, action, at in session.exec(
                select(TicketTransition.ticket_id, TicketTransition.action, TicketTransition.at)
                .where(TicketTransition.ticket_id.in_(chunk), TicketTransition.action.in_(COUNTED_ACTIONS))).all():
            trail[ticket_id][action].append(at)
        for ticket_id, at, satisfaction in session.exec(
                select(TicketRating.ticket_id, TicketRating.answered_at, TicketRating.satisfaction)
                .where(TicketRating.ticket_id.in_(chunk))).all():
            ratings[ticket_id].append((at, satisfaction))
    facts = []
    for t in tickets:
        acts = trail.get(t.id, {})
        dispatches = acts.get("dispatch", [])
        facts.append(CaseFacts(
            ticket_id=t.id, state=t.state, department=t.department, first_department=t.first_department,
            town_code=t.town_code, deadline=t.deadline, closed_at=t.closed_at, sla_level=t.sla_level,
            return_count=t.return_count, dispatched_at=min(dispatches) if dispatches else None,
            handled_at=tuple(sorted(acts.get("handle", []))), reworked_at=tuple(sorted(acts.get("rework", []))),
            returned_at=tuple(sorted(acts.get("return", []))), escalated_at=tuple(sorted(acts.get("escalate", []))),
            ratings=tuple(sorted(ratings.get(t.id, []))),
        ))
    return facts
