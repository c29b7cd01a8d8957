"""The ticket list's filters (``tickets.service.list_page``) on SQLite and PostgreSQL: several states at once, the
open or the closed tickets, within the caller's scope, oldest first, and the count of all that match."""

from datetime import UTC, datetime, timedelta

import pytest

from gridgov_common.db import Database
from gridgov_common.migrations import upgrade_to_head
from gridgov_dispatch.app import MIGRATIONS
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.tables import metadata
from gridgov_dispatch.tickets import service as tickets
from gridgov_dispatch.tickets.models import Ticket

START = datetime(2026, 9, 1, tzinfo=UTC)
# (department, state) of each ticket, in the order they were registered
MADE = [("water", "closed"), ("water", "dispatched"), ("urban-management", "claimed"), ("water", "closed"),
        ("water", "claimed"), ("water", "handled"), ("urban-management", "closed"), ("water", "returned")]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'dispatch.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    database = Database(url, metadata, "dispatch")
    upgrade_to_head(database, MIGRATIONS)
    departments.seed(database)
    with database.session() as session:
        for i, (department, state) in enumerate(MADE):
            at = START + timedelta(hours=i)
            session.add(Ticket(id=f"t{i}", report_id=f"r{i}", category_code="04002", description="水管破裂",
                               reporter_id="gw-1", department=department, grid_code="441900001001001",
                               village_code="441900001001", town_code="441900001", location_status="located",
                               state=state, version=2, created_at=at, updated_at=at,
                               closed_at=at if state == "closed" else None))
        session.commit()
    yield database
    database.engine.dispose()


CITY = tickets.ListScope()  # the command centre's: every ticket


def listed(db, scope=CITY, **filters) -> tuple[list[str], int]:
    """The ids the list gives in two pages (3, then the rest) and the count it says."""
    with db.session() as session:
        rows, total = tickets.list_page(session, scope, limit=3, **filters)
        rest, _ = tickets.list_page(session, scope, limit=50, offset=3, **filters)
    return [t.id for t in rows + rest], total


def test_several_states_open_and_closed_oldest_first_with_their_count(db):
    todo = ["dispatched", "claimed", "returned", "suspended", "extension_requested"]
    assert listed(db, state=todo) == (["t1", "t2", "t4", "t7"], 4)
    assert listed(db, state="claimed") == (["t2", "t4"], 2)
    assert listed(db, state=["claimed"]) == (["t2", "t4"], 2)
    assert listed(db, open_tickets=True) == (["t1", "t2", "t4", "t5", "t7"], 5)
    assert listed(db, open_tickets=False) == (["t0", "t3", "t6"], 3)
    assert listed(db, state=["closed", "handled"]) == (["t0", "t3", "t5", "t6"], 4)
    assert listed(db, state=["closed", "handled"], open_tickets=True) == (["t5"], 1)
    assert listed(db, state="closed", open_tickets=True) == ([], 0)


def test_the_callers_scope_holds_for_every_filter(db):
    water = tickets.ListScope(department="water")
    assert listed(db, water, state=["dispatched", "claimed", "returned"]) == (["t1", "t4", "t7"], 3)
    assert listed(db, water, open_tickets=True) == (["t1", "t4", "t5", "t7"], 4)
    assert listed(db, tickets.ListScope(department="urban-management"), open_tickets=True) == (["t2"], 1)
