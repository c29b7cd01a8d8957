"""The working calendar remembers its last ``working_seconds_between`` of two UTC instants (issue #18): every answer
equals the one computed afresh, for repeated, swapped and shifted questions in every unit and zone, and a clock
started on it equals one started without the memo."""

import random
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gridgov_dispatch.worktime import clock
from gridgov_dispatch.worktime.working_calendar import WorkingCalendar, WorkingHours, package_tables

UNITS = ("working_hours", "working_days", "clock_hours")
ZONES = (UTC, timezone(timedelta(hours=8)), ZoneInfo("Asia/Shanghai"), timezone(timedelta(0)))


class Fresh(WorkingCalendar):
    """The same calendar with nothing remembered between questions."""

    def working_seconds_between(self, a, b, unit):
        self._last_between = None
        return super().working_seconds_between(a, b, unit)


def _instant(rng: random.Random) -> datetime:
    at = datetime(2025, 12, 20, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 60 * 86400),
                                                        microseconds=rng.randint(0, 999999))
    return at.astimezone(rng.choice(ZONES))


@pytest.mark.parametrize("seed", range(10))
def test_remembered_answers_equal_fresh_ones(seed):
    rng = random.Random(seed)
    memo, fresh = WorkingCalendar(package_tables()), Fresh(package_tables())
    previous = None
    for _ in range(2000):
        if previous is not None and rng.random() < 0.5:  # the same instants again, maybe in another zone or order
            a, b, unit = previous
            zone = rng.choice(ZONES)
            a, b = a.astimezone(zone), b.astimezone(rng.choice(ZONES))
            if rng.random() < 0.2:
                a, b = b, a
            if rng.random() < 0.2:
                unit = rng.choice(UNITS)
            if rng.random() < 0.2:
                b = b + timedelta(microseconds=1)
        else:
            a, b, unit = _instant(rng), _instant(rng), rng.choice(UNITS)
        got, want = memo.working_seconds_between(a, b, unit), fresh.working_seconds_between(a, b, unit)
        assert got == want and type(got) is type(want), (a, b, unit)
        previous = (a, b, unit)


def test_a_clock_started_on_the_memo_equals_one_without_it():
    rng = random.Random(7)
    memo, fresh = WorkingCalendar(package_tables()), Fresh(package_tables())
    for _ in range(500):
        now = _instant(rng).astimezone(UTC)
        amount, unit = rng.choice([(2.0, "working_hours"), (1.0, "working_days"), (4.0, "clock_hours"), (0.5,
                                   "working_days")])
        assert clock.start(memo, "claim", amount, unit, now, 0.8) == clock.start(fresh, "claim", amount, unit, now, 0.8)


def test_the_memo_is_used():
    cal = WorkingCalendar(package_tables())
    a = datetime(2026, 3, 3, 1, tzinfo=UTC)
    b = a + timedelta(days=2)
    first = cal.working_seconds_between(a, b, "working_hours")
    cal._last_between = (a, b, "working_hours", -1.0)  # a planted answer shows it is read back
    assert cal.working_seconds_between(a, b, "working_hours") == -1.0
    assert cal.working_seconds_between(a.astimezone(ZONES[1]), b, "working_hours") == first  # not UTC: computed


HOURS = (None, WorkingHours(((time(0, 0), time(6, 0)), (time(6, 0), time(23, 59)))),
         WorkingHours(((time(9, 0), time(9, 1)),)))
TZS = (ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"))


@pytest.mark.parametrize("seed", range(6))
def test_the_length_a_deadline_leaves_behind_is_the_one_computed(seed):
    """``add_seconds`` remembers ``working_seconds_between(start, deadline)`` as the length it added (issue #15):
    that answer equals the one computed afresh, in working hours of every shape, in zones with daylight saving too
    (a deadline on a day whose wall clock jumps), for fractions of a microsecond and for lengths of many days."""
    rng = random.Random(seed)
    hours, tz = HOURS[seed % len(HOURS)], TZS[seed % len(TZS)]
    cal, fresh = WorkingCalendar(package_tables(), hours, tz), Fresh(package_tables(), hours, tz)
    for _ in range(1500):
        start = _instant(rng) + timedelta(days=rng.choice((0, 90, 300)))  # across March and October as well
        unit = rng.choice(UNITS)
        seconds = rng.choice((rng.uniform(0, 3 * 86400), rng.uniform(0, 60), rng.randint(0, 20) * 3600.0, 1e-7))
        due = cal.add_seconds(start, seconds, unit).at
        got = cal.working_seconds_between(start, due, unit)
        want = fresh.working_seconds_between(start, due, unit)
        assert got == want and type(got) is type(want), (start, seconds, unit, due)
