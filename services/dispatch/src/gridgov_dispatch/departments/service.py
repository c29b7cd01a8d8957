"""Queries on departments, and seeding the table from ``seed.DEPARTMENTS``."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from gridgov_common.db import Database
from gridgov_common.errors import NotFound
from gridgov_dispatch.departments.models import Department
from gridgov_dispatch.departments.seed import DEPARTMENTS, DepartmentSeed


def list_all(session: Session) -> list[Department]:
    """Every department, by code."""
    return list(session.exec(select(Department).order_by(Department.code)).all())


def get_or_raise(session: Session, code: str) -> Department:
    """The department, or NotFound."""
    department = session.get(Department, code)
    if department is None:
        raise NotFound("department", code)
    return department


def is_active(session: Session, code: str) -> bool:
    """Whether a department exists and takes new tickets."""
    department = session.get(Department, code)
    return department is not None and department.active


def department_types(session: Session) -> set[str]:
    """The department types: the codes of the city bureaus (what the catalog's department_type may name)."""
    return set(session.exec(select(Department.code).where(Department.level == "city")).all())


def seed(db: Database, departments: tuple[DepartmentSeed, ...] = DEPARTMENTS) -> None:
    """Insert the seeded departments that are missing and refresh the names and places of the others (idempotent)."""
    for attempt in range(2):
        try:
            with db.session() as session:
                for item in departments:
                    row = session.get(Department, item.code)
                    if row is None:
                        row = Department(code=item.code, name_zh=item.name_zh, name_en=item.name_en)
                    row.name_zh, row.name_en = item.name_zh, item.name_en
                    row.level, row.parent_code, row.town_code = item.level, item.parent_code, item.town_code
                    row.department_type = item.department_type
                    session.add(row)
                session.commit()
            return
        except IntegrityError:
            if attempt:  # another instance seeded concurrently; one retry sees its rows
                raise
