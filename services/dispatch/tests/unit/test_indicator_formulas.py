"""The indicator formulas (综合评价) on plain facts: periods, each rate, null denominators, on-time logic, groups."""

from datetime import UTC, datetime, timedelta

import pytest

from gridgov_common.errors import ValidationFailed
from gridgov_dispatch.indicators.formulas import (
    CHINA_TIME,
    CaseFacts,
    Tally,
    evaluate,
    indicators,
    parse_period,
    rate,
)

NOV = parse_period("2026-11")
NOW = datetime(2026, 12, 5, tzinfo=UTC)  # after November: every November deadline has passed


def at(day: int, hour: int = 10) -> datetime:
    """A November 2026 moment, China time."""
    return datetime(2026, 11, day, hour, tzinfo=CHINA_TIME)


NOV_20 = at(20)


def closed_case(tid="t", *, department="water", town="441900001", escalated=(), closed=NOV_20, **kw) -> CaseFacts:
    """A ticket dispatched, handled, verified and closed in November."""
    return CaseFacts(ticket_id=tid, state="closed", department=department, first_department=department,
                     town_code=town, closed_at=closed, dispatched_at=at(2), handled_at=(at(3),),
                     escalated_at=escalated, **kw)


def city(*facts, group_by="department", period=NOV, now=NOW):
    return evaluate(facts, period, now, group_by)[1]


def test_parse_period_month_covers_china_calendar_month():
    assert (NOV.start, NOV.end) == (datetime(2026, 11, 1, tzinfo=CHINA_TIME), datetime(2026, 12, 1, tzinfo=CHINA_TIME))
    assert NOV.start == datetime(2026, 10, 31, 16, tzinfo=UTC)


def test_parse_period_december_ends_at_new_year():
    assert parse_period("2026-12").end == datetime(2027, 1, 1, tzinfo=CHINA_TIME)


def test_parse_period_iso_week_starts_monday():
    week = parse_period("2026-W48")
    assert (week.start, week.end) == (datetime(2026, 11, 23, tzinfo=CHINA_TIME),
                                      datetime(2026, 11, 30, tzinfo=CHINA_TIME))


def test_parse_period_day_and_range_include_last_day():
    assert parse_period("2026-11-25").end - parse_period("2026-11-25").start == timedelta(days=1)
    span = parse_period("2026-11-01..2026-11-15")
    assert (span.start, span.end) == (datetime(2026, 11, 1, tzinfo=CHINA_TIME),
                                      datetime(2026, 11, 16, tzinfo=CHINA_TIME))


@pytest.mark.parametrize("text", ["2026-13", "2026-W54", "2026-11-31", "2026-11-15..2026-11-01", "last month", "",
                                  "2026/11", "2026-11-01..", "2020-01-01..2031-01-01", "9999-12",
                                  "0001-01-01", "9999-W52", "2026-1-5", "+2026-11-01"])
def test_parse_period_bad_text_names_period(text):
    with pytest.raises(ValidationFailed) as caught:
        parse_period(text)
    assert caught.value.details[0].field == "period"


def test_rate_with_zero_denominator_is_null_not_zero():
    assert rate(0, 0).value is None
    assert rate(0, 4).value == 0
    assert rate(3, 4).value == 0.75


def test_evaluate_no_tickets_gives_null_rates_and_no_groups():
    groups, total = evaluate([], NOV, NOW, "department")
    assert groups == {}
    assert [total.closure_rate.value, total.on_time_closure_rate.value, total.rework_rate.value,
            total.return_rate.value, total.first_dispatch_accuracy.value, total.mean_handling_hours] == [None] * 6
    assert (total.breach_count, total.satisfaction_rate) == (0, None)


def test_closure_rate_counts_closed_over_due_with_open_lapsed_deadlines():
    lapsed = CaseFacts(ticket_id="open", state="claimed", deadline=at(10), dispatched_at=at(1))
    future = CaseFacts(ticket_id="later", state="claimed", deadline=datetime(2026, 12, 9, tzinfo=UTC))
    total = city(closed_case("a"), closed_case("b"), lapsed, future)
    assert (total.closure_rate.numerator, total.closure_rate.denominator) == (2, 3)


def test_due_excludes_deadline_not_yet_passed_in_current_period():
    now = at(15)
    pending = CaseFacts(ticket_id="p", state="claimed", deadline=at(20))
    passed = CaseFacts(ticket_id="q", state="claimed", deadline=at(14))
    assert city(pending, passed, now=now).closure_rate.denominator == 1


def test_closed_outside_period_is_neither_closed_nor_due():
    october = closed_case("old", closed=datetime(2026, 10, 31, 23, tzinfo=CHINA_TIME))
    assert city(october).closure_rate.denominator == 0


def test_on_time_closure_excludes_escalated_and_red_tickets():
    on_time = closed_case("a")
    escalated = closed_case("b", escalated=(datetime(2026, 10, 30, tzinfo=UTC),))  # breached before the period
    red = closed_case("c", sla_level="red")
    total = city(on_time, escalated, red)
    assert (total.on_time_closure_rate.numerator, total.on_time_closure_rate.denominator) == (1, 3)
    assert total.closure_rate.value == 1.0


def test_rework_rate_counts_reworked_among_handled_in_period():
    reworked = CaseFacts(ticket_id="r", state="claimed", handled_at=(at(3),), reworked_at=(at(4),))
    clean = CaseFacts(ticket_id="c", state="handled", handled_at=(at(5),))
    rework_without_handling = CaseFacts(ticket_id="x", state="claimed", reworked_at=(at(4),))
    total = city(reworked, clean, rework_without_handling)
    assert (total.rework_rate.numerator, total.rework_rate.denominator) == (1, 2)


def test_return_rate_and_first_dispatch_accuracy_complement():
    returned = CaseFacts(ticket_id="r", state="dispatched", dispatched_at=at(2), returned_at=(at(3),))
    counted = CaseFacts(ticket_id="n", state="returned", dispatched_at=at(2), return_count=1)
    kept = CaseFacts(ticket_id="k", state="claimed", dispatched_at=at(2))
    earlier = CaseFacts(ticket_id="e", state="claimed", dispatched_at=datetime(2026, 10, 2, tzinfo=UTC),
                        returned_at=(at(3),))  # dispatched before November: not in November's denominator
    total = city(returned, counted, kept, earlier)
    assert (total.return_rate.numerator, total.return_rate.denominator) == (2, 3)
    assert (total.first_dispatch_accuracy.numerator, total.first_dispatch_accuracy.denominator) == (1, 3)


def test_mean_handling_hours_from_first_dispatch_to_first_handling_after_it():
    quick = CaseFacts(ticket_id="q", state="handled", dispatched_at=at(2, 10), handled_at=(at(2, 12), at(3, 9)))
    slow = CaseFacts(ticket_id="s", state="handled", dispatched_at=at(2, 10), handled_at=(at(3, 16),))
    spot = CaseFacts(ticket_id="o", state="handled", handled_at=(at(2, 10),))  # handled on the spot: no dispatch
    total = city(quick, slow, spot)
    assert total.mean_handling_hours == pytest.approx((2 + 30) / 2)
    assert total.handled_count == 2


def test_breach_count_counts_tickets_escalated_in_period_once():
    twice = CaseFacts(ticket_id="t", state="claimed", escalated_at=(at(4), at(6)))
    before = CaseFacts(ticket_id="b", state="claimed", escalated_at=(datetime(2026, 10, 4, tzinfo=UTC),))
    assert city(twice, before).breach_count == 1


def test_group_by_department_uses_first_department_for_accuracy_only():
    moved = CaseFacts(ticket_id="m", state="claimed", department="urban-management", first_department="water",
                      dispatched_at=at(2), returned_at=(at(3),), handled_at=(at(5),))
    groups, total = evaluate([moved], NOV, NOW, "department")
    assert set(groups) == {"water", "urban-management"}
    water, urban = groups["water"], groups["urban-management"]
    assert (water.first_dispatch_accuracy.numerator, water.first_dispatch_accuracy.denominator) == (0, 1)
    assert water.return_rate.denominator == 0 and water.rework_rate.denominator == 0
    assert urban.first_dispatch_accuracy.denominator == 0
    assert (urban.return_rate.numerator, urban.return_rate.denominator) == (1, 1)
    assert urban.rework_rate.denominator == 1
    assert total.first_dispatch_accuracy.denominator == 1  # the city counts the ticket once


def test_group_by_town_puts_tickets_without_town_under_none():
    groups, _ = evaluate([closed_case("a", town=None), closed_case("b")], NOV, NOW, "town")
    assert set(groups) == {"none", "441900001"}
    assert groups["none"].closure_rate.denominator == 1


def test_indicators_of_tally_keeps_counts_with_rates():
    result = indicators(Tally(due=4, closed=3, closed_on_time=2, handled=5, reworked=1))
    assert (result.closure_rate.value, result.on_time_closure_rate.value, result.rework_rate.value) == (0.75, 0.5, 0.2)
    assert result.return_rate.value is None
