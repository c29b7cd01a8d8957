"""The common query of the analytics API, read and checked: time range, area, categories, channels, measures.

Pure (no I/O): strings in, values out, or a ``ValidationFailed`` naming the parameter, in English and Chinese.
Whether an area or a category exists is the handlers' question (it needs the database).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from gridgov_analytics.cube.projection import CHANNELS, MEASURES
from gridgov_common.categories import seed_csv
from gridgov_common.errors import ErrorDetail, NotFound, ValidationFailed

MAX_DAYS = 400  # the longest range one answer covers
DEFAULT_DAYS = 90  # the range when none is given: the 90 days up to today
EARLIEST = date(2000, 1, 1)
AREA_LEVELS = ("town", "village", "grid")
AREA_ZH = {"town": "镇街", "village": "村社区", "grid": "网格"}
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
AREA_PATTERN = r"^(town|village|grid):[0-9A-Za-z_.-]{1,64}$"
CODE_LIST_PATTERN = r"^[0-9]{1,16}(,[0-9]{1,16}){0,49}$"
WORD_LIST_PATTERN = r"^[a-z_0-9]{1,32}(,[a-z_0-9]{1,32}){0,19}$"
_DATE = re.compile(DATE_PATTERN)


def refused(field: str, reason: str, reason_zh: str) -> ValidationFailed:
    """A 422 naming one query parameter, with its Chinese reason."""
    error = ValidationFailed(f"invalid {field}: {reason}", [ErrorDetail(field, reason, reason_zh)])
    error.message_zh = f"参数 {field} 无效：{reason_zh}"
    return error


def unknown_area(text: str) -> NotFound:
    """A 404 naming ``area``: no grid, village or town has this code."""
    error = NotFound("area", text)
    error.message_zh = f"区域 {text} 不存在"
    return error


@dataclass(frozen=True)
class Window:
    """Local days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the window covers."""
        return (self.end - self.start).days + 1


def _day(text: str, field: str) -> date:
    if not _DATE.match(text):
        raise refused(field, "expected a date YYYY-MM-DD", "应为日期，格式 YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise refused(field, "not a calendar date", "不是有效的日期") from None


def parse_window(start: str | None, end: str | None, today: date, *, max_days: int = MAX_DAYS) -> Window:
    """The range of ``from`` and ``to`` (local dates, ``to`` included; by default the 90 days up to today):
    a reversed, too long or far-off range is refused, naming the parameter at fault."""
    last = _day(end, "to") if end else today
    first = _day(start, "from") if start else last - timedelta(days=DEFAULT_DAYS - 1)
    latest = today + timedelta(days=366)
    for field, value in (("to", last), ("from", first)):  # a default `from` follows `to`: name `to` first
        if value < EARLIEST or value > latest:
            raise refused(field, f"must lie between {EARLIEST.isoformat()} and {latest.isoformat()}",
                          f"应在 {EARLIEST.isoformat()} 与 {latest.isoformat()} 之间")
    if last < first:
        raise refused("to", "is before from", "早于开始日期 from")
    window = Window(first, last)
    if window.days > max_days:
        raise refused("to", f"the range covers {window.days} days; at most {max_days}",
                      f"时间范围为 {window.days} 天，最多 {max_days} 天")
    return window


def parse_area(text: str | None) -> tuple[str, str] | None:
    """``town:<code>`` | ``village:<code>`` | ``grid:<code>`` as (level, code)."""
    if not text:
        return None
    level, _, code = text.partition(":")
    if level not in AREA_LEVELS or not code or not re.fullmatch(r"[0-9A-Za-z_.-]{1,64}", code):
        raise refused("area", "expected town:<code>, village:<code> or grid:<code>",
                      "应为 town:<代码>、village:<代码> 或 grid:<代码>")
    return level, code


def _items(text: str | None, field: str) -> list[str]:
    if not text:
        return []
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise refused(field, "an empty item in the list", "列表中有空项")
    return list(dict.fromkeys(items))


def parse_choices(text: str | None, field: str, choices: tuple[str, ...], default: tuple[str, ...] = ()
                  ) -> list[str]:
    """A comma-separated list of known words (``default`` when empty); an unknown one is refused."""
    items = _items(text, field) or list(default)
    unknown = [item for item in items if item not in choices]
    if unknown:
        raise refused(field, f"unknown {unknown[0]!r}; one of {', '.join(choices)}",
                      f"未知取值 {unknown[0]}，应为 {', '.join(choices)} 之一")
    return items


def parse_channels(text: str | None) -> list[str]:
    """The channels asked for (none: all)."""
    return parse_choices(text, "channel", CHANNELS)


def parse_measures(text: str | None, default: tuple[str, ...] = ("registered",)) -> list[str]:
    """The measures asked for."""
    return parse_choices(text, "measure", MEASURES, default)


def parse_categories(text: str | None) -> list[str]:
    """Catalog codes or code prefixes (a class and everything under it), syntax only."""
    items = _items(text, "category")
    for item in items:
        if not item.isdigit() or not item.isascii() or len(item) > 16:
            raise refused("category", f"{item!r} is not a catalog code", f"{item} 不是事项目录代码")
    return items


@cache
def seed_codes() -> frozenset[str]:
    """Every code of the packaged catalog, at every level."""
    return frozenset(row["code"].strip() for row in csv.DictReader(io.StringIO(seed_csv())))


def seed_knows(prefix: str) -> bool:
    """Whether a code of the packaged catalog is or starts with ``prefix``."""
    return any(code.startswith(prefix) for code in seed_codes())


def buckets(window: Window, bucket: str) -> list[date]:
    """The bucket starts of a window: each day, or each week's Monday."""
    if bucket == "day":
        return [window.start + timedelta(days=i) for i in range(window.days)]
    first = window.start - timedelta(days=window.start.weekday())
    return [first + timedelta(days=7 * i) for i in range((window.end - first).days // 7 + 1)]


def category_class(code: str) -> str:
    """The major class (大类) of a catalog code: its first two digits."""
    return code[:2]
