"""Queries on grid sets and their areas (the PostGIS locator is ``grids.postgis_index``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from gridgov_common.errors import NotFound
from gridgov_grid_registry.grids.areas import LEVELS
from gridgov_grid_registry.grids.models import Area, GridSet


def any_grid_set(session: Session) -> bool:
    """Whether any grid set has been stored."""
    return session.exec(select(GridSet.version).limit(1)).first() is not None


def list_grid_sets(session: Session) -> list[GridSet]:
    """Every stored grid set, the latest to take effect first (never-effective ones last)."""
    sets = list(session.exec(select(GridSet)))
    return sorted(sets, key=lambda s: (s.effective_from is not None, s.effective_from or s.created_at, s.created_at),
                  reverse=True)


def get_grid_set(session: Session, version: str) -> GridSet | None:
    """One grid set by version."""
    return session.get(GridSet, version)


def effective_grid_set(session: Session, at: datetime) -> GridSet | None:
    """The grid set in effect at a moment: the latest ``effective_from`` not after it (ties: the later created)."""
    query = (select(GridSet).where(GridSet.effective_from.is_not(None), GridSet.effective_from <= at)  # type: ignore[union-attr]
             .order_by(GridSet.effective_from.desc(), GridSet.created_at.desc()).limit(1))  # type: ignore[union-attr]
    return session.exec(query).first()


def next_switch(session: Session, after: datetime) -> datetime | None:
    """The next moment a stored grid set takes effect, if one is scheduled."""
    return session.exec(select(func.min(GridSet.effective_from)).where(GridSet.effective_from > after)).one()


def area_counts(session: Session, version: str) -> dict[str, int]:
    """How many towns, villages and grids a grid set has."""
    rows = session.exec(select(Area.level, func.count()).where(Area.grid_set == version).group_by(Area.level))
    counts = dict.fromkeys(LEVELS, 0)
    counts.update({level: n for level, n in rows})
    return counts


def list_areas(session: Session, grid_set: str | None, level: str | None = None,
               parent: str | None = None) -> list[Area]:
    """Areas of a grid set, optionally of one level or under one parent, by level then code."""
    if grid_set is None:
        return []
    query = select(Area).where(Area.grid_set == grid_set)
    if level is not None:
        query = query.where(Area.level == level)
    if parent is not None:
        query = query.where(Area.parent_code == parent)
    areas = list(session.exec(query.order_by(Area.code)))
    return sorted(areas, key=lambda a: (LEVELS.index(a.level), a.code))


@dataclass(frozen=True)
class AreaRow:
    """An area as lookups need it: plain values, the geometry only where it is indexed (towns and grids)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: Any


def index_rows(session: Session, grid_set: str) -> list[AreaRow]:
    """Every area of a grid set for building a locator: villages without their polygons (only their names
    are needed), and no ORM objects (a fraction of the memory)."""
    meta = session.exec(select(Area.code, Area.name, Area.level, Area.parent_code).where(Area.grid_set == grid_set))
    geoms = dict(session.exec(select(Area.code, Area.geometry).where(Area.grid_set == grid_set,
                                                                    Area.level != "village")).all())
    return [AreaRow(code, name, level, parent, geoms.get(code)) for code, name, level, parent in meta]


def area_meta(session: Session, grid_set: str) -> list[tuple[str, str, str, str | None]]:
    """(code, name, level, parent) of every area of a grid set, without geometry (for answers)."""
    rows = session.exec(select(Area.code, Area.name, Area.level, Area.parent_code).where(Area.grid_set == grid_set))
    return [tuple(r) for r in rows]  # type: ignore[misc]


def get_or_raise(session: Session, grid_set: str | None, code: str) -> Area:
    """The area with this code in the grid set, or NotFound."""
    area = session.get(Area, (grid_set, code)) if grid_set is not None else None
    if area is None:
        raise NotFound("grid", code)
    return area


def parents_of(session: Session, area: Area) -> list[AreaRow]:
    """The village and town above an area, nearest first (their names only: no geometry is read)."""
    parents: list[AreaRow] = []
    code = area.parent_code
    while code is not None and len(parents) < 2:  # a grid has a village and a town above it, no more
        row = session.exec(select(Area.name, Area.level, Area.parent_code)
                           .where(Area.grid_set == area.grid_set, Area.code == code)).first()
        if row is None:
            break
        parents.append(AreaRow(code, row[0], row[1], row[2], None))
        code = row[2]
    return parents
