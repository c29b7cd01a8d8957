"""直接答复率 (direct-answer rate), pure: a period's counts in, the rate out; and the period's syntax.

A consultation answered on the call (直接答复) is closed at intake and never becomes a ticket, so dispatch's
indicators (综合评价) never see it: intake counts it itself. For a period P (China time, half-open):

- hotline orders: 12345 reports submitted in P (a resent order number is one order; a repeat call 重复来电,
  recorded on a case already open, is a call but no order of its own and is counted apart);
- answered directly: those of them closed at intake with an answer; of them, those whose answer came from a
  knowledge-base article (the operator used one);
- 直接答复率 = answered directly ÷ hotline orders (null when there were no orders).

Periods are written as dispatch's indicators write them: a day ``2026-11-25``, an ISO week ``2026-W47``, a month
``2026-11``, or days ``2026-11-01..2026-11-15`` (both included), so the console asks both with the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from gridgov_common.errors import ErrorDetail, ValidationFailed

CHINA_TIME = timezone(timedelta(hours=8), "CST")
MAX_PERIOD_DAYS = 3_660
MIN_YEAR, MAX_YEAR = 1970, 2999


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of aware datetimes, with the text it was parsed from."""

    label: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Rate:
    """numerator ÷ denominator, None when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The rate, rounded to 4 places; None without a denominator."""
        return round(self.numerator / self.denominator, 4) if self.denominator else None


@dataclass(frozen=True)
class DirectAnswerCounts:
    """The 12345 calls of a period, as 直接答复率 counts them."""

    hotline_orders: int
    answered_directly: int
    from_knowledge_base: int
    repeat_calls: int

    @property
    def rate(self) -> Rate:
        """直接答复率 = answered directly ÷ hotline orders."""
        return direct_answer_rate(self.hotline_orders, self.answered_directly)


def direct_answer_rate(hotline_orders: int, answered_directly: int) -> Rate:
    """直接答复率 of a period's counts."""
    return Rate(answered_directly, hotline_orders)


def _refuse(reason: str, reason_zh: str) -> ValidationFailed:
    error = ValidationFailed("invalid period", [ErrorDetail("period", reason, reason_zh)])
    error.message_zh = "统计周期格式不正确"
    return error


def _year_ok(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None:
        raise _refuse(f"{text!r} is not a date YYYY-MM-DD", f"“{text}”不是日期（YYYY-MM-DD）")
    if not _year_ok(day.year):
        raise _refuse(f"years {MIN_YEAR}–{MAX_YEAR} only", f"年份须在 {MIN_YEAR}–{MAX_YEAR} 之间")
    return day


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), CHINA_TIME)


def parse_period(text: str) -> Period:
    """``YYYY-MM``, ``YYYY-Www``, ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD`` (China time) as a Period; anything
    else is a ValidationFailed naming ``period``."""
    text = text.strip()
    if ".." in text:
        first, _, last = text.partition("..")
        start, stop = _day(first), _day(last)
        if stop < start:
            raise _refuse("the end day is before the start day", "结束日期早于开始日期")
        if (stop - start).days >= MAX_PERIOD_DAYS:
            raise _refuse(f"longer than {MAX_PERIOD_DAYS} days", f"周期不能超过 {MAX_PERIOD_DAYS} 天")
        return Period(text, _midnight(start), _midnight(stop + timedelta(days=1)))
    if m := re.fullmatch(r"(\d{4})-W(\d{2})", text):
        try:
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1) if _year_ok(int(m[1])) else None
        except ValueError:
            monday = None
        if monday is None:
            raise _refuse(f"{text!r}: no such ISO week", f"“{text}”不是有效的周")
        return Period(text, _midnight(monday), _midnight(monday + timedelta(days=7)))
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12 or not _year_ok(year):
            raise _refuse(f"{text!r}: no such month, or a year outside {MIN_YEAR}–{MAX_YEAR}",
                          f"“{text}”不是有效的月份")
        return Period(text, _midnight(date(year, month, 1)), _midnight(date(year + month // 12, month % 12 + 1, 1)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = _day(text)
        return Period(text, _midnight(day), _midnight(day + timedelta(days=1)))
    raise _refuse("expected YYYY-MM, YYYY-Www, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD",
                  "应为 YYYY-MM、YYYY-Www、YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD")
