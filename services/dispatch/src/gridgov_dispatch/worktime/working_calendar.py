"""The SLA working calendar (工作日历), pure: which days are working days, and deadlines in the three units.

Time limits come in three units (时限单位): clock hours (紧急工作时: the natural clock, day and night), working hours
(工作时: time inside the working periods of working days) and working days (工作日). A working day is one the
State Council's yearly holiday notice makes one: Monday to Friday less the holidays, plus the adjusted working
weekend days (调休). The notice for a year is a ``YearTable``, from the ``chinesecalendar`` package or loaded by an
admin; a year without one falls back to Monday–Friday, and every deadline whose arithmetic touched such a year is
marked provisional with the year named, never silently final.

Working days use one uniform model: N working days are N × (length of a working day) of working time, so "2 working
days after Friday 16:00" is Tuesday 16:00, and a paused clock resumes with its remaining working seconds in every
unit alike. Working time is counted on the local wall clock of the calendar's time zone (China has no daylight
saving; elsewhere a day with a shift still counts its periods by the wall clock).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_WORKING_HOURS = "08:30-12:00,14:00-17:30"
MAX_SCAN_DAYS = 366 * 20  # a calendar with no working time ahead (misconfigured tables) fails instead of spinning


class Unit(StrEnum):
    """The unit of a time limit (时限单位)."""

    CLOCK_HOURS = "clock_hours"  # 紧急工作时: natural clock, day and night
    WORKING_HOURS = "working_hours"  # 工作时
    WORKING_DAYS = "working_days"  # 工作日


class CalendarTableError(ValueError):
    """A year table that breaks a rule; names the list (``holidays`` | ``workdays``), the date and the reason."""

    def __init__(self, field_name: str, day: date | None, reason: str):
        self.field = field_name
        self.day = day
        self.reason = reason
        super().__init__(f"{field_name}: {day.isoformat() if day else ''} {reason}".replace(":  ", ": "))


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


@dataclass(frozen=True)
class YearTable:
    """One year's official holiday notice: weekday holidays and adjusted working weekend days (调休).

    ``holidays`` holds only days off that would otherwise be working days (Monday–Friday); ``build`` drops the
    weekend days an official notice lists inside a break (e.g. 10-01..10-07 includes a Saturday and Sunday), since
    they are days off anyway. ``source`` is ``package`` (chinesecalendar) or ``loaded`` (an admin's table).
    """

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    source: str = "package"

    def __post_init__(self) -> None:
        validate_year_table(self)

    @classmethod
    def build(cls, year: int, holidays: Iterable[date], workdays: Iterable[date], source: str) -> YearTable:
        """A validated table, weekend holidays dropped (they are days off anyway); raises CalendarTableError."""
        holidays, workdays = list(holidays), list(workdays)
        _check_in_year(year, "holidays", holidays)
        _check_in_year(year, "workdays", workdays)
        _check_disjoint(holidays, workdays)  # before weekend holidays are dropped, so a clash is still seen
        return cls(year, frozenset(d for d in holidays if not _is_weekend(d)), frozenset(workdays), source)


def _check_in_year(year: int, field_name: str, days: Iterable[date]) -> None:
    for d in sorted(days):
        if d.year != year:
            raise CalendarTableError(field_name, d, f"is not in {year}")


def _check_disjoint(holidays: Iterable[date], workdays: Iterable[date]) -> None:
    for d in sorted(set(holidays) & set(workdays)):
        raise CalendarTableError("workdays", d, "is listed both as a holiday and as a working day")


def validate_year_table(table: YearTable) -> None:
    """Raise CalendarTableError naming the first offending date of a year table (checked in date order)."""
    if not 1 <= table.year <= 9999:
        raise CalendarTableError("year", None, f"{table.year} is not a calendar year")
    if table.source not in ("package", "loaded"):
        raise CalendarTableError("source", None, f"{table.source!r} is not package or loaded")
    _check_in_year(table.year, "holidays", table.holidays)
    _check_in_year(table.year, "workdays", table.workdays)
    _check_disjoint(table.holidays, table.workdays)
    for d in sorted(table.workdays):
        if not _is_weekend(d):
            raise CalendarTableError("workdays", d, "is not a weekend day: only a Saturday or Sunday can be an "
                                                    "adjusted working day")
    for d in sorted(table.holidays):
        if _is_weekend(d):
            raise CalendarTableError("holidays", d, "is a weekend day (build() drops those)")


US = 1_000_000  # working time is counted in whole microseconds, so sums and comparisons are exact


def _us_of(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * US + t.microsecond


def _to_us(seconds: float) -> int:
    return round(seconds * US)


def _parse_clock(text: str, part: str) -> time:
    try:
        hours, minutes = text.strip().split(":")
        if len(hours.strip()) not in (1, 2) or len(minutes.strip()) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"working hours part {part!r}: {text.strip()!r} is not a time HH:MM") from None


@dataclass(frozen=True)
class WorkingHours:
    """The working periods of a working day, in local wall time, in order and not overlapping."""

    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
    _spans: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)  # µs since midnight
    _day_us: int = field(init=False, repr=False, compare=False)  # asked for at every deadline: computed once

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("working hours: at least one period is needed")
        previous_end: time | None = None
        for begin, end in self.periods:
            part = f"{begin:%H:%M}-{end:%H:%M}"
            if end <= begin:
                raise ValueError(f"working hours part {part!r}: the end must be after the start")
            if previous_end is not None and begin < previous_end:
                raise ValueError(f"working hours part {part!r}: overlaps or precedes the previous period")
            previous_end = end
        spans = tuple((_us_of(b), _us_of(e)) for b, e in self.periods)
        object.__setattr__(self, "_spans", spans)
        object.__setattr__(self, "_day_us", sum(e - b for b, e in spans))

    @property
    def day_seconds(self) -> float:
        """The working seconds of one working day (7 h = 25,200 s with the default periods)."""
        return self.day_us / US

    @property
    def day_us(self) -> int:
        """The working microseconds of one working day."""
        return self._day_us

    def offset_at(self, t: time) -> int:
        """Working microseconds of the day elapsed at wall time ``t`` (0 before the first period, the day's total
        after the last)."""
        return self.offset_of(((t.hour * 60 + t.minute) * 60 + t.second) * US + t.microsecond)

    def offset_of(self, wall_us: int) -> int:
        """``offset_at`` of a wall time given in microseconds since midnight."""
        elapsed = 0
        for b, e in self._spans:
            if wall_us <= b:
                break
            elapsed += (wall_us if wall_us < e else e) - b
        return elapsed

    def time_at(self, offset: int) -> int:
        """The earliest wall time (µs since midnight) at which ``offset`` working microseconds of the day have
        elapsed, so a deadline falling on a period's end is that end (12:00), not the next start (14:00)."""
        for b, e in self._spans:
            if offset <= e - b:
                return b + offset
            offset -= e - b
        return self._spans[-1][1]

    def __str__(self) -> str:
        return ",".join(f"{b:%H:%M}-{e:%H:%M}" for b, e in self.periods)


def parse_working_hours(text: str) -> WorkingHours:
    """Working periods from ``"08:30-12:00,14:00-17:30"``; raises ValueError naming the offending part."""
    parts = [p.strip() for p in (text or "").split(",")]
    if not any(parts):
        raise ValueError("working hours: at least one period HH:MM-HH:MM is needed")
    periods = []
    for part in parts:
        bounds = part.split("-")
        if len(bounds) != 2:
            raise ValueError(f"working hours part {part!r}: expected HH:MM-HH:MM")
        periods.append((_parse_clock(bounds[0], part), _parse_clock(bounds[1], part)))
    return WorkingHours(tuple(periods))


@dataclass(frozen=True)
class Deadline:
    """A deadline: the instant (UTC), and whether a year without an official table was crossed to compute it."""

    at: datetime
    provisional: bool = False
    provisional_years: tuple[int, ...] = ()


_UNITS: dict[str, Unit] = {u.value: u for u in Unit}


def _unit(unit: Unit | str) -> Unit:
    """``Unit(unit)`` (ValueError for an unknown one) without the enum's lookup on every deadline."""
    return _UNITS.get(unit) or Unit(unit)


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


_MEMO_MAX = 65_536  # entries per remembered kind of answer (a few MB at most)
_ONE_DAY = timedelta(days=1)
_UNKNOWN = object()


def _require_finite(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number ≥ 0, got {value}")


class WorkingCalendar:
    """Working days from the year tables (Monday–Friday for a year without one) and the working hours of a day."""

    def __init__(self, tables: Mapping[int, YearTable], hours: WorkingHours | None = None,
                 tz: ZoneInfo = SHANGHAI):
        self.tables = dict(tables)
        self.hours = hours or WorkingHours()
        self.tz = tz
        self._working: dict[date, bool] = {}  # a day's answer, remembered: the tables do not change
        # The last working_seconds_between of two UTC instants and its answer: a clock's start asks it twice, for
        # its total and for the time left at that moment (issue #18). One tuple, replaced whole: safe across threads.
        self._last_between: tuple[datetime, datetime, str, float] | None = None
        # Remembered arithmetic (issue #15: a history load asks millions of questions; the live SLA loop many):
        # where a UTC instant falls (its local day and the working time of that day elapsed: a clock's start and its
        # checks ask about the same instants three or four times), the n-th working day after a day, and the working
        # days between two days. Pure answers of the tables and hours, which do not change; each dict is bounded
        # (cleared when full) and only ever gains whole entries, so threads may share it.
        self._positions: dict[datetime, tuple[date, int]] = {}
        self._after: dict[tuple[date, int], date | None] = {}
        self._days_between: dict[tuple[date, date], int] = {}
        self._midnights: dict[date, datetime] = {}  # a day's local midnight (aware, fold 0)

    def is_covered(self, year: int) -> bool:
        """Whether an official table (package or loaded) covers ``year``."""
        return year in self.tables

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day: Monday–Friday less the holidays, plus adjusted weekend days (调休)."""
        known = self._working.get(d)
        if known is None:
            table = self.tables.get(d.year)
            if table is None:
                known = not _is_weekend(d)
            elif d in table.workdays:
                known = True
            else:
                known = not _is_weekend(d) and d not in table.holidays
            self._working[d] = known
        return known

    def unit_seconds(self, unit: Unit | str) -> float:
        """The working seconds of one ``unit`` (clock hour 3,600; working hour 3,600; working day the day's total)."""
        return self.hours.day_seconds if _unit(unit) is Unit.WORKING_DAYS else 3600.0

    def _local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz).replace(tzinfo=None)

    def _position(self, instant: datetime) -> tuple[date, int]:
        """The local day of ``instant`` and the working microseconds of that day elapsed at it (``offset_at``).

        Only UTC instants are remembered: equal keys are then the same instants (see ``working_seconds_between``).
        """
        utc = instant.tzinfo is UTC
        if utc:
            hit = self._positions.get(instant)
            if hit is not None:
                return hit
        local = instant.astimezone(self.tz)
        position = (local.date(), self.hours.offset_of(
            ((local.hour * 60 + local.minute) * 60 + local.second) * US + local.microsecond))
        if utc:
            if len(self._positions) >= _MEMO_MAX:
                self._positions.clear()
            self._positions[instant] = position
        return position

    def _instant(self, d: date, wall_us: int) -> datetime:
        midnight = self._midnights.get(d)
        if midnight is None:
            if len(self._midnights) >= _MEMO_MAX:
                self._midnights.clear()
            midnight = self._midnights[d] = datetime(d.year, d.month, d.day, tzinfo=self.tz)
        return (midnight + timedelta(microseconds=wall_us)).astimezone(UTC)

    def _nth_working_day_after(self, day: date, n: int) -> date | None:
        """The ``n``-th (n ≥ 1) working day after ``day`` among the next ``MAX_SCAN_DAYS - 1`` days, or None."""
        key = (day, n)
        found = self._after.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found, d, seen = None, day, 0
            for _ in range(MAX_SCAN_DAYS - 1):
                d += _ONE_DAY
                if self.is_working_day(d):
                    seen += 1
                    if seen == n:
                        found = d
                        break
            if len(self._after) >= _MEMO_MAX:
                self._after.clear()
            self._after[key] = found
        return found  # type: ignore[return-value]

    def _working_days_between(self, first: date, last: date) -> int:
        """How many working days lie strictly between two days (first < last)."""
        key = (first, last)
        count = self._days_between.get(key)
        if count is None:
            count, day = 0, first + _ONE_DAY
            while day < last:
                if self.is_working_day(day):
                    count += 1
                day += _ONE_DAY
            if len(self._days_between) >= _MEMO_MAX:
                self._days_between.clear()
            self._days_between[key] = count
        return count

    def add(self, start: datetime, amount: float, unit: Unit | str) -> Deadline:
        """The deadline ``amount`` of ``unit`` after ``start`` (tz-aware): clock hours on the natural clock, working
        hours and days as working time inside the working periods of working days."""
        _require_finite("amount", amount)
        return self.add_seconds(start, amount * self.unit_seconds(unit), unit)

    def add_seconds(self, start: datetime, seconds: float, unit: Unit | str) -> Deadline:
        """The earliest instant at which ``seconds`` of the unit's time (natural for clock hours, working otherwise)
        have passed since ``start``; resumes a paused clock with its remaining time. Zero seconds is ``start``."""
        _require_aware("start", start)
        _require_finite("seconds", seconds)
        if _unit(unit) is Unit.CLOCK_HOURS:
            return Deadline((start + timedelta(seconds=seconds)).astimezone(UTC))
        remaining, day_total = _to_us(seconds), self.hours.day_us
        if remaining == 0:  # not even a microsecond: the start itself (the earliest-instant rule could go back)
            return Deadline(start.astimezone(UTC))
        due = self._add_working(start, remaining, day_total)
        if start.tzinfo is UTC:
            # The earliest instant at which ``remaining`` of working time has passed is exactly that much working
            # time after the start, so this is the answer ``working_seconds_between(start, due)`` would compute: a
            # clock's start asks it next, for the stage's total (issue #15: one calendar walk fewer per stage).
            self._last_between = (start, due.at, str(unit), remaining / US)
        return due

    def _add_working(self, start: datetime, remaining: int, day_total: int) -> Deadline:
        """``add_seconds`` of ``remaining`` (> 0) working microseconds."""
        # Day by day from the start's day, the first working day whose working time left covers what remains: on
        # the start's own day that is what is left after its offset, on the later days a whole day each. So the
        # answer is the start's day, or the n-th working day after it with n = ceil(remaining / day) (remembered).
        day, offset = self._position(start)
        if self.is_working_day(day):
            available = day_total - offset
            if remaining <= available:
                return self._deadline(day, day, offset + remaining)
            remaining -= available
        n = -(-remaining // day_total)
        found = self._nth_working_day_after(day, n)
        if found is None or (found - day).days >= MAX_SCAN_DAYS:
            raise ValueError(f"no working time found within {MAX_SCAN_DAYS} days of {start.isoformat()}")
        return self._deadline(day, found, remaining - (n - 1) * day_total)

    def _deadline(self, first: date, day: date, offset: int) -> Deadline:
        """The deadline at ``offset`` working microseconds into ``day``; provisional when a day from ``first`` to
        ``day`` lies in a year without an official table (each such year named)."""
        if first.year == day.year:  # the usual case: one year to look at
            uncovered: tuple[int, ...] = () if self.is_covered(day.year) else (day.year,)
        else:
            uncovered = tuple(y for y in range(first.year, day.year + 1) if not self.is_covered(y))
        return Deadline(self._instant(day, self.hours.time_at(offset)), bool(uncovered), uncovered)

    def working_seconds_between(self, a: datetime, b: datetime, unit: Unit | str) -> float:
        """The unit's seconds from ``a`` to ``b`` (natural for clock hours, working otherwise); negative if b < a."""
        _require_aware("a", a)
        _require_aware("b", b)
        if _unit(unit) is Unit.CLOCK_HOURS:
            return (b - a).total_seconds()
        if b < a:
            return -self.working_seconds_between(b, a, unit)
        # Only UTC instants are remembered: equal keys are then the same instants (an aware datetime of another zone
        # may compare equal to a different instant around a daylight-saving fold), hence the same answer.
        utc = a.tzinfo is UTC and b.tzinfo is UTC
        last = self._last_between
        if utc and last is not None and last[0] == a and last[1] == b and last[2] == unit:
            return last[3]
        seconds = self._between(a, b, unit)
        if utc:
            self._last_between = (a, b, str(unit), seconds)
        return seconds

    def _between(self, a: datetime, b: datetime, unit: Unit | str) -> float:
        """``working_seconds_between`` of working time (a ≤ b), computed."""
        (first, start_off), (last, end_off) = self._position(a), self._position(b)
        if first == last:
            return (end_off - start_off) / US if self.is_working_day(first) else 0.0
        total = self.hours.day_us - start_off if self.is_working_day(first) else 0
        total += self.hours.day_us * self._working_days_between(first, last)
        if self.is_working_day(last):
            total += end_off
        return total / US

    def is_working_time(self, instant: datetime) -> bool:
        """Whether ``instant`` falls inside a working period (ends included) of a working day."""
        local = self._local(instant)
        s = _us_of(local.time())
        return self.is_working_day(local.date()) and any(b <= s <= e for b, e in self.hours._spans)


@lru_cache(maxsize=1)
def package_tables() -> dict[int, YearTable]:
    """The official tables the ``chinesecalendar`` package carries, one per year it covers (source ``package``).

    The years covered are the package's own: from the first to the last year of its holiday data, as its date
    validation (``_validate_date``) uses them.
    """
    import chinese_calendar  # imported here: only the service's startup needs the data, not pure callers

    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for d in chinese_calendar.holidays:
        holidays.setdefault(d.year, set()).add(d)
    for d in chinese_calendar.workdays:
        workdays.setdefault(d.year, set()).add(d)
    first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
    return {
        year: YearTable.build(year, holidays.get(year, ()), workdays.get(year, ()), "package")
        for year in range(first, last + 1)
    }
