"""Queries on grid sets and their areas, and the PostGIS locator.

The PostGIS locator asks ``ST_Covers`` on the GiST-indexed column, smallest code first, exactly as
``GridIndex`` answers in memory: one prepared statement per point, or one ``unnest`` + ``LATERAL`` statement
per batch. It talks to PostgreSQL through a few psycopg connections of its own with server-side prepared
statements, so a lookup costs one round trip and no ORM work.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from gridgov_common.errors import NotFound, Unavailable
from gridgov_common.events.reports import Location
from gridgov_common.geo import metres_per_degree
from gridgov_grid_registry.grids.areas import LEVELS
from gridgov_grid_registry.grids.index import UNLOCATED, Answers, Nearby, usable, usable_many
from gridgov_grid_registry.grids.models import Area, GridSet

if TYPE_CHECKING:
    import psycopg


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


_COVERING = ("SELECT code FROM area WHERE grid_set = %(v)s AND level = '{level}' "
             "AND ST_Covers(geometry, ST_SetSRID(ST_MakePoint({x}, {y}), 4326)) ORDER BY code LIMIT 1")
# One round trip per point: the grid if any, else (only then: Append stops at its first row) the town.
GRID_SQL = _COVERING.format(level="grid", x="%(x)s", y="%(y)s")
TOWN_SQL = _COVERING.format(level="town", x="%(x)s", y="%(y)s")
SINGLE_SQL = f"({GRID_SQL}) UNION ALL ({TOWN_SQL}) LIMIT 1"
EXTENT_SQL = ("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
              "(SELECT ST_Extent(geometry) AS e FROM area WHERE grid_set = %(v)s AND level = 'town') t")
_POINT = "ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)"
NEARBY_SQL = (f"SELECT code, ST_Distance(geometry::geography, {_POINT}::geography) AS d FROM area "
              f"WHERE grid_set = %(v)s AND level = 'grid' AND geometry && ST_Expand({_POINT}, %(deg)s) "
              f"AND ST_DWithin(geometry::geography, {_POINT}::geography, %(r)s) ORDER BY d, code LIMIT %(n)s")
BATCH_SQL = ("SELECT p.i, c.code FROM unnest(%(xs)s::float8[], %(ys)s::float8[]) WITH ORDINALITY AS p(x, y, i) "
             "CROSS JOIN LATERAL ({covering}) c")
GRID_BATCH_SQL = BATCH_SQL.format(covering=_COVERING.format(level="grid", x="p.x", y="p.y"))
# Batches the same way: one statement, the town probed only for the points in no grid.
LOCATE_BATCH_SQL = BATCH_SQL.format(covering="({}) UNION ALL ({}) LIMIT 1".format(
    _COVERING.format(level="grid", x="p.x", y="p.y"), _COVERING.format(level="town", x="p.x", y="p.y")))


def libpq_url(engine: Engine) -> str:
    """The engine's database as a libpq connection URL (for psycopg itself)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class _Connections:
    """A few autocommit psycopg connections, reused last-in first-out (a warm one, its statements prepared)."""

    def __init__(self, url: str, size: int):
        import psycopg  # only the PostGIS locator needs it: the embedded stack never loads it (~10 MB)

        self.psycopg = psycopg
        self.url = url
        self.idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self.slots = threading.Semaphore(size)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection for one statement; a broken one is dropped (Unavailable is raised: transient)."""
        psycopg = self.psycopg
        self.slots.acquire()
        try:
            try:
                conn = self.idle.get_nowait()
            except queue.Empty:
                try:
                    conn = psycopg.connect(self.url, autocommit=True)
                    # A lookup is a few index probes; JIT-compiling its plan costs ~100 ms for nothing.
                    conn.execute("SET jit = off")
                except psycopg.OperationalError as exc:
                    raise Unavailable(f"PostGIS is unreachable: {exc}") from exc
            try:
                yield conn
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                conn.close()  # broken: the next statement gets a fresh connection
                raise Unavailable(f"PostGIS lookup failed: {exc}") from exc
            except BaseException:
                self.idle.put(conn)
                raise
            self.idle.put(conn)
        finally:
            self.slots.release()

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                self.idle.get_nowait().close()
            except queue.Empty:
                return


class PostgisLocator:
    """Locates points with PostGIS: ``ST_Covers`` on the GiST index, smallest code first, as ``GridIndex``."""

    def __init__(self, engine: Engine, version: str | None, answers: Answers | None = None, pool_size: int = 4):
        self.engine = engine
        if answers is None:
            with Session(engine) as session:
                meta = area_meta(session, version) if version else []
            answers = Answers(_Meta.of(meta), version)
        self.answers = answers
        self._connections = _Connections(libpq_url(engine), pool_size)
        # Points outside the towns' bounding box are unlocated without asking the database.
        self.extent = (0.0, 0.0, -1.0, -1.0)
        if self.version is not None:
            with self._connections.connection() as conn:
                row = conn.execute(EXTENT_SQL, {"v": self.version}).fetchone()
            if row and row[0] is not None:
                self.extent = tuple(float(v) for v in row)

    @property
    def version(self) -> str | None:
        """The grid set the answers come from."""
        return self.answers.version

    def answer(self, lon: float | None, lat: float | None) -> int:
        """The answer number of one point: one prepared statement, one round trip."""
        west, south, east, north = self.extent
        if not usable(lon, lat) or not (west <= lon <= east and south <= lat <= north):  # type: ignore[operator]
            return UNLOCATED
        with self._connections.connection() as conn:
            row = conn.execute(SINGLE_SQL, {"v": self.version, "x": lon, "y": lat}, prepare=True).fetchone()
        return self.answers.answer_of_code[row[0]] if row else UNLOCATED

    def answer_many(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """The answer number of each point: one statement for the whole batch."""
        lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
        out = np.zeros(len(lons), dtype=np.int64)
        if self.version is None or not len(lons):
            return out
        west, south, east, north = self.extent
        with np.errstate(invalid="ignore"):
            ok = np.flatnonzero(usable_many(lons, lats) & (lons >= west) & (lons <= east) & (lats >= south)
                                & (lats <= north))
        if not len(ok):
            return out
        answer_of = self.answers.answer_of_code
        with self._connections.connection() as conn:
            rows = conn.execute(LOCATE_BATCH_SQL, {"v": self.version, "xs": lons[ok].tolist(),
                                                   "ys": lats[ok].tolist()}, prepare=True).fetchall()
        if rows:
            at = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)) - 1
            out[ok[at]] = [answer_of[r[1]] for r in rows]
        return out

    def locate(self, lon: float | None, lat: float | None) -> Location:
        """Where one point falls: the covering grid, else the covering town, else unlocated."""
        return self.answers.location(self.answer(lon, lat))

    def nearby(self, lon: float, lat: float, radius_m: float, limit: int) -> list[Nearby]:
        """Grids within ``radius_m`` metres (on the spheroid), nearest first (ties: smallest code)."""
        if self.version is None or not usable(lon, lat):
            return []
        per_lon, per_lat = metres_per_degree(lat)
        params = {"v": self.version, "x": lon, "y": lat, "r": radius_m, "n": limit,
                  "deg": radius_m / min(per_lon, per_lat) * 1.01}
        with self._connections.connection() as conn:
            rows = conn.execute(NEARBY_SQL, params, prepare=True).fetchall()
        return [Nearby(self.answers.answer_of_code[code], round(float(d), 1)) for code, d in rows]

    def close(self) -> None:
        """Close the locator's own connections."""
        self._connections.close()


class _Meta:
    """An area's metadata as ``Answers`` reads it."""

    __slots__ = ("code", "name", "level", "parent_code")

    def __init__(self, code: str, name: str, level: str, parent_code: str | None):
        self.code, self.name, self.level, self.parent_code = code, name, level, parent_code

    @classmethod
    def of(cls, rows: list[tuple[str, str, str, str | None]]) -> list[_Meta]:
        """Metadata objects from (code, name, level, parent) rows."""
        return [cls(*r) for r in rows]
