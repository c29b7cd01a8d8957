"""Windows written as durations with their unit (时长), pure: ``"30m"`` in, a timedelta out, and back.

Every window in the tables and the API is such a string (``dedupe_window: "30m"``) and is stored as whole seconds
in a column named ``*_s``, so a window can never be written in one unit and applied in another (the Netflix
Dispatch complaint). One integer and one unit, nothing else: no "1h30m", no decimals, no bare numbers.
"""

from __future__ import annotations

import re
from datetime import timedelta

UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_SECONDS = 1
MAX_SECONDS = 30 * 86400
MAX_TEXT = 16
_PATTERN = re.compile(r"([0-9]+)([smhd])")


def parse_duration(text: str) -> timedelta:
    """The timedelta of ``"<int><s|m|h|d>"`` within 1 s .. 30 d; ValueError saying why otherwise."""
    if not isinstance(text, str):
        raise ValueError("a duration is a string like 30m, 2h, 45s or 1d")
    if len(text) > MAX_TEXT:
        raise ValueError(f"a duration is at most {MAX_TEXT} characters")
    m = _PATTERN.fullmatch(text)
    if m is None:
        raise ValueError("a duration is a whole number and a unit s, m, h or d, e.g. 30m")
    seconds = int(m.group(1)) * UNITS[m.group(2)]
    if seconds < MIN_SECONDS:
        raise ValueError("a duration is at least 1s")
    if seconds > MAX_SECONDS:
        raise ValueError("a duration is at most 30d")
    return timedelta(seconds=seconds)


def duration_seconds(text: str) -> int:
    """The whole seconds of a duration string: what a ``*_s`` column stores."""
    return int(parse_duration(text).total_seconds())


def format_duration(td: timedelta | int) -> str:
    """The shortest ``"<int><unit>"`` for a whole number of seconds (a timedelta or an int), largest unit first."""
    seconds = td if isinstance(td, int) else td.total_seconds()
    if seconds != int(seconds):
        raise ValueError("a duration is a whole number of seconds")
    seconds = int(seconds)
    if seconds < MIN_SECONDS or seconds > MAX_SECONDS:
        raise ValueError("a duration is between 1s and 30d")
    for unit in ("d", "h", "m"):
        if seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"
