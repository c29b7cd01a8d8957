"""Departments: city bureaus and town branches, and resolving a department type in a town (pure)."""

from dataclasses import dataclass

import pytest

from gridgov_common.errors import NotFound
from gridgov_dispatch.departments import resolve_department
from gridgov_dispatch.departments.seed import DEPARTMENT_TYPES, DEPARTMENTS


@dataclass
class Dept:
    code: str
    level: str = "city"
    town_code: str | None = None
    department_type: str = ""
    active: bool = True


BUREAU = Dept("urban-management", department_type="urban-management")
BRANCH = Dept("urban-management-441900003", "town", "441900003", "urban-management")
WATER = Dept("water", department_type="water")


def test_resolve_department_type_to_active_town_branch_in_that_town():
    assert resolve_department("urban-management", "441900003", [BUREAU, BRANCH, WATER]) == BRANCH.code


def test_resolve_department_type_to_city_bureau_in_a_town_without_branch():
    assert resolve_department("urban-management", "441900010", [BUREAU, BRANCH]) == "urban-management"
    assert resolve_department("urban-management", None, [BUREAU, BRANCH]) == "urban-management"


def test_resolve_department_type_skips_an_inactive_branch():
    inactive = Dept(BRANCH.code, "town", "441900003", "urban-management", active=False)
    assert resolve_department("urban-management", "441900003", [BUREAU, inactive]) == "urban-management"


def test_resolve_department_type_ignores_other_types_branches():
    assert resolve_department("water", "441900003", [BUREAU, BRANCH, WATER]) == "water"


def test_resolve_unknown_department_type_is_not_found():
    with pytest.raises(NotFound):
        resolve_department("police", "441900003", [BUREAU, BRANCH])


def test_resolve_department_with_the_seeded_departments():
    assert resolve_department("urban-management", "441900004", DEPARTMENTS) == "urban-management-441900004"
    assert resolve_department("fire-safety", "441900004", DEPARTMENTS) == "fire-safety"


def test_seed_departments_branches_belong_to_existing_city_bureaus():
    branches = [d for d in DEPARTMENTS if d.level == "town"]
    assert len(branches) >= 3
    for branch in branches:
        assert branch.parent_code in DEPARTMENT_TYPES and branch.department_type == branch.parent_code
        assert branch.town_code and branch.code == f"{branch.parent_code}-{branch.town_code}"
    assert all(d.department_type == d.code for d in DEPARTMENTS if d.level == "city")
    assert "fire-safety" in DEPARTMENT_TYPES
