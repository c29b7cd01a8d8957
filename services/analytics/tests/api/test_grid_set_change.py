"""A new grid set moves a grid to another village: the history stays on the codes it was recorded in (issue #15,
"Bad input"), and the old village stays a known area of the trends API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from gridgov_analytics.cube import backfill
from gridgov_analytics.cube import service as cube
from gridgov_analytics.grids import service as grids
from gridgov_analytics.tables import metadata
from gridgov_common.db import Database
from gridgov_common.events.grids import GridPublished
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.migrations import upgrade_to_head

CN = timezone(timedelta(hours=8))
TOWN, OLD_VILLAGE, NEW_VILLAGE, GRID = "441900009", "441900009001", "441900009002", "441900009001007"
SQUARE = {"type": "Polygon", "coordinates": [[[113.7, 23.0], [113.71, 23.0], [113.71, 23.01], [113.7, 23.0]]]}


def _registered(ticket: str, day: int) -> tuple[str, TicketEvent]:
    at = datetime(2026, 10, day, 10, tzinfo=CN)
    return "ticket.registered", TicketEvent(
        ticket_id=ticket, report_id=f"R-{ticket}", action="register", from_state=None, to_state="registered",
        category_code="04002", department="water", grid_code=GRID, village_code=OLD_VILLAGE, town_code=TOWN,
        reporter_id="citizen-1", deadline=None, actor_id="dispatch", actor_role="system", occurred_at=at,
        channel="hotline")


def _grid(village: str, version: str, at: datetime) -> GridPublished:
    return GridPublished(grid_code=GRID, grid_name="第7网格", village_code=village, town_code=TOWN,
                         grid_set_version=version, boundary=SQUARE, published_at=at)


def _registered_in(session, village: str) -> int:
    rows = cube.counts(session, start=date(2026, 10, 1), end=date(2026, 10, 31), level="village",
                       area=("village", village), measures=["registered"])
    return sum(r.n for r in rows)


def test_history_stays_on_the_village_it_was_recorded_in_after_a_new_grid_set(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'analytics.db'}", metadata, "analytics")
    upgrade_to_head(db, "gridgov_analytics")
    with db.session() as session:
        grids.store_grid(session, _grid(OLD_VILLAGE, "1", datetime(2026, 1, 1, tzinfo=UTC)))
        session.commit()
    backfill.load_history(db, [_registered("H1", 5), _registered("H2", 6), _registered("H3", 6)])
    with db.session() as session:
        assert _registered_in(session, OLD_VILLAGE) == 3
        # grid set 2 moves the grid to another village
        grids.store_grid(session, _grid(NEW_VILLAGE, "2", datetime(2026, 11, 1, tzinfo=UTC)))
        session.commit()
    with db.session() as session:
        assert [g.village_code for g in grids.current_grids(session)] == [NEW_VILLAGE]
        assert _registered_in(session, OLD_VILLAGE) == 3  # not moved with the grid
        assert _registered_in(session, NEW_VILLAGE) == 0
        # the old village is still an area the API knows (from the counts), so its history can be asked for
        assert cube.knows_area(session, "village", OLD_VILLAGE)
        assert not grids.knows_area(session, "village", OLD_VILLAGE)
