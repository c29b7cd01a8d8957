"""The category codes a report may carry (national 2+3 style: major class + minor class), as one catalog version.

Dispatch owns the event catalog (事项目录) and publishes every version on ``gridgov.catalog.published``; the
other services learn the codes from there. Its first version ships here as data, ``catalog_seed.csv``: dispatch
seeds its version 1 from this file, and a service that has not yet learned any published version uses it. One
source file, so no list has to be kept equal to another.

A report carries a middle-class (中类) code; a ``CategoryBook`` holds the middle classes of one version.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.resources import files

SEED_FILE = "catalog_seed.csv"
SEED_VERSION = 1
MIDDLE = "middle"  # the level of the codes reports carry


@dataclass(frozen=True)
class Category:
    """One event category: code, Chinese and English name."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class CategoryBook:
    """The categories of one catalog version, by code; ``published_at`` is None for the packaged seed."""

    version: int
    categories: tuple[Category, ...]
    published_at: datetime | None = None
    by_code: dict[str, Category] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_code", {c.code: c for c in self.categories})

    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories)

    def __len__(self) -> int:
        return len(self.categories)

    def get(self, code: str) -> Category | None:
        """The category of a code, or None when this version does not list it."""
        return self.by_code.get(code)

    def is_known(self, code: str) -> bool:
        """Whether a report may carry this code under this version."""
        return code in self.by_code


def seed_csv() -> str:
    """The packaged first catalog version (``catalog_seed.csv``: every level, dispatch's import format)."""
    return files("gridgov_common").joinpath(SEED_FILE).read_text(encoding="utf-8")


def middle_classes(rows: Iterable[dict[str, str]]) -> tuple[Category, ...]:
    """The middle classes (the codes a report carries) of catalog CSV rows, by code."""
    return tuple(sorted((Category(r["code"].strip(), r["name_zh"].strip(), r["name_en"].strip())
                         for r in rows if (r.get("level") or "").strip() == MIDDLE), key=lambda c: c.code))


@cache
def seed_book() -> CategoryBook:
    """The categories of the packaged first version: what a service uses before it learns a published one."""
    return CategoryBook(SEED_VERSION, middle_classes(csv.DictReader(io.StringIO(seed_csv()))))
