"""The working calendar's and the SLA clock's faster arithmetic (issue #15) gives exactly the answers of the plain
algorithms it replaced, kept here as the reference: day-by-day deadlines and working time, and clocks made with
``dataclasses.replace``. Many random questions in several zones (one with daylight saving), working hours, years
with and without an official table, and a calendar that runs out of working days."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gridgov_dispatch.worktime import clock as clocks
from gridgov_dispatch.worktime import working_calendar as wc
from gridgov_dispatch.worktime.working_calendar import (
    US,
    Deadline,
    Unit,
    WorkingCalendar,
    YearTable,
    package_tables,
    parse_working_hours,
)

UNITS = ("working_hours", "working_days", "clock_hours")
ZONES = (UTC, timezone(timedelta(hours=8)), ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin"))


class Reference(WorkingCalendar):
    """The calendar as it computed before: every day walked, every instant converted, nothing remembered."""

    def add_seconds(self, start, seconds, unit):
        wc._require_aware("start", start)
        wc._require_finite("seconds", seconds)
        if wc._unit(unit) is Unit.CLOCK_HOURS:
            return Deadline((start + timedelta(seconds=seconds)).astimezone(UTC))
        remaining, day_total = wc._to_us(seconds), self.hours.day_us
        if remaining == 0:
            return Deadline(start.astimezone(UTC))
        local = start.astimezone(self.tz).replace(tzinfo=None)
        day, offset = local.date(), self.hours.offset_at(local.time())
        uncovered: set[int] = set()
        for _ in range(wc.MAX_SCAN_DAYS):
            if not self.is_covered(day.year):
                uncovered.add(day.year)
            if self.is_working_day(day):
                available = day_total - offset
                if remaining <= available:
                    wall = self.hours.time_at(offset + remaining)
                    instant = (datetime.combine(day, time()) + timedelta(microseconds=wall)).replace(tzinfo=self.tz)
                    return Deadline(instant.astimezone(UTC), bool(uncovered), tuple(sorted(uncovered)))
                remaining -= available
            day, offset = day + timedelta(days=1), 0
        raise ValueError(f"no working time found within {wc.MAX_SCAN_DAYS} days of {start.isoformat()}")

    def working_seconds_between(self, a, b, unit):
        wc._require_aware("a", a)
        wc._require_aware("b", b)
        if wc._unit(unit) is Unit.CLOCK_HOURS:
            return (b - a).total_seconds()
        if b < a:
            return -self.working_seconds_between(b, a, unit)
        la, lb = a.astimezone(self.tz).replace(tzinfo=None), b.astimezone(self.tz).replace(tzinfo=None)
        first, last = la.date(), lb.date()
        start_off, end_off = self.hours.offset_at(la.time()), self.hours.offset_at(lb.time())
        if first == last:
            return (end_off - start_off) / US if self.is_working_day(first) else 0.0
        day_total = self.hours.day_us
        total = day_total - start_off if self.is_working_day(first) else 0
        day = first + timedelta(days=1)
        while day < last:
            if self.is_working_day(day):
                total += day_total
            day += timedelta(days=1)
        if self.is_working_day(last):
            total += end_off
        return total / US


# --- the clock as it was: every step a dataclasses.replace -------------------------------------------------------

def ref_start(cal, stage, amount, unit, now, share):
    due = cal.add(now, amount, unit)
    total = cal.working_seconds_between(now, due.at, unit)
    clock = clocks.Clock(stage=stage, started_at=now, deadline=due.at, unit=unit, amount=amount, total_s=total,
                         provisional=due.provisional)
    return replace(clock, next_check_at=clocks.next_check(cal, clock, now, share))


def ref_pause(cal, clock, now):
    if clock.stage is None or clock.paused_at is not None or clock.deadline is None or clock.unit is None:
        return clock
    return replace(clock, paused_at=now, remaining_s=clocks.time_left(cal, clock, now), next_check_at=None)


def ref_resume(cal, clock, now, share, extra_s=0.0):
    if clock.stage is None or clock.paused_at is None or clock.unit is None:
        return clock
    left = (clock.remaining_s or 0.0) + extra_s
    if left > 0:
        due = cal.add_seconds(now, left, clock.unit)
        deadline, provisional = due.at, clock.provisional or due.provisional
    else:
        deadline, provisional = clock.deadline, clock.provisional
    total = (clock.total_s or 0.0) + extra_s
    level = clock.sla_level
    if extra_s > 0 and left > 0:
        level = "green"
    resumed = replace(clock, deadline=deadline, provisional=provisional, paused_at=None, remaining_s=None,
                      total_s=total, sla_level=level, escalation_level=clock.escalation_level if level == "red" else 0)
    return replace(resumed, next_check_at=clocks.next_check(cal, resumed, now, share))


def ref_due_steps(cal, clock, now, share):
    if clock.stage is None or clock.paused_at is not None or clock.deadline is None:
        return [], replace(clock, next_check_at=None)
    steps = []
    if now < clock.deadline:
        if clock.sla_level == "green" and clocks.warning_due_at(cal, clock, now, share) <= now:
            steps.append(clocks.Step("warn"))
            clock = replace(clock, sla_level="yellow")
    else:
        level = clock.escalation_level
        while level < clocks.TOP_LEVEL and clocks.escalation_due_at(cal, clock, level + 1) <= now:
            level += 1
            steps.append(clocks.Step("escalate", level))
        if level != clock.escalation_level:
            clock = replace(clock, sla_level="red", escalation_level=level)
    return steps, replace(clock, next_check_at=clocks.next_check(cal, clock, now, share))


# --- calendars and questions -------------------------------------------------------------------------------------

def _calendars(rng: random.Random, kind: str) -> tuple[WorkingCalendar, WorkingCalendar]:
    """(new, reference) over the same tables, hours and zone."""
    tables = dict(package_tables())
    if kind == "partial":  # years without a table on either side of covered ones: provisional deadlines
        tables = {y: t for y, t in tables.items() if y % 2 == 0}
    hours = parse_working_hours(rng.choice(["08:30-12:00,14:00-17:30", "09:00-17:00", "00:00-23:59",
                                            "07:00-07:01,12:00-12:30,22:00-23:00"]))
    tz = rng.choice([z for z in ZONES if isinstance(z, ZoneInfo)])
    return WorkingCalendar(tables, hours, tz), Reference(tables, hours, tz)


def _instant(rng: random.Random, around: datetime) -> datetime:
    at = around + timedelta(seconds=rng.randint(-40 * 86400, 40 * 86400), microseconds=rng.choice([0, rng.randint(0,
                                                                                                  999999)]))
    if rng.random() < 0.3:  # exactly on a working period's edge
        at = at.replace(hour=rng.choice([0, 1, 4, 6, 9, 12, 14]), minute=rng.choice([0, 30]), second=0,
                        microsecond=0)
    return at.astimezone(rng.choice(ZONES))


def _seconds(rng: random.Random) -> float:
    return rng.choice([0.0, 1e-7, 1e-6, 0.4, 60.0, 3600.0, 12600.0, 25200.0, 25200.5, 50400.0,
                       rng.uniform(0, 40 * 25200), rng.uniform(0, 3600) * rng.randint(1, 400)])


def _same(got, want) -> bool:
    if isinstance(want, float):
        return type(got) is float and (got == want or (math.isnan(got) and math.isnan(want)))
    return got == want


@pytest.mark.parametrize("kind", ["package", "partial"])
@pytest.mark.parametrize("seed", range(6))
def test_deadlines_and_working_time_equal_the_day_by_day_answers(seed, kind):
    rng = random.Random(seed)
    new, ref = _calendars(rng, kind)
    around = datetime(rng.choice([2019, 2024, 2025, 2026, 2027, 2031]), rng.randint(1, 12), 15, tzinfo=UTC)
    asked: list[datetime] = []
    for _ in range(3000):
        a = rng.choice(asked) if asked and rng.random() < 0.3 else _instant(rng, around)
        unit = rng.choice(UNITS)
        seconds = _seconds(rng)
        got, want = new.add_seconds(a, seconds, unit), ref.add_seconds(a, seconds, unit)
        assert got == want, (a, seconds, unit)
        b = got.at if rng.random() < 0.5 else _instant(rng, around)
        for x, y in ((a, b), (b, a), (a.astimezone(UTC), b.astimezone(UTC))):
            got_s, want_s = new.working_seconds_between(x, y, unit), ref.working_seconds_between(x, y, unit)
            assert _same(got_s, want_s), (x, y, unit)
        amount = rng.choice([0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 24.0])
        assert new.add(a, amount, unit) == ref.add(a, amount, unit)
        asked += [a.astimezone(UTC), got.at]


def test_running_out_of_working_days_fails_as_before(monkeypatch):
    """A calendar with no working time within the scan limit raises the same error; one just within finds it."""
    monkeypatch.setattr(wc, "MAX_SCAN_DAYS", 40)
    year = 2030
    holidays = [date(year, 1, 1) + timedelta(days=i) for i in range(90)]
    table = YearTable.build(year, holidays, [], "loaded")
    new, ref = WorkingCalendar({year: table}), Reference({year: table})
    for start_day, seconds in [(date(2030, 1, 2), 3600.0), (date(2030, 2, 25), 3600.0), (date(2030, 3, 1), 3600.0),
                               (date(2030, 3, 20), 25200.0 * 3), (date(2030, 2, 20), 25200.0 * 30)]:
        start = datetime.combine(start_day, time(10), tzinfo=wc.SHANGHAI)
        outcomes = []
        for cal in (new, ref):
            try:
                outcomes.append(cal.add_seconds(start, seconds, "working_hours"))
            except ValueError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1], (start_day, seconds)


@pytest.mark.parametrize("seed", range(4))
def test_clocks_equal_the_ones_made_with_replace(seed):
    """start, pause, resume and due_steps on random clocks: the same clocks and steps as the reference code."""
    rng = random.Random(100 + seed)
    new, ref = _calendars(rng, rng.choice(["package", "partial"]))
    around = datetime(2026, rng.randint(1, 12), 10, tzinfo=UTC)
    for _ in range(1500):
        now = _instant(rng, around).astimezone(rng.choice([UTC, UTC, rng.choice(ZONES)]))
        amount, unit = rng.choice([(2.0, "working_hours"), (1.0, "working_days"), (4.0, "clock_hours"),
                                   (0.5, "working_days"), (0.0, "working_hours"), (3.0, "working_days")])
        share = rng.choice([0.0, 0.5, 0.8, 1.0])
        stage = rng.choice(["claim", "handle", "verify", None])
        got, want = clocks.start(new, stage, amount, unit, now, share), ref_start(ref, stage, amount, unit, now,
                                                                                   share)
        assert got == want, (stage, amount, unit, now, share)
        clock = got
        for _ in range(rng.randint(1, 6)):
            later = now + timedelta(seconds=rng.uniform(0, 3 * 86400) * rng.choice([1, 1, 5]))
            move = rng.choice(["steps", "pause", "resume", "extend"])
            if move == "steps":
                a, b = clocks.due_steps(new, clock, later, share), ref_due_steps(ref, clock, later, share)
                assert a == b, (clock, later)
                clock = a[1]
            elif move == "pause":
                a, b = clocks.pause(new, clock, later), ref_pause(ref, clock, later)
                assert a == b, (clock, later)
                clock = a
            else:
                extra = rng.choice([0.0, 3600.0, 25200.0]) if move == "extend" else 0.0
                a, b = clocks.resume(new, clock, later, share, extra), ref_resume(ref, clock, later, share, extra)
                assert a == b, (clock, later, extra)
                clock = a
            now = later
