"""The plans SQLite makes for the board's queries and the merge candidates' look-up, on a migrated database.

SQLite keeps no statistics here, so a plan is decided by the statement's shape alone and does not change as the
city's past grows: a look-up that walks every ticket of a category, or an open-ticket count that reads each row
to test ``state != ?``, is fast in a test and slow with 200,000 past tickets. Each statement is explained as the
planner sees it before any value is known (parameters NULL, as PostgreSQL's generic plan sees ``$1``): a partial
index of the open tickets (``state != 'closed'``) can then be used only if the statement writes that very
condition, and the merge look-up must bound its range by the time window, not only by the category.
"""

from datetime import UTC, datetime, timedelta

from gridgov_dispatch.sla import service as sla
from gridgov_dispatch.tickets import service as tickets
from tests.support.sql_plans import captured, is_select, plan


def _selects(db, work) -> list[str]:
    """The SELECT statements ``work(session)`` ran against ``db``."""
    with captured(db.engine, is_select) as seen, db.session() as session:
        work(session)
    return [statement for statement, _ in seen]


def test_merge_candidates_are_searched_by_category_and_time(stack):
    stack.ticket_for(category="04002")
    db = stack.runtime.db
    statements = _selects(db, lambda s: tickets.open_cases(s, "04002", datetime.now(UTC) - timedelta(hours=2)))
    assert len(statements) == 1
    found = plan(db.engine, statements[0])
    assert "ix_ticket_category_created_at (category_code=? AND created_at>?)" in found, found


def test_board_queries_use_the_open_tickets_partial_indexes(stack):
    stack.ticket_for(category="04002")
    db = stack.runtime.db
    now = datetime.now(UTC)

    def board(session):
        sla.overdue_count(session, now)
        sla.open_counts_by(session, "department")
        sla.open_counts_by(session, "town")
        sla.sla_level_counts(session)
        sla.open_tickets(session, 50)
        sla.breaches(session, department=None, town=None, limit=50, offset=0)
        for level in ("town", "village", "grid"):
            sla.area_counts(session, level)

    statements = _selects(db, board)
    assert len(statements) == 10
    for statement in statements:
        found = plan(db.engine, statement)
        assert "ix_ticket_open_" in found, f"{found}\n{statement}"


def test_returned_queue_reads_only_the_return_transitions(stack):
    stack.ticket_for(category="04002")
    db = stack.runtime.db
    statements = _selects(db, lambda s: sla.returned_queue(s, limit=20, offset=0))
    plans = [plan(db.engine, s) for s in statements if "ticket_transition" in s]
    assert plans and all("ix_ticket_transition_returns" in p for p in plans), plans


def test_overdue_list_reads_the_open_tickets_not_every_ticket(stack):
    stack.ticket_for(category="04002")
    db = stack.runtime.db
    statements = _selects(db, lambda s: [tickets.list_page(s, scope, overdue=True, limit=50)
                                          for scope in (tickets.ListScope(), tickets.ListScope(department="water"))])
    assert len(statements) == 4  # a count and a page, city-wide and for one department
    for statement in statements:
        found = plan(db.engine, statement)
        assert "ix_ticket_open_" in found and "ix_ticket_created_at_id" not in found, f"{found}\n{statement}"


TODO = ("dispatched", "claimed", "extension_requested", "suspended", "returned")  # the department's 待办


def test_open_and_several_state_lists_read_the_open_tickets_not_every_ticket(stack):
    stack.ticket_for(category="04002")
    db = stack.runtime.db
    department = tickets.ListScope(department="water")

    def lists(session):
        tickets.list_page(session, department, state=TODO, limit=500)  # the department's 待办
        tickets.list_page(session, tickets.ListScope(), open_tickets=True, limit=500)  # the board's 在办
        tickets.list_page(session, tickets.ListScope(), open_tickets=True, department="water", limit=500)
        tickets.list_page(session, tickets.ListScope(), open_tickets=True, village="441900001001", limit=500)

    statements = _selects(db, lists)
    assert len(statements) == 8  # a count and a page each
    for i, statement in enumerate(statements):
        found = plan(db.engine, statement)
        if i == 2:  # the city-wide count: SQLite counts the state index's entries, never reading a ticket
            assert found == "SCAN ticket USING COVERING INDEX ix_ticket_state", found
            continue
        # never by an index of every ticket in created_at order (the walk that grows with the closed past)
        assert "ix_ticket_open_" in found and "created_at" not in found, f"{found}\n{statement}"


def test_one_state_is_still_read_by_its_state_index_in_order(stack):
    stack.ticket_for(category="04002")
    db = stack.runtime.db
    statements = _selects(db, lambda s: tickets.list_page(s, tickets.ListScope(), state="registered", limit=500))
    found = plan(db.engine, statements[-1])
    assert "ix_ticket_state_created_at (state=?)" in found and "TEMP B-TREE" not in found, found


def test_list_by_source_reads_the_channel_index_not_every_ticket(stack):
    # 物联感知 alone: a few tickets among a city's 200,000 were found by walking the whole past newest first (176 ms
    # on the demo's copy; 0.7 ms by this index, bench/results/ticket_list.json).
    stack.ticket_for(category="04002")
    db = stack.runtime.db
    statements = _selects(db, lambda s: [tickets.list_page(s, tickets.ListScope(), channel="iot", order=order,
                                                           limit=50) for order in ("newest", "oldest")])
    assert len(statements) == 4  # a count and a page, newest and oldest first
    for statement in statements:
        found = plan(db.engine, statement)
        assert "ix_ticket_channel_created_at (channel=?)" in found, f"{found}\n{statement}"
