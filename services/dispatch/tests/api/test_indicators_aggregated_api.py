"""The indicators worked out in SQL (``service.evaluate_period``, what ``GET /v1/indicators`` answers) equal the
formulas on each ticket's facts (``case_facts`` + ``formulas.evaluate``, the reference), on SQLite and PostgreSQL.

The tickets are random and awkward on purpose: times with microseconds and on the period's edges, handlings before
the first dispatch, several dispatches, returns and escalations before the period, open tickets whose deadline
lapsed in it (or lapses after ``now``), two ratings on one ticket, no department or town, an empty first
department."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from gridgov_dispatch.departments.models import Department
from gridgov_dispatch.feedback.models import TicketRating
from gridgov_dispatch.indicators import formulas, service
from gridgov_dispatch.tickets.models import Ticket, TicketTransition

PERIOD = formulas.parse_period("2026-11")
NOW = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)  # inside the period: deadlines after it have not lapsed yet
ACTIONS = ("dispatch", "claim", "handle", "verify", "rework", "return", "escalate", "warn", "close")


def _moment(rng: random.Random) -> datetime:
    """A moment around November (China time), sometimes exactly on an edge of the period."""
    if rng.random() < 0.08:
        return rng.choice([PERIOD.start, PERIOD.end, PERIOD.start - timedelta(microseconds=1),
                           PERIOD.end - timedelta(microseconds=1), NOW])
    return PERIOD.start + timedelta(days=rng.uniform(-12, 42)) + timedelta(microseconds=rng.randrange(10**6))


def _random_history(rng: random.Random, departments: list[str], n: int) -> tuple[list, list, list]:
    tickets, transitions, ratings = [], [], []
    for i in range(n):
        tid = f"00000000-0000-4000-8000-{i:012d}"
        acts = sorted((_moment(rng), rng.choice(ACTIONS)) for _ in range(rng.randrange(0, 9)))
        state = rng.choice(("closed", "closed", "dispatched", "handling", "verifying", "registered"))
        department = rng.choice([*departments, None])
        tickets.append({
            "id": tid, "report_id": f"00000000-0000-4000-9000-{i:012d}", "category_code": "01002",
            "description": "路边暴露垃圾", "reporter_id": "gw-1", "location_status": "located", "state": state,
            "created_at": PERIOD.start - timedelta(days=20), "updated_at": NOW,
            "department": department,
            "first_department": rng.choice([department, rng.choice(departments), None]),
            "town_code": rng.choice(["441900001", "441900006", None]),
            "deadline": _moment(rng) if rng.random() < 0.8 else None,
            "closed_at": _moment(rng) if state == "closed" and rng.random() < 0.9 else None,
            "sla_level": rng.choice(("green", "yellow", "red")), "return_count": rng.choice((0, 0, 0, 1, 2))})
        for seq, (at, action) in enumerate(acts, start=1):
            transitions.append({"ticket_id": tid, "seq": seq, "action": action, "to_state": state,
                                "actor_id": "someone", "actor_role": "dept_dispatcher",
                                "event_id": f"00000000-0000-4000-a000-{i:06d}{seq:06d}", "at": at})
        for k in range(rng.choice((0, 0, 1, 2))):
            ratings.append({"followup_id": f"00000000-0000-4000-b000-{i:06d}{k:06d}", "ticket_id": tid,
                            "reporter_id": "citizen-1", "solved": True, "satisfaction": rng.randint(1, 5),
                            "answered_at": _moment(rng)})
    return tickets, transitions, ratings


def _check_equal(db) -> None:
    with db.session() as session:
        departments = sorted(session.exec(select(Department.code)).scalars().all())[:6]
    tickets, transitions, ratings = _random_history(random.Random(15), departments, 600)
    with db.engine.begin() as conn:
        conn.execute(insert(Ticket.__table__), tickets)
        conn.execute(insert(TicketTransition.__table__), transitions)
        conn.execute(insert(TicketRating.__table__), ratings)
    for period in (PERIOD, formulas.parse_period("2026-W47"), formulas.parse_period("2026-11-20")):
        for group_by in ("department", "town"):
            with db.session() as session:
                reference = formulas.evaluate(service.case_facts(session, period, NOW), period, NOW, group_by)
                aggregated = service.evaluate_period(session, period, NOW, group_by)
            # exact, the mean handling hours too: both add whole microseconds, in whatever order
            assert aggregated == reference, (period.label, group_by)
    groups, city = reference
    assert city.handled_count > 0 and city.closure_rate.denominator > 0 and city.satisfaction_rate is not None


def test_indicators_in_sql_equal_the_formulas_on_sqlite(stack):
    _check_equal(stack.runtime.db)


def test_indicators_in_sql_equal_the_formulas_on_postgresql(pg_stack):
    _check_equal(pg_stack.runtime.db)


def _check_idle_ticket_opens_no_group(db) -> None:
    """A ticket of the period (a return in it) that adds to no count, alone in its town and department: neither
    group appears, in SQL as in the formulas, while a ticket beside it that did something still counts."""
    with db.session() as session:
        departments = sorted(session.exec(select(Department.code)).scalars().all())[:2]
    tickets, transitions, _ = _random_history(random.Random(3), departments, 2)
    for i, t in enumerate(tickets):
        t.update(state="handling", closed_at=None, deadline=NOW + timedelta(days=30), return_count=0,
                 town_code=f"44190009{i}", department=departments[i], first_department=None)
    transitions[:] = [{"ticket_id": tickets[0]["id"], "seq": 1, "action": "return", "to_state": "handling",
                       "actor_id": "someone", "actor_role": "dept_dispatcher",
                       "event_id": "00000000-0000-4000-a000-000000000001", "at": PERIOD.start + timedelta(days=2)},
                      {"ticket_id": tickets[1]["id"], "seq": 1, "action": "handle", "to_state": "handling",
                       "actor_id": "someone", "actor_role": "dept_dispatcher",
                       "event_id": "00000000-0000-4000-a000-000000000002", "at": PERIOD.start + timedelta(days=3)}]
    with db.engine.begin() as conn:
        conn.execute(insert(Ticket.__table__), tickets)
        conn.execute(insert(TicketTransition.__table__), transitions)
    for group_by, (idle, busy) in (("town", ("441900090", "441900091")), ("department", tuple(departments))):
        with db.session() as session:
            reference = formulas.evaluate(service.case_facts(session, PERIOD, NOW), PERIOD, NOW, group_by)
            aggregated = service.evaluate_period(session, PERIOD, NOW, group_by)
        assert aggregated == reference
        assert idle not in aggregated[0] and aggregated[0][busy].rework_rate.denominator == 1, group_by


def test_idle_ticket_opens_no_group_on_sqlite(stack):
    _check_idle_ticket_opens_no_group(stack.runtime.db)


def test_idle_ticket_opens_no_group_on_postgresql(pg_stack):
    _check_idle_ticket_opens_no_group(pg_stack.runtime.db)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_microseconds_between_is_exact(dialect):
    # a fraction just under a whole second must not round up (SQLite's strftime('%s') rounds 46.9998 s to 47)
    earlier = datetime(2026, 11, 3, 3, 13, 50, tzinfo=UTC)
    later = datetime(2026, 11, 3, 18, 28, 46, 999825, tzinfo=UTC)
    expected = (later - earlier) // timedelta(microseconds=1)
    if dialect == "sqlite":
        import sqlite3

        import sqlalchemy as sa

        expr = service._microseconds_between("sqlite", sa.literal_column("a"), sa.literal_column("b"))
        sql = f"SELECT {expr.compile(compile_kwargs={'literal_binds': True})} FROM (SELECT ? AS a, ? AS b)"
        row = sqlite3.connect(":memory:").execute(sql, (earlier.strftime("%Y-%m-%d %H:%M:%S.%f"),
                                                        later.strftime("%Y-%m-%d %H:%M:%S.%f"))).fetchone()
        assert row[0] == expected
    else:
        assert expected == 54_896_999_825  # PostgreSQL's epoch of an interval is exact; checked in the stack test
