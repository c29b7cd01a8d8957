"""Which department type (部门类型) handles a middle code, as dispatch's catalog rules decide it: the item's own
department type, else its major class's (dispatch's ``catalog/items.py`` inheritance). Pure.

Intake's learned catalog carries codes and names only, so the department types come from the packaged first
version (``catalog_seed.csv``); a code a later version added inherits its major class's type by its prefix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from functools import cache

from gridgov_common.categories import seed_csv

# The city bureaus' names (dispatch's department seed); the codes are the catalog's department types.
DEPARTMENT_TYPE_NAMES = {
    "urban-management": "城市管理和综合执法局",
    "water": "水务局",
    "housing": "住房和城乡建设局",
    "traffic": "交通运输局",
    "public-security": "公安局",
    "ecology-environment": "生态环境局",
    "market-regulation": "市场监督管理局",
    "emergency-management": "应急管理局",
    "human-resources": "人力资源和社会保障局",
    "fire-safety": "消防救援支队",
}
MAJOR_LEN = 2  # a middle code is its major class's two digits and three of its own


def department_types(csv_text: str) -> dict[str, str]:
    """Middle and major code → department type after inheritance, for catalog CSV text."""
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    own = {r["code"].strip(): (r.get("department_type") or "").strip() for r in rows}
    out = {}
    for row in rows:
        code, level = row["code"].strip(), (row.get("level") or "").strip()
        if level in ("major", "middle"):
            found = own.get(code) or own.get(code[:MAJOR_LEN]) or ""
            if found:
                out[code] = found
    return out


@cache
def seed_department_types() -> dict[str, str]:
    """``department_types`` of the packaged first catalog version."""
    return department_types(seed_csv())


def department_of(code: str) -> str | None:
    """The department type of a middle code (its own, else its major class's), or None if unknown."""
    types = seed_department_types()
    return types.get(code) or types.get(code[:MAJOR_LEN])


def department_by_summed_probability(classes: Sequence[str], probs: Sequence[float]) -> tuple[str | None, float]:
    """The department type whose codes together are likeliest (the sum of their probabilities), and that sum;
    (None, 0.0) without any code of a known department. A text split between two of one bureau's codes may
    still be that bureau's with more confidence than the single likeliest code of another."""
    totals: dict[str, float] = {}
    for code, p in zip(classes, probs, strict=True):
        department = department_of(code)
        if department is not None:
            totals[department] = totals.get(department, 0.0) + float(p)
    if not totals:
        return None, 0.0
    best = max(sorted(totals), key=lambda d: totals[d])  # sorted: a tie goes to the same department every time
    return best, totals[best]


def department_name(department_type: str | None) -> str | None:
    """The Chinese name of a department type, or None."""
    return DEPARTMENT_TYPE_NAMES.get(department_type or "")


def major_of(code: str) -> str:
    """The major class (大类) of a middle code."""
    return code[:MAJOR_LEN]
