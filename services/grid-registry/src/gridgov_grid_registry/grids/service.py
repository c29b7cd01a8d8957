"""Queries on grid sets and areas, and the PostGIS locator (``ST_Covers`` on the GiST-indexed column)."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from gridgov_common.errors import NotFound
from gridgov_common.events.reports import Location
from gridgov_grid_registry.grids.areas import LEVELS
from gridgov_grid_registry.grids.geometry import SRID
from gridgov_grid_registry.grids.index import usable
from gridgov_grid_registry.grids.models import Area, GridSet


def any_grid_set(session: Session) -> bool:
    """Whether any grid set has been stored (the demo is seeded only into an empty registry)."""
    return session.exec(select(GridSet.version).limit(1)).first() is not None


def active_grid_set(session: Session) -> GridSet | None:
    """The grid set lookups use now, if any."""
    query = select(GridSet).where(GridSet.active).order_by(GridSet.version.desc()).limit(1)
    return session.exec(query).first()


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


def get_or_raise(session: Session, grid_set: str | None, code: str) -> Area:
    """The area with this code in the grid set, or NotFound."""
    area = session.get(Area, (grid_set, code)) if grid_set is not None else None
    if area is None:
        raise NotFound("grid", code)
    return area


class PostgisLocator:
    """Locates points with PostGIS: ``ST_Covers`` on the GiST index, smallest code first, as ``GridIndex``."""

    def __init__(self, engine: Engine, version: str | None):
        self.engine = engine
        self.version = version

    def locate(self, lon: float | None, lat: float | None) -> Location:
        """Where one point falls: the covering grid, else the covering town, else unlocated."""
        if self.version is None or not usable(lon, lat):
            return Location(status="unlocated", grid_set_version=self.version)
        point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)
        in_set = (Area.grid_set == self.version, func.ST_Covers(Area.geometry, point))
        village, town = aliased(Area), aliased(Area)
        with Session(self.engine) as session:
            row = session.exec(
                select(Area.code, Area.name, village.code, village.name, town.code, town.name)
                .outerjoin(village, (village.grid_set == Area.grid_set) & (village.code == Area.parent_code))
                .outerjoin(town, (town.grid_set == village.grid_set) & (town.code == village.parent_code))
                .where(Area.level == "grid", *in_set)
                .order_by(Area.code)
                .limit(1)
            ).first()
            if row is not None:
                return Location(status="located", grid_code=row[0], grid_name=row[1], village_code=row[2],
                                village_name=row[3], town_code=row[4], town_name=row[5],
                                grid_set_version=self.version)
            row = session.exec(
                select(Area.code, Area.name)
                .where(Area.level == "town", *in_set)
                .order_by(Area.code)
                .limit(1)
            ).first()
        if row is not None:
            return Location(status="town_only", town_code=row[0], town_name=row[1],
                            grid_set_version=self.version)
        return Location(status="unlocated", grid_set_version=self.version)
