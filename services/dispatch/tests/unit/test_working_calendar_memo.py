"""The working calendar remembers its last ``working_seconds_between`` of two UTC instants (issue #18): every answer
equals the one computed afresh, for repeated, swapped and shifted questions in every unit and zone, and a clock
started on it equals one started without the memo."""

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gridgov_dispatch.worktime import clock
from gridgov_dispatch.worktime.working_calendar import WorkingCalendar, package_tables

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
