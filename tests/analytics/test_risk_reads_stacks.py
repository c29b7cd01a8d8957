"""The risk map's reads on both databases (SQLite, and PostgreSQL, whose driver hands back dates and aware times
where SQLite hands back text): the daily series the surges read give the same sums as the cube's counts, and the
surges, recurrences and hot spots found over a small history loaded by the read model's own loader."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from gridgov_analytics.cube import service as cube
from gridgov_analytics.cube.backfill import load_history
from gridgov_analytics.grids import service as grids
from gridgov_analytics.risk import handlers
from gridgov_analytics.tables import metadata
from gridgov_analytics.trends.filters import Window
from gridgov_analytics.trends.handlers import Filters
from gridgov_common.db import Database
from gridgov_common.events.grids import GridPublished
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.migrations import upgrade_to_head
from services.analytics.tests.support import TOWN, VILLAGE, ticket_envelope

CN = timezone(timedelta(hours=8))
FIRST, LAST = date(2026, 10, 5), date(2026, 11, 29)  # Monday .. Sunday: 8 whole weeks
GRIDS = [f"{VILLAGE}{k:03d}" for k in range(1, 5)]  # one village's four grids
SURGE_DAY = date(2026, 11, 25)


def _registered(ticket_id: str, grid: str, at: datetime, category: str = "01001") -> tuple[str, TicketEvent]:
    """A ticket registered as dispatch publishes it (the analytics tests' own builder), as the loader takes it."""
    envelope = ticket_envelope("register", ticket_id, at, grid=grid, category=category)
    return envelope.type, TicketEvent.model_validate(envelope.payload)


def _history() -> list[tuple[str, TicketEvent]]:
    events = []
    for day in range((LAST - FIRST).days + 1):
        for g, grid in enumerate(GRIDS):
            if (day + g) % 3 == 0:  # a case every third day in every grid, staggered
                at = datetime.combine(FIRST + timedelta(days=day), datetime.min.time(), tzinfo=CN) + timedelta(hours=9)
                events.append(_registered(f"T{day}-{g}", grid, at))
    # a surge: 9 cases of one code in the first grid on 25 November; a drain back again and again in the second
    events += [_registered(f"S{k}", GRIDS[0], datetime.combine(SURGE_DAY, datetime.min.time(), tzinfo=CN)
                           + timedelta(hours=8 + k), "02001") for k in range(9)]
    events += [_registered(f"D{k}", GRIDS[1], datetime(2026, 11, 2 + 7 * k, 9, tzinfo=CN), "04002") for k in range(3)]
    return sorted(events, key=lambda e: e[1].occurred_at)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def db(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'analytics.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    database = Database(url, metadata, "analytics")
    upgrade_to_head(database, "gridgov_analytics")
    with database.session() as session:
        for k, grid in enumerate(GRIDS):
            x = 113.60 + k * 0.01
            grids.store_grid(session, GridPublished(
                grid_code=grid, grid_name=f"测试第{k + 1}网格", village_code=VILLAGE, town_code=TOWN,
                grid_set_version="1", published_at=datetime(2026, 1, 1, tzinfo=UTC), boundary={
                    "type": "Polygon",
                    "coordinates": [[[x, 23.0], [x + 0.01, 23.0], [x + 0.01, 23.01], [x, 23.01], [x, 23.0]]]}))
        session.commit()
    load_history(database, _history())
    try:
        yield database
    finally:
        database.engine.dispose()


def test_daily_series_hold_the_counts_sums(db):
    with db.snapshot() as session:
        keys, matrix = cube.daily_series(session, start=FIRST, end=LAST, level="grid", area=None, categories=None,
                                         channels=None, measure="registered")
        rows = cube.counts(session, start=FIRST, end=LAST, bucket="day", level="grid", measures=["registered"],
                           by=("category_code",))
    from_counts = {(r.area, r.category_code, (r.day - FIRST).days): r.n for r in rows}
    from_series = {(*key, day): int(matrix[i, day]) for i, key in enumerate(keys)
                   for day in range(matrix.shape[1]) if matrix[i, day]}
    assert from_series == from_counts and matrix.shape[1] == (LAST - FIRST).days + 1
    assert from_series[(GRIDS[0], "02001", (SURGE_DAY - FIRST).days)] == 9
    with db.snapshot() as session:  # the hot spots' read: one series per grid, its categories summed
        grid_keys, per_grid = cube.daily_series(session, start=FIRST, end=LAST, level="grid", area=None,
                                                categories=None, channels=None, measure="registered",
                                                per_category=False)
    summed: dict[tuple[str, int], int] = {}
    for (grid, _category, day), n in from_counts.items():
        summed[(grid, day)] = summed.get((grid, day), 0) + n
    assert {(key[0], day): int(per_grid[i, day]) for i, key in enumerate(grid_keys)
            for day in range(per_grid.shape[1]) if per_grid[i, day]} == summed
    assert all(len(key) == 1 for key in grid_keys)


def test_surges_recurrences_and_hot_spots_are_found(db):
    f = Filters(window=Window(FIRST, LAST), area=None, categories=[], channels=[])
    surges = handlers._surge_items(db, f, "grid")
    assert [(s.code, s.category_code, s.day, s.count) for s in surges] == [(GRIDS[0], "02001", SURGE_DAY, 9)]
    recurrences = handlers.recurrence_list(db, f, limit=1000).items
    # what the answer cache keeps: the candidates and the place of each one's newest ticket, not every ticket's
    city = handlers._recurrences(db, f)
    assert set(city.places) == {rec.ticket_ids[-1] for rec in city.found} and len(city.found) == len(recurrences)
    drain = [r for r in recurrences if r.category_code == "04002"]
    assert len(drain) == 1 and drain[0].grid_code == GRIDS[1] and drain[0].count == 3
    found = handlers.hotspots(db, f)
    assert {g.grid_code for g in found.read.grids} == set(GRIDS)
