"""Point → grid lookup in PostGIS, beside the in-memory ``GridIndex`` (``grids.index``) and answering the same.

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
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gridgov_common.errors import Unavailable
from gridgov_common.events.reports import Location
from gridgov_common.geo import metres_per_degree
from gridgov_grid_registry.grids.index import UNLOCATED, Answers, Nearby, usable, usable_many
from gridgov_grid_registry.grids.service import area_meta

if TYPE_CHECKING:
    import psycopg


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
