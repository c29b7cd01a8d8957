"""Use cases of the risk map: load the counts and grids from the read model, run the statistics, shape, cache.

The statistics are computed city-wide (an ``area`` picks which grids or items are listed, so a drill-down sees
the same classes as the city view) and kept in memory per query (``_Answers``): an answer is served as it is for
``CACHE_TTL_S``, the age its HTTP answer allows a browser to reuse it; after that, up to ``STALE_S``, it is still
served at once while one background thread checks the version of the data (``service.data_version``) and computes
the next answer if they changed. On a live city the data change with every ticket event, and a view of a 90-day
city takes a second or two to compute (CPU of the console's default 12 weeks: recurrences 1.7 s, surges 0.8 s,
hot spots 0.55 s; bench/risk_views.py, 2026-12-06): keyed by the version, as before, every view of the wall
screen waited for them again; now a view is computed at most once a minute however often it is asked, and nobody
waits but its first asker.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import numpy as np

from gridgov_analytics.cube import service as cube
from gridgov_analytics.cube.projection import CHINA
from gridgov_analytics.grids import service as grids
from gridgov_analytics.risk import service
from gridgov_analytics.risk.adjacency import Adjacency, grid_adjacency
from gridgov_analytics.risk.emerging import CLASSES, NO_PATTERN, Emerging, emerging_hot_spots
from gridgov_analytics.risk.recurrence import Recurrence, recurrences
from gridgov_analytics.risk.schemas import (
    HotspotGrid,
    HotspotsRead,
    RecurrenceItem,
    RecurrencesRead,
    SurgeItem,
    SurgesRead,
)
from gridgov_analytics.risk.surges import surges_of_rows
from gridgov_analytics.trends.filters import refused
from gridgov_analytics.trends.handlers import Filters, local_today
from gridgov_common.db import Database

STEP_DAYS = 7
MIN_STEPS = 4
ALPHA = 0.05
NEIGHBOURHOOD_STEPS = 1
MIN_CASES = 3
BASELINE_DAYS = 28
SURGE_MIN_COUNT = 5
SURGE_Z_MIN = 3.0
NEWEST_TICKETS = 20
CACHE_TTL_S = 60.0  # an answer served as it is (the Cache-Control max-age of the risk answers)
STALE_S = 600.0  # up to this age, an older answer is served while the next one is computed in the background
CACHE_ENTRIES = 32

log = logging.getLogger(__name__)


@dataclass
class _Answer:
    at: float  # the clock's time of its computation (or of the last check that the data had not changed)
    version: Any
    value: Any


class _Answers:
    """The risk views' answers: fresh for ``CACHE_TTL_S``, then served while refreshed in the background until
    ``STALE_S``, then computed while the caller waits; least recently used out first (see the module docstring)."""

    def __init__(self, entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries = entries
        self._clock = clock
        self._items: OrderedDict[Any, _Answer] = OrderedDict()
        self._refreshing: set[Any] = set()
        self._lock = threading.Lock()

    def get(self, key: Any, version: Callable[[], Any], compute: Callable[[], Any]) -> Any:
        """The answer of ``key``: kept, kept while a thread refreshes it, or ``compute()`` now (``version()``: the
        data's version, asked before computing so that a change during the computation is seen next time)."""
        refresh = None
        with self._lock:
            hit = self._items.get(key)
            age = STALE_S + 1 if hit is None else self._clock() - hit.at
            if hit is not None and age <= STALE_S:
                self._items.move_to_end(key)
                if age > CACHE_TTL_S and key not in self._refreshing:
                    self._refreshing.add(key)
                    refresh = hit
                if refresh is None:
                    return hit.value
        if refresh is not None:
            threading.Thread(target=self._refresh, args=(key, refresh, version, compute), daemon=True,
                             name="risk-refresh").start()
            return refresh.value
        current = version()
        value = compute()
        self._store(key, current, value)
        return value

    def _refresh(self, key: Any, old: _Answer, version: Callable[[], Any], compute: Callable[[], Any]) -> None:
        try:
            current = version()
            self._store(key, current, old.value if current == old.version else compute())
        except Exception:  # the old answer stays until STALE_S; then a caller computes it and sees the error
            log.exception("risk: refreshing a cached view failed")
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _store(self, key: Any, version: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = _Answer(self._clock(), version, value)
            self._items.move_to_end(key)
            while len(self._items) > self._entries:
                self._items.popitem(last=False)


def _data_version(db: Database) -> Callable[[], tuple]:
    """A function giving the version of the data the answers are computed from (``service.data_version``)."""
    def read() -> tuple:
        with db.snapshot() as session:
            return service.data_version(session)
    return read


def _unchanging() -> None:
    """The version of what a key already names in full (the adjacency's key holds its grids' fingerprint)."""


_results = _Answers(CACHE_ENTRIES)
_adjacencies = _Answers(4)


def _end_of(day: date) -> datetime:
    """The instant a local day ends (China time)."""
    return datetime.combine(day + timedelta(days=1), dtime(0), tzinfo=CHINA)


# --- hot spots -----------------------------------------------------------------------------------------------------

def week_steps(start: date, end: date) -> list[date]:
    """The first days of the 7-day steps that end on ``end`` and begin on or after ``start`` (whole steps only)."""
    n = ((end - start).days + 1) // STEP_DAYS
    return [end - timedelta(days=STEP_DAYS * (n - k) - 1) for k in range(n)]


@dataclass(frozen=True)
class Hotspots:
    """An emerging hot spot analysis with the grids it was run on (their names and boundaries for the exports)."""

    read: HotspotsRead
    grids: dict[str, grids.GridRow]


@dataclass(frozen=True)
class _CityHotspots:
    grids: list[grids.GridRow]
    steps: list[date]
    counts: np.ndarray
    result: Emerging


def _adjacency(db: Database, rows: list[grids.GridRow]) -> Adjacency:
    """The queen adjacency of the grids in effect (kept while the grid set stays the same)."""
    fingerprint = hashlib.sha256("\n".join(f"{r.grid_code} {r.grid_set_version} {len(r.boundary_geojson or '')}"
                                           for r in rows).encode()).hexdigest()

    def build() -> Adjacency:
        import shapely

        geometries = shapely.from_geojson([r.boundary_geojson for r in rows], on_invalid="ignore")
        # a boundary that does not parse leaves its grid off the map rather than failing the whole view
        kept = [(r.grid_code, g) for r, g in zip(rows, geometries, strict=True) if g is not None and not g.is_empty]
        return grid_adjacency([code for code, _ in kept], [g for _, g in kept])

    return _adjacencies.get((db.url, fingerprint), _unchanging, build)


def _city_hotspots(db: Database, f: Filters, steps: list[date], end: date) -> _CityHotspots:
    with db.long_read() as session:
        known = [r for r in grids.current_grids(session) if r.boundary_geojson]
        codes, daily = cube.daily_series(session, start=steps[0], end=end, level="grid", area=None,
                                         categories=f.categories, channels=f.channels, measure="registered",
                                         per_category=False)
    adj = _adjacency(db, known)
    by_code = {r.grid_code: r for r in known}
    rows = [by_code[code] for code in adj.codes]
    index = {r.grid_code: i for i, r in enumerate(rows)}
    # whole 7-day steps from steps[0] to end: each grid's days summed per step
    weekly = daily.reshape(len(codes), len(steps), STEP_DAYS).sum(axis=2)
    matrix = np.zeros((len(rows), len(steps)), dtype=np.int64)
    for (code,), counts in zip(codes, weekly, strict=True):
        i = index.get(code)
        if i is not None:  # counts on grids no longer in effect (an older grid set) are not on today's map
            matrix[i] += counts
    result = emerging_hot_spots(matrix, adj, alpha=ALPHA, neighbourhood_steps=NEIGHBOURHOOD_STEPS)
    return _CityHotspots(rows, steps, matrix, result)


def _in_area(row: grids.GridRow, area: tuple[str, str] | None) -> bool:
    if area is None:
        return True
    level, code = area
    return {"grid": row.grid_code, "village": row.village_code, "town": row.town_code}[level] == code


_CLASS_ORDER = {name: i for i, name in enumerate(CLASSES)}


def hotspots(db: Database, f: Filters) -> Hotspots:
    """Emerging hot spots of the grids over the 7-day steps of the range ending on ``to`` (≥ 4 steps).

    Weeks before the first counted day are left out (empty weeks would make every later week look hot), and so
    are days after today."""
    with db.snapshot() as session:
        first = service.first_counted_day(session)
    # weeks still to come are empty, not calm: the steps end on `to` or today, whichever is first
    end = min(f.window.end, local_today())
    start = max(f.window.start, first) if first and first <= end else f.window.start
    days = max((end - start).days + 1, 0)
    steps = week_steps(start, end)
    if len(steps) < MIN_STEPS:
        since = f" (the data begin on {start.isoformat()})" if start > f.window.start else ""
        since_zh = f"（数据始于 {start.isoformat()}）" if start > f.window.start else ""
        raise refused("from", f"hot spots need at least {MIN_STEPS} weeks ({MIN_STEPS * STEP_DAYS} days) up to to; "
                              f"the range has {days} days{since}",
                      f"热点分析至少需要 {MIN_STEPS} 周（{MIN_STEPS * STEP_DAYS} 天），当前范围为 {days} 天{since_zh}")
    key = (db.url, "hotspots", steps[0], end, tuple(f.categories), tuple(f.channels))
    city: _CityHotspots = _results.get(key, _data_version(db), lambda: _city_hotspots(db, f, steps, end))
    items = []
    res = city.result
    for i, row in enumerate(city.grids):
        if not _in_area(row, f.area):
            continue
        significant = res.trend_p[i] < ALPHA
        trend = "up" if significant and res.trend_z[i] > 0 else "down" if significant and res.trend_z[i] < 0 \
            else "none"
        items.append(HotspotGrid(grid_code=row.grid_code, village_code=row.village_code, town_code=row.town_code,
                                 class_=str(res.classes[i]), count=int(city.counts[i].sum()),
                                 z_last=round(float(res.z[i, -1]), 3), trend=trend,
                                 trend_p=round(float(res.trend_p[i]), 4)))
    items.sort(key=lambda g: (g.class_ == NO_PATTERN, _CLASS_ORDER.get(g.class_, 99), -g.z_last, g.grid_code))
    summary: dict[str, int] = {}
    for item in items:
        summary[item.class_] = summary.get(item.class_, 0) + 1
    read = HotspotsRead(from_=f.window.start, to=f.window.end, steps=steps, alpha=ALPHA,
                        neighbourhood_steps=NEIGHBOURHOOD_STEPS, summary=summary, grids=items)
    return Hotspots(read, {r.grid_code: r for r in city.grids if _in_area(r, f.area)})


# --- recurrences ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Recurrences:
    found: list[Recurrence]  # best first
    places: dict[str, tuple[str, str]]  # the newest ticket of each → its village and town (where it is listed)


def _recurrences(db: Database, f: Filters) -> _Recurrences:
    with db.long_read() as session:
        facts = service.located_facts(session, start=f.window.start, end=f.window.end, area=f.area,
                                      categories=f.categories, channels=f.channels)
    found = recurrences(facts, min_cases=MIN_CASES, window_days=f.window.days, now=_end_of(f.window.end))
    newest = {rec.ticket_ids[-1] for rec in found}  # kept with the answer: not every ticket of the range
    return _Recurrences(found, {x.ticket_id: (x.village_code, x.town_code) for x in facts if x.ticket_id in newest})


def recurrence_list(db: Database, f: Filters, *, limit: int) -> RecurrencesRead:
    """The 每月一题 candidates of the range: grids and categories with cases again and again, best first."""
    key = (db.url, "recurrences", f.window, f.area, tuple(f.categories), tuple(f.channels))
    city: _Recurrences = _results.get(key, _data_version(db), lambda: _recurrences(db, f))
    items = []
    for rec in city.found[:limit]:  # a 90-day city has ~16,000 candidates; an answer shows the first few
        village, town = city.places[rec.ticket_ids[-1]]
        items.append(RecurrenceItem(grid_code=rec.grid_code, village_code=village, town_code=town,
                                    category_code=rec.category_code, count=rec.count,
                                    after_closure=rec.after_closure, first_at=rec.first_at, last_at=rec.last_at,
                                    ticket_ids=list(reversed(rec.ticket_ids[-NEWEST_TICKETS:])), score=rec.score))
    return RecurrencesRead(from_=f.window.start, to=f.window.end, min_cases=MIN_CASES, items=items)


# --- surges --------------------------------------------------------------------------------------------------------

def _surge_items(db: Database, f: Filters, level: str) -> list[SurgeItem]:
    first = f.window.start - timedelta(days=BASELINE_DAYS)
    with db.long_read() as session:
        counted = service.first_counted_day(session)
        # a baseline reaching before the first counted day would read "no data" as "no cases": start after it
        first = max(first, counted) if counted else first
        keys, matrix = cube.daily_series(session, start=first, end=f.window.end, level=level, area=f.area,
                                         categories=f.categories, channels=f.channels, measure="registered")
    days = (f.window.end - first).days + 1
    if days <= BASELINE_DAYS:
        return []
    found = surges_of_rows(keys, matrix, baseline_days=BASELINE_DAYS, min_count=SURGE_MIN_COUNT,
                           z_min=SURGE_Z_MIN)
    return [SurgeItem(level=level, code=s.key[0], category_code=s.key[1], day=first + timedelta(days=s.day_index),
                      count=s.count, expected=round(s.expected, 2), ratio=round(s.ratio, 2), z=round(s.z, 2))
            for s in found]


def surge_list(db: Database, f: Filters, *, level: str, limit: int) -> SurgesRead:
    """The surges of the range at a level (each day against its 28 days before), strongest first."""
    key = (db.url, "surges", level, f.window, f.area, tuple(f.categories), tuple(f.channels))
    items = _results.get(key, _data_version(db), lambda: _surge_items(db, f, level))
    return SurgesRead(from_=f.window.start, to=f.window.end, level=level, baseline_days=BASELINE_DAYS,
                      items=items[:limit])
