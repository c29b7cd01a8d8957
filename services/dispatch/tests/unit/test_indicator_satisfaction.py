"""满意率 (satisfaction rate) in the indicator formulas: ratings answered in the period, grouped like the rest."""

from datetime import UTC, datetime

from gridgov_dispatch.indicators.formulas import CHINA_TIME, CaseFacts, evaluate, parse_period

NOV = parse_period("2026-11")
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=CHINA_TIME)


def rated(tid: str, *ratings: tuple[datetime, int], department="water", town="441900001") -> CaseFacts:
    """A ticket closed before November whose only November activity is its ratings."""
    return CaseFacts(ticket_id=tid, state="closed", department=department, first_department=department,
                     town_code=town, closed_at=at(10, 30), ratings=ratings)


def test_rate_satisfaction_counts_four_and_five_over_ratings_answered_in_period():
    facts = [rated("a", (at(11, 2), 5), (at(11, 3), 4)), rated("b", (at(11, 4), 3)), rated("c", (at(11, 5), 1))]
    _, city = evaluate(facts, NOV, NOW, "department")
    assert (city.satisfaction_rate.numerator, city.satisfaction_rate.denominator) == (2, 4)
    assert city.satisfaction_rate.value == 0.5


def test_rate_satisfaction_ignores_ratings_outside_period_and_is_null_without_any():
    facts = [rated("a", (at(10, 31), 5), (at(12, 1), 1))]
    groups, city = evaluate(facts, NOV, NOW, "department")
    assert city.satisfaction_rate is None and groups == {}


def test_rate_satisfaction_grouped_by_department_and_town():
    facts = [rated("a", (at(11, 2), 5), department="water", town="t1"),
             rated("b", (at(11, 2), 2), department="urban", town="t1"),
             rated("c", (at(11, 2), 4), department=None, town=None)]
    by_dept, _ = evaluate(facts, NOV, NOW, "department")
    assert {k: (v.satisfaction_rate.numerator, v.satisfaction_rate.denominator) for k, v in by_dept.items()} == {
        "water": (1, 1), "urban": (0, 1), "none": (1, 1)}
    by_town, _ = evaluate(facts, NOV, NOW, "town")
    assert {k: v.satisfaction_rate.denominator for k, v in by_town.items()} == {"t1": 2, "none": 1}


def test_rate_satisfaction_of_group_without_ratings_is_null_beside_rated_one():
    unrated = CaseFacts(ticket_id="d", state="closed", department="urban", first_department="urban",
                        closed_at=at(11, 6), dispatched_at=at(11, 1), handled_at=(at(11, 2),))
    groups, city = evaluate([rated("a", (at(11, 2), 5)), unrated], NOV, NOW, "department")
    assert groups["urban"].satisfaction_rate is None and groups["urban"].closure_rate.numerator == 1
    assert groups["water"].satisfaction_rate.value == 1.0 and city.satisfaction_rate.denominator == 1
