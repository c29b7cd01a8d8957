"""Queries on tickets and the writes that keep a transition atomic and version-guarded."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, null, union_all, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from gridgov_common.db import contains
from gridgov_common.errors import Conflict, ErrorDetail, NotFound
from gridgov_common.periods import Period
from gridgov_dispatch.tickets.access import ListScope, TicketFacts
from gridgov_dispatch.tickets.lifecycle import State
from gridgov_dispatch.tickets.merge import OpenCase
from gridgov_dispatch.tickets.models import MergedReport, Ticket, TicketTransition, is_open


def get(session: Session, ticket_id: str) -> Ticket | None:
    """The ticket, or None."""
    return session.get(Ticket, ticket_id)


def get_or_raise(session: Session, ticket_id: str) -> Ticket:
    """The ticket, or NotFound."""
    ticket = get(session, ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return ticket


def get_by_report(session: Session, report_id: str) -> Ticket | None:
    """The ticket made from a report, if there is one."""
    return session.exec(select(Ticket).where(Ticket.report_id == report_id)).first()


def reports_with_ticket(session: Session, report_ids: Collection[str]) -> set[str]:
    """Which of ``report_ids`` already made a ticket or were merged into one: one query for a consumer batch."""
    if not report_ids:
        return set()
    ids = sorted(set(report_ids))
    query = union_all(select(Ticket.report_id).where(col(Ticket.report_id).in_(ids)),
                      select(MergedReport.report_id).where(col(MergedReport.report_id).in_(ids)))
    return set(session.execute(query).scalars())


def facts(ticket: Ticket) -> TicketFacts:
    """What the access rules need to know about a ticket."""
    return TicketFacts(department=ticket.department, grid_code=ticket.grid_code)


ORDERS = ("oldest", "newest", "deadline")  # the orders a ticket list can be read in


def list_page(session: Session, scope: ListScope, *, report_id: str | None = None,
              state: str | Collection[str] | None = None, open_tickets: bool | None = None,
              department: str | None = None, town: str | None = None, village: str | None = None,
              grid: str | None = None, overdue: bool | None = None,
              geofence: Sequence[str] | None = None, channel: str | None = None, category: str | None = None,
              created: Period | None = None, search: str | None = None, order: str = "oldest",
              limit: int = 50, offset: int = 0) -> tuple[list[Ticket], int]:
    """A page of tickets inside ``scope`` and how many match in all.

    ``state``: one state or several; ``open_tickets``: True for the tickets not closed (在办), False for the closed;
    ``channel``: the report's; ``category``: a catalog code and every code under it (大类 2 digits, 中类 5, 小类 7,
    细类 9); ``created``: 立案 within the period;
    ``search``: a piece of the ticket's id (the console shows its last 8 characters) or of its description.
    ``order``: ``oldest`` first (a queue reads that way, and offset paging stays stable while new tickets arrive),
    ``newest`` first, or ``deadline``: the open tickets most urgent first, then the closed ones newest first.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}")
    conditions = []
    if scope.department is not None:
        conditions.append(Ticket.department == scope.department)
    if scope.grid_code is not None:
        conditions.append(Ticket.grid_code == scope.grid_code)
    if report_id is not None:
        conditions.append(Ticket.report_id == report_id)
    states = [state] if isinstance(state, str) else sorted(set(state or ()))
    if len(states) == 1:
        conditions.append(Ticket.state == states[0])
    elif states:
        conditions.append(col(Ticket.state).in_(states))
    if department is not None:
        conditions.append(Ticket.department == department)
    if town is not None:
        conditions.append(Ticket.town_code == town)
    if village is not None:
        conditions.append(Ticket.village_code == village)
    if grid is not None:
        conditions.append(Ticket.grid_code == grid)
    if overdue is not None:
        # 超期: breached (red) and still open; the clock's own record, so a paused breach still counts.
        breached = (Ticket.sla_level == "red") & is_open()
        conditions.append(breached if overdue else ~breached)
    if geofence:
        conditions.append(Ticket.geofence_verdict.in_(sorted(set(geofence))))
    if channel is not None:
        conditions.append(Ticket.channel == channel)
    if category is not None:  # digits only (the route's pattern): nothing to escape
        conditions.append(Ticket.category_code.like(f"{category}%"))
    if created is not None:
        conditions += [Ticket.created_at >= created.start, Ticket.created_at < created.end]
    if search:
        conditions.append(contains((Ticket.id, Ticket.description), search))
    # Only open tickets asked for (open, overdue, or several states none of them closed): said in the words of the
    # open tickets' partial indexes, so SQLite can read them by one (it does not infer ``state != 'closed'`` from
    # ``state IN (…)``).
    only_open = open_tickets is True or bool(overdue) or (len(states) > 1 and State.CLOSED.value not in states)
    if only_open:
        conditions.append(is_open())
    elif open_tickets is False:
        conditions.append(Ticket.state == State.CLOSED.value)
    total = session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()
    # Open tickets are few (thousands of a city's hundreds of thousands): read them by an open tickets' index and
    # sort them. Ordered by the bare column, SQLite (no statistics) walked every ticket of the scope oldest first by
    # ix_ticket_created_at_id or ix_ticket_department_created_at to skip the sort: 66 ms for the overdue ones with
    # the 90-day history, 85 ms per page of a department's 待办 (5 ms now); the same order, as an expression, it
    # cannot take from those indexes.
    registered = func.coalesce(Ticket.created_at, Ticket.created_at) if only_open else Ticket.created_at
    if order == "oldest":
        keys: tuple = (registered, Ticket.id)
    elif order == "newest":
        keys = (registered.desc(), Ticket.id.desc())
    else:  # deadline: open before closed; of the open, a deadline before none (awaiting triage), the nearest first
        closed = Ticket.state == State.CLOSED.value
        due = case((closed, null()), else_=Ticket.deadline)
        keys = (closed, due.is_(None), due, registered.desc(), Ticket.id.desc())
    query = select(Ticket).where(*conditions).order_by(*keys)
    rows = session.exec(query.limit(limit).offset(offset)).all()
    return list(rows), total


def transitions(session: Session, ticket_id: str) -> list[TicketTransition]:
    """A ticket's audit trail in order."""
    return list(session.exec(
        select(TicketTransition).where(TicketTransition.ticket_id == ticket_id).order_by(TicketTransition.seq)
    ).all())


def update_versioned(session: Session, ticket: Ticket, values: dict[str, Any]) -> None:
    """Write ``values`` and bump the version, only if nobody changed the ticket since it was read.

    ``UPDATE ... WHERE id=:id AND version=:v``; no row means a concurrent change won: Conflict (409).
    """
    expected = ticket.version
    table = Ticket.__table__
    result = session.exec(
        update(table).where(table.c.id == ticket.id, table.c.version == expected)
        .values(**values, version=expected + 1)
    )
    if result.rowcount != 1:
        raise Conflict(f"ticket {ticket.id} changed concurrently; reload it and try again",
                       [ErrorDetail("version", f"expected {expected}, the ticket has moved on")])
    for name, value in {**values, "version": expected + 1}.items():
        set_committed_value(ticket, name, value)


def update_unversioned(session: Session, ticket: Ticket, version: int, values: dict[str, Any]) -> None:
    """Write bookkeeping ``values`` (no audit row, so no new version), only if the ticket is still at ``version``."""
    table = Ticket.__table__
    result = session.exec(update(table).where(table.c.id == ticket.id, table.c.version == version).values(**values))
    if result.rowcount != 1:
        raise Conflict(f"ticket {ticket.id} changed concurrently", [ErrorDetail("version", f"expected {version}")])
    for name, value in values.items():
        set_committed_value(ticket, name, value)


def open_cases(session: Session, category_code: str, since: datetime) -> list[OpenCase]:
    """Open tickets of a category created since ``since``, with coordinates: the merge candidates."""
    rows = session.exec(select(Ticket.id, Ticket.category_code, Ticket.lon, Ticket.lat, Ticket.created_at).where(
        Ticket.category_code == category_code, is_open(), Ticket.created_at >= since,
        Ticket.lon.is_not(None))).all()
    return [OpenCase(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def merged_reports(session: Session, ticket_id: str) -> list[MergedReport]:
    """Every report merged into a ticket (split ones included), in merge order."""
    return list(session.exec(select(MergedReport).where(MergedReport.ticket_id == ticket_id)
                             .order_by(MergedReport.merged_at, MergedReport.report_id)).all())


def merged_report_ids(session: Session, ticket_id: str) -> list[str]:
    """The reports still merged into a ticket (not split)."""
    return [r for r, _ in merged_reporters(session, ticket_id)]


def merged_reporters(session: Session, ticket_id: str) -> list[tuple[str, str]]:
    """(report id, reporter id) of the reports still merged into a ticket (not split), in merge order."""
    rows = session.exec(select(MergedReport.report_id, MergedReport.reporter_id).where(
        MergedReport.ticket_id == ticket_id, MergedReport.split_at.is_(None))
        .order_by(MergedReport.merged_at, MergedReport.report_id)).all()
    return [(r[0], r[1]) for r in rows]


def case_photo_ids(session: Session, ticket_id: str) -> list[str]:
    """Every photo the ticket's audit trail holds so far (the report's, the handling's, the verifications')."""
    rows = session.exec(select(TicketTransition.photos).where(TicketTransition.ticket_id == ticket_id,
                                                              TicketTransition.photos.is_not(None))).all()
    return _photo_ids(rows)


def grid_photo_ids(session: Session, grid_code: str, since: datetime, exclude_ticket: str) -> list[str]:
    """The photos of the grid's other tickets' steps since ``since`` (for catching a reused photo)."""
    rows = session.exec(
        select(TicketTransition.photos).join(Ticket, Ticket.id == TicketTransition.ticket_id)
        .where(Ticket.grid_code == grid_code, Ticket.id != exclude_ticket, TicketTransition.at >= since,
               TicketTransition.photos.is_not(None))).all()
    return _photo_ids(rows)


def _photo_ids(rows: Sequence[str | None]) -> list[str]:
    out: dict[str, None] = {}
    for row in rows:
        for photo in json.loads(row or "[]"):
            out[photo] = None
    return list(out)
