"""The city's in-grid departments (入格部门) dispatch starts with: pure data, seeded into the table.

City bureaus (市局) are the department types the event catalog and the rules name; a town branch (镇街分局 or
镇街综合行政执法办) belongs to its bureau (``parent_code``), serves one town (``town_code``) and carries the
bureau's code as its ``department_type``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DepartmentLevel = Literal["city", "town"]


@dataclass(frozen=True)
class DepartmentSeed:
    """One department: stable code (used in tokens and routing), names, and where it sits (city or town)."""

    code: str
    name_zh: str
    name_en: str
    level: DepartmentLevel = "city"
    parent_code: str | None = None
    town_code: str | None = None

    @property
    def department_type(self) -> str:
        """The bureau type: a bureau's own code, a branch's bureau code."""
        return self.parent_code or self.code


DEPARTMENTS_CITY: tuple[DepartmentSeed, ...] = (
    DepartmentSeed("urban-management", "城市管理和综合执法局", "Urban Management and Law Enforcement Bureau"),
    DepartmentSeed("water", "水务局", "Water Affairs Bureau"),
    DepartmentSeed("housing", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    DepartmentSeed("traffic", "交通运输局", "Transport Bureau"),
    DepartmentSeed("public-security", "公安局", "Public Security Bureau (non-police matters)"),
    DepartmentSeed("ecology-environment", "生态环境局", "Ecology and Environment Bureau"),
    DepartmentSeed("market-regulation", "市场监督管理局", "Market Regulation Administration"),
    DepartmentSeed("emergency-management", "应急管理局", "Emergency Management Bureau"),
    DepartmentSeed("human-resources", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    DepartmentSeed("fire-safety", "消防救援支队", "Fire and Rescue Detachment"),
)


def _urban_management_branch(town_code: str, town_zh: str, town_en: str) -> DepartmentSeed:
    return DepartmentSeed(f"urban-management-{town_code}", f"{town_zh}综合行政执法办",
                          f"{town_en} Law Enforcement Office", level="town", parent_code="urban-management",
                          town_code=town_code)


# Demo branches: the urban-management offices of the first three towns of the Dongguan-like grid set
# (grid-registry's generator numbers them by their real statistical codes: 003 东城, 004 南城, 005 万江).
DEPARTMENTS_TOWN: tuple[DepartmentSeed, ...] = (
    _urban_management_branch("441900003", "东城街道", "Dongcheng Subdistrict"),
    _urban_management_branch("441900004", "南城街道", "Nancheng Subdistrict"),
    _urban_management_branch("441900005", "万江街道", "Wanjiang Subdistrict"),
)

DEPARTMENTS: tuple[DepartmentSeed, ...] = DEPARTMENTS_CITY + DEPARTMENTS_TOWN

DEPARTMENT_CODES: frozenset[str] = frozenset(d.code for d in DEPARTMENTS)
DEPARTMENT_TYPES: frozenset[str] = frozenset(d.code for d in DEPARTMENTS_CITY)
