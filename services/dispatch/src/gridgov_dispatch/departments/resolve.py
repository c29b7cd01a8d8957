"""Which department a department type (部门类型) means in a town: pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from gridgov_common.errors import NotFound


class DepartmentLike(Protocol):
    """What resolution reads of a department (a stored row or a seed)."""

    code: str
    level: str
    town_code: str | None

    @property
    def department_type(self) -> str:
        """The bureau type."""
        ...


def resolve_department(department_type: str, town_code: str | None, departments: Iterable[DepartmentLike]) -> str:
    """The active town branch of ``department_type`` in ``town_code`` if there is one, else the city bureau's code.

    Raises NotFound when there is neither such a branch nor a city bureau of that type.
    """
    departments = list(departments)
    if town_code:
        branches = sorted(d.code for d in departments
                          if d.level == "town" and d.town_code == town_code
                          and (d.department_type or d.code) == department_type and getattr(d, "active", True))
        if branches:
            return branches[0]  # one branch per type and town is the norm; the lowest code keeps it deterministic
    for d in departments:
        if d.level == "city" and d.code == department_type:
            return d.code
    raise NotFound("department type", department_type)
