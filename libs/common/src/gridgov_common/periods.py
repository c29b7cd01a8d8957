"""The period syntax every indicator shares (dispatch's 综合评价, intake's 直接答复率), pure.

A period is a half-open interval [start, end) of China time (UTC+8, no daylight saving): a day ``2026-11-25``, an
ISO week ``2026-W47``, a month ``2026-11``, or days ``2026-11-01..2026-11-15`` (both days included). One parser, so
the console asks every service with the same text and gets the same refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from gridgov_common.errors import ErrorDetail, ValidationFailed

CHINA_TIME = timezone(timedelta(hours=8), "CST")
MAX_PERIOD_DAYS = 3_660
MIN_YEAR, MAX_YEAR = 1970, 2999  # beyond these a period is a typo, and far years overflow datetime arithmetic


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of aware datetimes, with the text it was parsed from."""

    label: str
    start: datetime
    end: datetime

    def __contains__(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end


def _refuse(reason: str, reason_zh: str, field: str) -> ValidationFailed:
    error = ValidationFailed(f"invalid {field}", [ErrorDetail(field, reason, reason_zh)])
    error.message_zh = "统计周期格式不正确" if field == "period" else "时间范围格式不正确"
    return error


def _years_only(field: str) -> ValidationFailed:
    return _refuse(f"years {MIN_YEAR}–{MAX_YEAR} only", f"年份须在 {MIN_YEAR}–{MAX_YEAR} 之间", field)


def _day(text: str, field: str) -> date:
    try:
        day = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None:
        raise _refuse(f"{text!r} is not a date YYYY-MM-DD", f"“{text}”不是日期（YYYY-MM-DD）", field)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise _years_only(field)
    return day


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), CHINA_TIME)


def parse_period(text: str, field: str = "period") -> Period:
    """``YYYY-MM``, ``YYYY-Www``, ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD`` (China time) as a Period; anything
    else, and years outside 1970–2999, is a ValidationFailed naming ``field`` (the parameter it came in)."""
    text = text.strip()
    if ".." in text:
        first, _, last = text.partition("..")
        start, stop = _day(first, field), _day(last, field)
        if stop < start:
            raise _refuse("the end day is before the start day", "结束日期早于开始日期", field)
        if (stop - start).days >= MAX_PERIOD_DAYS:
            raise _refuse(f"longer than {MAX_PERIOD_DAYS} days", f"周期不能超过 {MAX_PERIOD_DAYS} 天", field)
        return Period(text, _midnight(start), _midnight(stop + timedelta(days=1)))
    if m := re.fullmatch(r"(\d{4})-W(\d{2})", text):
        if not MIN_YEAR <= int(m[1]) <= MAX_YEAR:
            raise _years_only(field)
        try:
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError:
            monday = None
        if monday is None:
            raise _refuse(f"{text!r}: no such ISO week", f"“{text}”不是有效的周", field)
        return Period(text, _midnight(monday), _midnight(monday + timedelta(days=7)))
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12 or not MIN_YEAR <= year <= MAX_YEAR:
            raise _refuse(f"{text!r}: no such month, or a year outside {MIN_YEAR}–{MAX_YEAR}",
                          f"“{text}”不是有效的月份", field)
        following = date(year + month // 12, month % 12 + 1, 1)
        return Period(text, _midnight(date(year, month, 1)), _midnight(following))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = _day(text, field)
        return Period(text, _midnight(day), _midnight(day + timedelta(days=1)))
    raise _refuse("expected YYYY-MM, YYYY-Www, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD",
                  "应为 YYYY-MM、YYYY-Www、YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD", field)
