"""The city's in-grid departments (入格部门) dispatch starts with: pure data, seeded into the table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DepartmentSeed:
    """One department: stable code (used in tokens and routing), Chinese and English name."""

    code: str
    name_zh: str
    name_en: str


DEPARTMENTS: tuple[DepartmentSeed, ...] = (
    DepartmentSeed("urban-management", "城市管理和综合执法局", "Urban Management and Law Enforcement Bureau"),
    DepartmentSeed("water", "水务局", "Water Affairs Bureau"),
    DepartmentSeed("housing", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    DepartmentSeed("traffic", "交通运输局", "Transport Bureau"),
    DepartmentSeed("public-security", "公安局", "Public Security Bureau (non-police matters)"),
    DepartmentSeed("ecology-environment", "生态环境局", "Ecology and Environment Bureau"),
    DepartmentSeed("market-regulation", "市场监督管理局", "Market Regulation Administration"),
    DepartmentSeed("emergency-management", "应急管理局", "Emergency Management Bureau"),
    DepartmentSeed("human-resources", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
)

DEPARTMENT_CODES: frozenset[str] = frozenset(d.code for d in DEPARTMENTS)
