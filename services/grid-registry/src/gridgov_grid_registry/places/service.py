"""Queries of the gazetteer's inputs: the names and inner points of a grid set's areas, the landmarks."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from gridgov_grid_registry.grids.models import Area
from gridgov_grid_registry.places.gazetteer import PlaceArea
from gridgov_grid_registry.places.models import Landmark


def place_areas(session: Session, grid_set: str) -> list[PlaceArea]:
    """Every area of a grid set with a point inside it (towns and villages: shown for a town or village answer)."""
    rows = session.exec(select(Area.code, Area.name, Area.level, Area.parent_code, Area.geometry)
                        .where(Area.grid_set == grid_set))
    out = []
    for code, name, level, parent, geometry in rows:
        point = geometry.representative_point() if geometry is not None and not geometry.is_empty else None
        out.append(PlaceArea(code, name, level, parent, round(point.x, 6) if point else None,
                             round(point.y, 6) if point else None))
    return out


def list_landmarks(session: Session) -> list[Landmark]:
    """Every road and landmark, by name."""
    return list(session.exec(select(Landmark).order_by(Landmark.name)))


def signature(session: Session) -> tuple[int, str | None]:
    """How many landmarks and when one last changed: another process's import changes it."""
    count, latest = session.exec(select(func.count(), func.max(Landmark.updated_at))).one()
    return int(count), str(latest) if latest is not None else None
