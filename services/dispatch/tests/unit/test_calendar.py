"""The SLA working calendar: deadlines in the three units across holidays, 调休 and uncovered years (pure)."""

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gridgov_dispatch.worktime.working_calendar import (
    SHANGHAI,
    CalendarTableError,
    Deadline,
    Unit,
    WorkingCalendar,
    WorkingHours,
    YearTable,
    package_tables,
    parse_working_hours,
)

CAL = WorkingCalendar(package_tables())
DAY_S = 7 * 3600  # 08:30-12:00 + 14:00-17:30


def cst(*args) -> datetime:
    """A China Standard Time instant."""
    return datetime(*args, tzinfo=SHANGHAI)


def at(deadline: Deadline) -> datetime:
    """The deadline on the local wall clock, for readable assertions."""
    return deadline.at.astimezone(SHANGHAI)


# --- the 2026 table, as the package carries it ------------------------------------------------------------------

def test_package_tables_cover_through_2026_and_not_2027():
    tables = package_tables()
    assert min(tables) == 2004 and max(tables) == 2026
    assert CAL.is_covered(2026) and not CAL.is_covered(2027)
    assert all(t.source == "package" for t in tables.values())


def test_package_2026_national_day_has_holidays_and_adjusted_weekend_days():
    # The facts the examples below rest on, looked up in the package itself.
    national_day = [d for d in chinese_calendar.holidays if date(2026, 10, 1) <= d <= date(2026, 10, 7)]
    assert len(national_day) == 7  # 10-01 (Thu) .. 10-07 (Wed) off
    assert chinese_calendar.is_workday(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6  # Sunday, 调休
    assert chinese_calendar.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5  # Saturday, 调休
    table = package_tables()[2026]
    assert {date(2026, 9, 20), date(2026, 10, 10)} <= table.workdays
    # Weekend days inside the break are not kept as holidays: they are days off anyway.
    assert date(2026, 10, 3) not in table.holidays and date(2026, 10, 1) in table.holidays


def test_is_working_day_follows_holidays_and_adjusted_days():
    assert not CAL.is_working_day(date(2026, 10, 1))  # Thursday, National Day
    assert not CAL.is_working_day(date(2026, 10, 4))  # Sunday inside the break
    assert CAL.is_working_day(date(2026, 10, 10))  # Saturday, 调休
    assert CAL.is_working_day(date(2026, 9, 20))  # Sunday, 调休
    assert not CAL.is_working_day(date(2026, 10, 17))  # an ordinary Saturday
    assert CAL.is_working_day(date(2026, 10, 8))  # Thursday after the break


# --- the three units across National Day 2026 -------------------------------------------------------------------

def test_add_working_days_across_national_day_lands_on_adjusted_saturday():
    # Wed 09-30 16:00 + 3 working days (21 h): 09-30 gives 1.5 h (16:00-17:30); 10-01..10-07 are off; Thu 10-08
    # 7 h (8.5), Fri 10-09 7 h (15.5); Sat 10-10 is 调休: 5.5 h more from 08:30 is 16:00.
    due = CAL.add(cst(2026, 9, 30, 16, 0), 3, Unit.WORKING_DAYS)
    assert at(due) == cst(2026, 10, 10, 16, 0)
    assert due.at == datetime(2026, 10, 10, 8, 0, tzinfo=UTC)
    assert (due.provisional, due.provisional_years) == (False, ())


def test_add_working_hours_across_national_day_skips_the_break():
    # Wed 09-30 16:00 + 4 working hours: 1.5 h that day, then 2.5 h on Thu 10-08 from 08:30 → 11:00.
    assert at(CAL.add(cst(2026, 9, 30, 16, 0), 4, Unit.WORKING_HOURS)) == cst(2026, 10, 8, 11, 0)


def test_add_clock_hours_across_national_day_counts_day_and_night():
    # 紧急工作时: 48 natural hours, holiday or not, and never provisional.
    due = CAL.add(cst(2026, 9, 30, 16, 0), 48, Unit.CLOCK_HOURS)
    assert at(due) == cst(2026, 10, 2, 16, 0)
    assert not due.provisional


def test_add_working_hours_on_adjusted_saturday_counts_it():
    # Sat 10-10 is a working day (调休): 09:00 + 2 h = 11:00 the same day.
    assert at(CAL.add(cst(2026, 10, 10, 9, 0), 2, Unit.WORKING_HOURS)) == cst(2026, 10, 10, 11, 0)
    # An ordinary Saturday is not: Sat 10-17 09:00 + 2 h waits for Mon 10-19, 08:30 + 2 h = 10:30.
    assert at(CAL.add(cst(2026, 10, 17, 9, 0), 2, Unit.WORKING_HOURS)) == cst(2026, 10, 19, 10, 30)


def test_add_working_days_after_friday_afternoon_lands_same_time_monday():
    # Fri 11-20 16:00 + 1 working day: 1.5 h Friday + 5.5 h Monday from 08:30 → Mon 11-23 16:00.
    assert at(CAL.add(cst(2026, 11, 20, 16, 0), 1, Unit.WORKING_DAYS)) == cst(2026, 11, 23, 16, 0)


def test_add_working_days_from_weekend_gives_whole_next_working_day():
    # Sat 11-21 10:00: no working time until Mon 08:30, so one working day ends Mon 17:30.
    assert at(CAL.add(cst(2026, 11, 21, 10, 0), 1, Unit.WORKING_DAYS)) == cst(2026, 11, 23, 17, 30)


# --- working periods: the lunch break ---------------------------------------------------------------------------

def test_add_working_hours_skips_lunch_break():
    # Mon 11-23 11:00 + 2 h: 1 h to 12:00, lunch 12:00-14:00 skipped, 1 h more → 15:00.
    assert at(CAL.add(cst(2026, 11, 23, 11, 0), 2, Unit.WORKING_HOURS)) == cst(2026, 11, 23, 15, 0)


def test_add_working_hours_ending_at_noon_is_noon_not_afternoon_start():
    assert at(CAL.add(cst(2026, 11, 23, 11, 0), 1, Unit.WORKING_HOURS)) == cst(2026, 11, 23, 12, 0)


def test_add_working_hours_started_in_lunch_break_counts_from_afternoon():
    assert at(CAL.add(cst(2026, 11, 23, 12, 30), 1, Unit.WORKING_HOURS)) == cst(2026, 11, 23, 15, 0)


def test_working_seconds_between_excludes_lunch_nights_and_weekends():
    assert CAL.working_seconds_between(cst(2026, 11, 23, 11, 0), cst(2026, 11, 23, 15, 0), "working_hours") == 7200
    assert CAL.working_seconds_between(cst(2026, 11, 20, 16, 0), cst(2026, 11, 23, 16, 0), "working_days") == DAY_S
    # Clock hours are natural seconds: Friday 16:00 to Monday 16:00 is 72 h.
    assert CAL.working_seconds_between(cst(2026, 11, 20, 16, 0), cst(2026, 11, 23, 16, 0), "clock_hours") == 72 * 3600


def test_custom_working_hours_change_day_length_and_deadlines():
    cal = WorkingCalendar(package_tables(), parse_working_hours("09:00-12:00, 13:00-18:00"))
    # 8 h days: Mon 11-23 09:00 + 1 working day = 18:00; + 4 working hours = 09:00 + 3 h + 1 h after lunch = 14:00.
    assert at(cal.add(cst(2026, 11, 23, 9, 0), 1, Unit.WORKING_DAYS)) == cst(2026, 11, 23, 18, 0)
    assert at(cal.add(cst(2026, 11, 23, 9, 0), 4, Unit.WORKING_HOURS)) == cst(2026, 11, 23, 14, 0)


# --- years without an official table ----------------------------------------------------------------------------

def test_add_across_uncovered_2027_is_provisional_with_year_listed():
    # Thu 2026-12-31 16:00 + 2 working days: 1.5 h on 12-31; 2027 has no table, so Fri 2027-01-01 counts as a
    # working day (Monday–Friday fallback, 7 h → 8.5) and Mon 01-04 gives 5.5 h → 16:00, marked provisional.
    due = CAL.add(cst(2026, 12, 31, 16, 0), 2, Unit.WORKING_DAYS)
    assert at(due) == cst(2027, 1, 4, 16, 0)
    assert (due.provisional, due.provisional_years) == (True, (2027,))


def test_add_with_loaded_2027_table_is_final():
    # With the 2027 notice loaded (New Year's Day off), Fri 01-01 is off: 1.5 h + Mon 01-04 7 h (8.5) + Tue 01-05
    # 5.5 h → Tue 16:00, final.
    loaded = YearTable.build(2027, [date(2027, 1, 1)], [], "loaded")
    cal = WorkingCalendar({**package_tables(), 2027: loaded})
    due = cal.add(cst(2026, 12, 31, 16, 0), 2, Unit.WORKING_DAYS)
    assert at(due) == cst(2027, 1, 5, 16, 0)
    assert (due.provisional, due.provisional_years) == (False, ())


def test_add_clock_hours_into_uncovered_year_is_final():
    due = CAL.add(cst(2026, 12, 31, 16, 0), 72, Unit.CLOCK_HOURS)
    assert at(due) == cst(2027, 1, 3, 16, 0) and not due.provisional


def test_add_within_covered_year_is_final():
    assert not CAL.add(cst(2026, 12, 1, 9, 0), 10, Unit.WORKING_DAYS).provisional


# --- year tables and working hours refuse bad input -------------------------------------------------------------

def test_build_year_table_refuses_date_of_other_year():
    with pytest.raises(CalendarTableError, match="2028-01-01 is not in 2027") as exc:
        YearTable.build(2027, [date(2028, 1, 1)], [], "loaded")
    assert exc.value.field == "holidays" and exc.value.day == date(2028, 1, 1)


def test_build_year_table_refuses_date_in_both_lists():
    with pytest.raises(CalendarTableError, match="2027-02-06 is listed both") as exc:
        YearTable.build(2027, [date(2027, 2, 5), date(2027, 2, 6)], [date(2027, 2, 6)], "loaded")
    assert exc.value.field == "workdays"


def test_build_year_table_refuses_weekday_as_adjusted_working_day():
    with pytest.raises(CalendarTableError, match="2027-02-08 is not a weekend day"):
        YearTable.build(2027, [], [date(2027, 2, 8)], "loaded")  # a Monday


def test_build_year_table_drops_weekend_holidays():
    table = YearTable.build(2027, [date(2027, 10, 1), date(2027, 10, 2)], [], "loaded")  # Fri, Sat
    assert table.holidays == frozenset({date(2027, 10, 1)})


@pytest.mark.parametrize(("text", "part"), [
    ("08:30-12:00,14:00", "14:00"),
    ("08:30-12:00,14:xx-17:30", "14:xx-17:30"),
    ("12:00-08:30", "12:00-08:30"),
    ("08:30-12:00,11:00-17:30", "11:00-17:30"),
    ("25:00-26:00", "25:00-26:00"),
])
def test_parse_working_hours_refuses_bad_part_naming_it(text, part):
    with pytest.raises(ValueError, match=part):
        parse_working_hours(text)


def test_parse_working_hours_reads_default_periods():
    assert parse_working_hours("08:30-12:00,14:00-17:30") == WorkingHours()
    assert WorkingHours().day_seconds == DAY_S


def test_add_refuses_naive_start_and_negative_amount():
    with pytest.raises(ValueError, match="start"):
        CAL.add(datetime(2026, 11, 23, 9, 0), 1, Unit.WORKING_HOURS)
    with pytest.raises(ValueError, match="amount"):
        CAL.add(cst(2026, 11, 23, 9, 0), -1, Unit.WORKING_HOURS)


# --- properties -------------------------------------------------------------------------------------------------

# Loaded 2027 tables are not needed here: the fallback makes 2027 provisional, but its arithmetic must hold as well.
starts = st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 30), timezones=st.just(UTC))
working_units = st.sampled_from([Unit.WORKING_HOURS, Unit.WORKING_DAYS])
all_units = st.sampled_from(list(Unit))


@settings(max_examples=200, deadline=None)
@given(start=starts, seconds=st.floats(min_value=0, max_value=120 * DAY_S, allow_nan=False), unit=all_units)
def test_working_seconds_between_inverts_add_seconds(start, seconds, unit):
    due = CAL.add_seconds(start, seconds, unit)
    assert CAL.working_seconds_between(start, due.at, unit) == pytest.approx(seconds, abs=0.01)


@settings(max_examples=200, deadline=None)
@given(start=starts, gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90)), unit=working_units)
def test_add_seconds_of_elapsed_working_time_reaches_no_later_than_end(start, gap, unit):
    # Resuming with the working time between a and b reaches b, or the earliest instant with no working time
    # left before b (b in a lunch break or a night: the end of the last working period).
    end = start + gap
    resumed = CAL.add_seconds(start, CAL.working_seconds_between(start, end, unit), unit).at
    assert resumed <= end + timedelta(microseconds=1)
    assert CAL.working_seconds_between(resumed, end, unit) == pytest.approx(0, abs=0.01)


@settings(max_examples=200, deadline=None)
@given(start=starts, a=st.floats(min_value=0, max_value=60), b=st.floats(min_value=0, max_value=60), unit=all_units)
def test_add_more_amount_never_gives_earlier_deadline(start, a, b, unit):
    small, large = sorted((a, b))
    assert CAL.add(start, small, unit).at <= CAL.add(start, large, unit).at


@settings(max_examples=200, deadline=None)
@given(start=starts, amount=st.floats(min_value=0.01, max_value=60), unit=working_units)
def test_add_working_units_lands_inside_working_period(start, amount, unit):
    due = CAL.add(start, amount, unit).at
    local = due.astimezone(SHANGHAI)
    assert CAL.is_working_day(local.date())
    assert time(8, 30) <= local.time() <= time(12, 0) or time(14, 0) <= local.time() <= time(17, 30)


@settings(max_examples=200, deadline=None)
@given(start=starts, amount=st.floats(min_value=0.01, max_value=60), unit=working_units)
def test_add_is_provisional_exactly_when_crossing_uncovered_year(start, amount, unit):
    due = CAL.add(start, amount, unit)
    years = set(range(start.astimezone(SHANGHAI).year, due.at.astimezone(SHANGHAI).year + 1))
    assume(years)
    assert due.provisional_years == tuple(sorted(y for y in years if not CAL.is_covered(y)))
    assert due.provisional == bool(due.provisional_years)
