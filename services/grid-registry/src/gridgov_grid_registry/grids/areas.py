"""Areas of a grid set and their codes: pure values, no I/O.

The hierarchy is 市 city → 镇街 town → 村/社区 village → 网格 grid. Codes follow the national style: the
6-digit county-level code (Dongguan 441900) + 3-digit town + 3-digit village + 3-digit grid sequence, so a
code's length says its level (9 town, 12 village, 15 grid) and its prefix is its parent's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Level = Literal["town", "village", "grid"]
LEVELS: tuple[Level, ...] = ("town", "village", "grid")
CITY_CODE = "441900"  # 东莞市 (GB/T 2260)
CODE_LENGTH: dict[str, int] = {"town": 9, "village": 12, "grid": 15}
PARENT_LEVEL: dict[str, Level | None] = {"town": None, "village": "town", "grid": "village"}
CODE_PATTERN = r"^\d{9}(\d{3}){0,2}$"
_CODE_RE = re.compile(CODE_PATTERN)


class AreaLike(Protocol):
    """Anything shaped like an area (a table row or an ``AreaRecord``)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: Any


@dataclass(frozen=True)
class AreaRecord:
    """One town, village or grid of a grid set, independent of storage (geometry is shapely, WGS84)."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    geometry: Any


def child_code(parent: str, seq: int) -> str:
    """The code of the ``seq``-th child (1-based, 3 digits) of a city, town or village code."""
    if not 1 <= seq <= 999:
        raise ValueError(f"sequence {seq} is outside 1..999")
    return f"{parent}{seq:03d}"


def level_of(code: str) -> Level | None:
    """The level a well-formed code belongs to, by its length; None when it is not a well-formed code."""
    if not _CODE_RE.match(code):
        return None
    return {9: "town", 12: "village", 15: "grid"}[len(code)]  # type: ignore[return-value]


def parent_of(code: str) -> str | None:
    """The parent area's code (None for a town, whose parent is the city)."""
    level = level_of(code)
    if level is None or level == "town":
        return None
    return code[:-3]


@dataclass(frozen=True)
class GridSetRecord:
    """A whole grid set: its version and its towns, villages and grids (parents before children)."""

    version: str
    description: str
    areas: tuple[AreaRecord, ...]
