"""The event catalog (事项目录), pure: items, CSV parsing and validation, inheritance, and lookup. No I/O.

Codes follow the national 2+3 style and nest by prefix: major (大类, 2 digits), middle (中类, 5 = 2+3; the code a
report carries), minor (小类, 7 = middle + 2), detail (细类, 9 = minor + 2). An item left without a department type
or a time limit inherits its parent's, so a major class states the class defaults and deeper items only the
exceptions. After inheritance every middle item (and so every item below it) has a department type and all three
stage limits: claim (签收), handle (处置) and verify (核查).

The CSV has one header row (``COLUMNS``) and is UTF-8; a problem names the CSV line (the header is line 1),
the code, the column and the reason. Validation is all-or-nothing: any problem refuses the whole file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from gridgov_common.errors import ErrorDetail, NotFound, ValidationFailed

Level = Literal["major", "middle", "minor", "detail"]
TimeUnit = Literal["clock_hours", "working_hours", "working_days"]

LEVELS: tuple[Level, ...] = ("major", "middle", "minor", "detail")
CODE_LENGTHS: dict[str, int] = {"major": 2, "middle": 5, "minor": 7, "detail": 9}
LEVEL_OF_LENGTH: dict[int, Level] = {2: "major", 5: "middle", 7: "minor", 9: "detail"}
# 紧急工作时 (natural clock, day and night) | 工作时 (working hours) | 工作日 (working days)
TIME_UNITS: tuple[TimeUnit, ...] = ("clock_hours", "working_hours", "working_days")
STAGES: tuple[str, ...] = ("claim", "handle", "verify")

COLUMNS: tuple[str, ...] = (
    "code", "level", "parent_code", "name_zh", "name_en", "department_type", "filing_conditions",
    "closing_conditions", "claim_amount", "claim_unit", "handle_amount", "handle_unit", "verify_amount",
    "verify_unit", "legal_basis",
)


@dataclass(frozen=True)
class TimeLimit:
    """A time limit (时限): an amount of a unit."""

    amount: int
    unit: TimeUnit


@dataclass(frozen=True)
class StageLimits:
    """The time limits of the three stages a department and a grid worker work under."""

    claim: TimeLimit  # 签收
    handle: TimeLimit  # 处置
    verify: TimeLimit  # 核查


@dataclass(frozen=True)
class CatalogItem:
    """One catalog item as written (before inheritance): empty department type or limit means "the parent's"."""

    code: str
    level: Level
    parent_code: str | None
    name_zh: str
    name_en: str
    department_type: str | None = None
    filing_conditions: str = ""  # 立案条件
    closing_conditions: str = ""  # 结案条件
    claim: TimeLimit | None = None
    handle: TimeLimit | None = None
    verify: TimeLimit | None = None
    legal_basis: str = ""


@dataclass(frozen=True)
class ResolvedItem:
    """An item with what it inherits filled in: the department type and the three stage limits."""

    item: CatalogItem
    department_type: str
    limits: StageLimits

    @property
    def code(self) -> str:
        """The item's code."""
        return self.item.code


@dataclass(frozen=True)
class Problem:
    """One reason a catalog is refused: the CSV line (0 when not from a CSV), the code, the column, why."""

    row: int
    code: str
    field: str
    reason: str

    def detail(self) -> ErrorDetail:
        """As an API error detail: the field names the row and the column, the reason names the code."""
        where = f"row {self.row}: {self.field}" if self.row else self.field
        return ErrorDetail(where, f"{self.code or '(no code)'}: {self.reason}")


class CatalogInvalid(ValidationFailed):
    """A catalog that breaks a rule; ``problems`` keeps each row, code, field and reason apart."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"the catalog has {len(problems)} problem(s); nothing was imported",
                         [p.detail() for p in problems])
        self.problems = problems


def level_of(code: str) -> Level | None:
    """The level a code's length means, or None for a malformed code."""
    return LEVEL_OF_LENGTH.get(len(code)) if code.isdigit() else None


def parent_of(code: str) -> str | None:
    """The parent code by the prefix rule: 01001 → 01, 0100101 → 01001, 010010101 → 0100101; None for a major."""
    level = level_of(code)
    if level is None or level == "major":
        return None
    return code[:CODE_LENGTHS[LEVELS[LEVELS.index(level) - 1]]]


# --- CSV ------------------------------------------------------------------------------------------------------


def _limit_cells(limit: TimeLimit | None) -> list[str]:
    return ["", ""] if limit is None else [str(limit.amount), limit.unit]


def to_csv(items: Iterable[CatalogItem]) -> str:
    """The items as CSV text (header first, items by code), exactly as ``parse_csv`` reads them back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for it in sorted(items, key=lambda i: i.code):
        writer.writerow([it.code, it.level, it.parent_code or "", it.name_zh, it.name_en, it.department_type or "",
                         it.filing_conditions, it.closing_conditions, *_limit_cells(it.claim),
                         *_limit_cells(it.handle), *_limit_cells(it.verify), it.legal_basis])
    return out.getvalue()


def _parse_limit(row: int, code: str, stage: str, amount: str, unit: str,
                 problems: list[Problem]) -> TimeLimit | None:
    if not amount and not unit:
        return None  # inherited from the parent
    bad = len(problems)
    if not amount:
        problems.append(Problem(row, code, f"{stage}_amount", f"missing (the unit {unit!r} is given)"))
    elif not amount.isdigit() and not (amount.startswith("-") and amount[1:].isdigit()):
        problems.append(Problem(row, code, f"{stage}_amount", f"{amount!r} is not a whole number"))
    elif int(amount) <= 0:
        problems.append(Problem(row, code, f"{stage}_amount", f"must be positive, got {amount}"))
    if unit not in TIME_UNITS:
        reason = "missing (the amount is given)" if not unit else f"unknown unit {unit!r}"
        problems.append(Problem(row, code, f"{stage}_unit", f"{reason}; one of {', '.join(TIME_UNITS)}"))
    return None if len(problems) > bad else TimeLimit(int(amount), unit)  # type: ignore[arg-type]


def parse_csv(text: str, department_types: Collection[str]) -> list[CatalogItem]:
    """Parse and validate a whole catalog from CSV text; raises CatalogInvalid naming every problem found."""
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM, as spreadsheet programs write it
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise CatalogInvalid([Problem(1, "", "header", "the file is empty")])
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        problems = [Problem(1, "", c, "missing column") for c in missing]
        problems += [Problem(1, "", c, f"unknown column; the columns are {', '.join(COLUMNS)}") for c in unknown]
        raise CatalogInvalid(problems)
    problems: list[Problem] = []
    items: list[tuple[int, CatalogItem]] = []
    for cells in reader:
        row = reader.line_num  # the line the record ends on (the header is line 1)
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            problems.append(Problem(row, cells[0].strip() if cells else "", "row",
                                    f"has {len(cells)} cells, the header {len(header)}"))
            continue
        raw = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        item = _parse_row(row, raw, problems)
        if item is not None:
            items.append((row, item))
    if not problems:
        problems = _check(items, department_types)
    if problems:
        raise CatalogInvalid(problems)
    return [item for _, item in items]


def _parse_row(row: int, raw: dict[str, str], problems: list[Problem]) -> CatalogItem | None:
    bad = len(problems)
    code, level = raw["code"], raw["level"]
    code_level = level_of(code)
    if code_level is None:
        problems.append(Problem(row, code, "code", "malformed: 2, 5, 7 or 9 digits (major, middle, minor, detail)"))
    if level not in LEVELS:
        problems.append(Problem(row, code, "level", f"unknown level {level!r}; one of {', '.join(LEVELS)}"))
    elif code_level is not None and code_level != level:
        problems.append(Problem(row, code, "code",
                                f"a {level} code has {CODE_LENGTHS[level]} digits, this one {len(code)}"))
    parent = raw["parent_code"] or None
    if code_level is not None and parent != parent_of(code):
        expected = parent_of(code)
        problems.append(Problem(row, code, "parent_code", "a major class has no parent" if expected is None
                                else f"must be {expected} (the code's prefix), got {parent or 'nothing'}"))
    if not raw["name_zh"]:
        problems.append(Problem(row, code, "name_zh", "missing"))
    limits = {stage: _parse_limit(row, code, stage, raw[f"{stage}_amount"], raw[f"{stage}_unit"], problems)
              for stage in STAGES}
    if len(problems) > bad:
        return None
    return CatalogItem(code=code, level=level, parent_code=parent, name_zh=raw["name_zh"],  # type: ignore[arg-type]
                       name_en=raw["name_en"], department_type=raw["department_type"] or None,
                       filing_conditions=raw["filing_conditions"], closing_conditions=raw["closing_conditions"],
                       legal_basis=raw["legal_basis"], **limits)


def _check(rows: list[tuple[int, CatalogItem]], department_types: Collection[str]) -> list[Problem]:
    """Rules across rows: duplicates, parents, department types, and what middle items end up with."""
    problems: list[Problem] = []
    by_code: dict[str, CatalogItem] = {}
    for row, item in rows:
        if item.code in by_code:
            problems.append(Problem(row, item.code, "code", "duplicate code"))
            continue
        by_code[item.code] = item
    for row, item in rows:
        if item.parent_code is not None and item.parent_code not in by_code:
            problems.append(Problem(row, item.code, "parent_code", f"missing parent {item.parent_code}"))
        if item.department_type is not None and item.department_type not in department_types:
            problems.append(Problem(row, item.code, "department_type",
                                    f"unknown department type {item.department_type!r}"))
    if problems:
        return problems
    for row, item in rows:
        if item.level != "middle":
            continue
        department, limits = _inherit(item.code, by_code)
        if department is None:
            problems.append(Problem(row, item.code, "department_type", "none here or in its major class"))
        for stage in STAGES:
            if limits[stage] is None:
                problems.append(Problem(row, item.code, f"{stage}_amount",
                                        f"no {stage} time limit here or in its major class"))
    return problems


def _inherit(code: str, by_code: dict[str, CatalogItem]) -> tuple[str | None, dict[str, TimeLimit | None]]:
    """The department type and limits of ``code`` after inheritance (its own, else its nearest ancestor's)."""
    chain: list[CatalogItem] = []
    current: str | None = code
    while current is not None and current in by_code:
        chain.append(by_code[current])
        current = by_code[current].parent_code
    department = next((i.department_type for i in chain if i.department_type), None)
    limits = {stage: next((getattr(i, stage) for i in chain if getattr(i, stage) is not None), None)
              for stage in STAGES}
    return department, limits


# --- lookup ---------------------------------------------------------------------------------------------------


class Catalog:
    """A validated catalog version for lookups: items by code, and each middle-or-deeper item resolved."""

    def __init__(self, items: Iterable[CatalogItem], version: int = 0):
        self.version = version
        self._items: dict[str, CatalogItem] = {i.code: i for i in sorted(items, key=lambda i: i.code)}
        self._resolved: dict[str, ResolvedItem] = {}
        for item in self._items.values():
            department, limits = _inherit(item.code, self._items)
            if department is not None and all(limits.values()):
                self._resolved[item.code] = ResolvedItem(item, department, StageLimits(**limits))  # type: ignore

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, code: object) -> bool:
        return code in self._items

    def items(self) -> list[CatalogItem]:
        """Every item, by code."""
        return list(self._items.values())

    def item(self, code: str) -> CatalogItem:
        """The item with exactly this code, or NotFound."""
        try:
            return self._items[code]
        except KeyError:
            raise NotFound("catalog item", code) from None

    def resolved(self, code: str) -> ResolvedItem:
        """The deepest item whose code is a prefix of ``code``, with its department type and limits inherited.

        A detail code finds its own item, an unknown minor code under a known middle class finds the middle
        class. NotFound when no middle-or-deeper item is a prefix (a major class alone names no limits for sure).
        """
        for length in (9, 7, 5):
            if len(code) >= length and (hit := self._resolved.get(code[:length])):
                return hit
        raise NotFound("catalog item", code)

    def codes(self, level: Level) -> list[str]:
        """The codes of one level, in order."""
        return [c for c, i in self._items.items() if i.level == level]

    def children(self, code: str) -> list[CatalogItem]:
        """The items whose parent is ``code``."""
        return [i for i in self._items.values() if i.parent_code == code]


__all__ = [
    "COLUMNS", "LEVELS", "STAGES", "TIME_UNITS", "Catalog", "CatalogInvalid", "CatalogItem", "Level", "Problem",
    "ResolvedItem", "StageLimits", "TimeLimit", "TimeUnit", "level_of", "parent_of", "parse_csv", "to_csv",
]
