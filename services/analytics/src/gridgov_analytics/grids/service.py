"""Queries and writes on the learned grids."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlmodel import Session

from gridgov_analytics.grids.models import LearnedGrid
from gridgov_common.db import stage_latest
from gridgov_common.events.grids import GridPublished

LEVELS = ("town", "village", "grid")


@dataclass(frozen=True)
class GridRow:
    """A grid in effect: its code, name, parents and boundary (GeoJSON text)."""

    grid_code: str
    grid_name: str
    village_code: str
    town_code: str
    grid_set_version: str
    boundary_geojson: str | None


def store_grid(session: Session, published: GridPublished) -> None:
    """Keep a grid's announcement unless a later one is already kept (a stale announcement of an older set arriving
    late changes nothing); a retiring one keeps the boundary last known. Staged, and written with the transaction's
    other grids as it commits (one statement, not a lookup and an ORM object per grid)."""
    boundary = json.dumps(published.boundary.model_dump(), separators=(",", ":")) if published.boundary else None
    stage_latest(session, LearnedGrid.__table__, {
        "grid_code": published.grid_code, "grid_name": published.grid_name, "village_code": published.village_code,
        "town_code": published.town_code, "grid_set_version": published.grid_set_version,
        "boundary_geojson": boundary, "retired": published.retired, "published_at": published.published_at},
        key="grid_code", order="published_at", keep=("boundary_geojson",))


def current_grids(session: Session) -> list[GridRow]:
    """The grids in effect (not retired), by code."""
    rows = session.execute(select(LearnedGrid).where(LearnedGrid.retired.is_(False))
                           .order_by(LearnedGrid.grid_code)).scalars()
    return [GridRow(r.grid_code, r.grid_name, r.village_code, r.town_code, r.grid_set_version, r.boundary_geojson)
            for r in rows]


def knows_area(session: Session, level: str, code: str) -> bool:
    """Whether any learned grid (retired ones too: history stays on old codes) is or lies in this area."""
    column = {"town": LearnedGrid.town_code, "village": LearnedGrid.village_code, "grid": LearnedGrid.grid_code}[level]
    return session.execute(select(LearnedGrid.grid_code).where(column == code).limit(1)).first() is not None


def areas_under(session: Session, level: str, parent: str | None) -> list[str]:
    """Codes of the areas of ``level`` in effect under ``parent`` (a town for villages, a village or town for
    grids)."""
    column = {"town": LearnedGrid.town_code, "village": LearnedGrid.village_code, "grid": LearnedGrid.grid_code}[level]
    query = select(column).where(LearnedGrid.retired.is_(False)).distinct()
    if parent:
        query = query.where(or_(LearnedGrid.town_code == parent, LearnedGrid.village_code == parent))
    return sorted(session.execute(query).scalars())
