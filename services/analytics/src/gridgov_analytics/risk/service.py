"""Queries of the risk map on the read model: the tickets recurrence looks at, and the version of the data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import String, func, or_, select, type_coerce
from sqlmodel import Session

from gridgov_analytics.cube.models import DailyCount, TicketFact
from gridgov_analytics.cube.service import generation
from gridgov_analytics.grids.models import LearnedGrid

AREA_COLUMNS = {"grid": TicketFact.grid_code, "village": TicketFact.village_code, "town": TicketFact.town_code}


class FactRow(NamedTuple):
    """A located ticket as recurrence reads it (a tuple, for the same reason as ``recurrence.Case``)."""

    ticket_id: str
    grid_code: str
    village_code: str
    town_code: str
    category_code: str
    registered_at: datetime
    closed_at: datetime | None


def _utc(value: datetime | str | None) -> datetime | None:
    """A moment as the driver hands it back, in UTC: SQLite's text (stored in UTC, no offset), or a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        try:  # parsed with its zone at once: ``replace(tzinfo=UTC)`` after parsing cost five times the parse
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # not the text of a UTC moment without an offset: the general way below
            value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def located_facts(session: Session, *, start: date, end: date, area: tuple[str, str] | None,
                  categories: Sequence[str] | None, channels: Sequence[str] | None) -> list[FactRow]:
    """The tickets registered on the local days ``start``..``end`` that have a grid, within the filters."""
    # The moments as the driver gives them, converted by ``_utc``: through the column type's own conversion they
    # were over half of a 90-day city's recurrence view (195,000 rows, two moments each; issue #15).
    query = select(TicketFact.ticket_id, TicketFact.grid_code, TicketFact.village_code, TicketFact.town_code,
                   TicketFact.category_code, type_coerce(TicketFact.registered_at, String),
                   type_coerce(TicketFact.closed_at, String)).where(
        TicketFact.registered_day >= start, TicketFact.registered_day <= end, TicketFact.grid_code != "",
        TicketFact.registered_at.is_not(None))
    if area is not None:
        query = query.where(AREA_COLUMNS[area[0]] == area[1])
    if categories:
        # Codes are digits (checked by the caller), so a prefix needs no LIKE escaping.
        query = query.where(or_(*(TicketFact.category_code.like(f"{c}%") for c in categories)))
    if channels:
        query = query.where(TicketFact.channel.in_(list(channels)))
    rows = session.connection().execute(query)  # Core rows: the ORM's per-row handling is not needed for columns
    return [FactRow(r[0], r[1], r[2], r[3], r[4], _utc(r[5]), _utc(r[6])) for r in rows]


def data_version(session: Session) -> tuple:
    """A cheap fingerprint of what the answers are computed from: the cube's generation, its facts and grids.

    It changes with almost every projected event (a new ticket, a later event, a rating, a new grid set); an event
    that changes none of these (an old one arriving late) is caught by the cache's time limit."""
    facts = session.execute(select(func.count(), func.max(TicketFact.last_event_at), func.max(TicketFact.rated_at))
                            .select_from(TicketFact)).one()
    grids = session.execute(select(func.count(), func.max(LearnedGrid.published_at))
                            .select_from(LearnedGrid)).one()
    return (generation(session), *map(str, facts), *map(str, grids))


def first_counted_day(session: Session) -> date | None:
    """The first day the read model counts anything on (history included): before it there is no data, not calm."""
    return session.execute(select(func.min(DailyCount.day))).scalar_one_or_none()
