"""Recurrence (高发): min cases, the window, after-closure counting and the order of candidates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gridgov_analytics.risk.recurrence import Case, recurrences

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def day(n: int, hour: int = 9) -> datetime:
    return NOW - timedelta(days=n) + timedelta(hours=hour - 24)


def test_recurrence_after_closure_counts_cases_that_came_back():
    cases = [
        Case("t1", "g1", "0101", day(60), closed_at=day(58)),  # closed two days later
        Case("t2", "g1", "0101", day(50), closed_at=day(40)),  # came back after t1 was closed
        Case("t3", "g1", "0101", day(45)),  # t1 closed before: came back again
        Case("t4", "g1", "0101", day(59)),  # registered before t1 was closed: a duplicate wave, not a return
    ]
    [rec] = recurrences(cases, now=NOW)
    assert (rec.grid_code, rec.category_code, rec.count, rec.after_closure) == ("g1", "0101", 4, 2)
    assert rec.ticket_ids == ("t1", "t4", "t2", "t3")
    assert (rec.first_at, rec.last_at) == (day(60), day(45))
    assert rec.score == 6


def test_recurrence_needs_min_cases_in_the_window_and_a_grid():
    cases = [Case("a", "g1", "0101", day(100)), Case("b", "g1", "0101", day(10)), Case("c", "g1", "0101", day(5)),
             Case("d", "", "0101", day(4)), Case("e", "g2", "0202", day(3))]
    assert recurrences(cases, now=NOW) == []  # 'a' is outside 90 days; 'd' has no grid
    [rec] = recurrences(cases, now=NOW, window_days=120)
    assert rec.count == 3 and rec.after_closure == 0


def test_recurrences_rank_chronic_problems_first():
    chronic = [Case(f"c{i}", "g1", "0101", day(80 - 10 * i), closed_at=day(79 - 10 * i)) for i in range(4)]
    burst = [Case(f"b{i}", "g2", "0101", day(3, hour=9 + i)) for i in range(5)]
    ranked = recurrences(chronic + burst, now=NOW)
    assert [r.grid_code for r in ranked] == ["g1", "g2"]  # 4 cases, 3 after closure, beat 5 open at once
    assert ranked[0].after_closure == 3 and ranked[1].after_closure == 0
