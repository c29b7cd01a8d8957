"""Queries on department areas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from gridgov_grid_registry.departments.models import DepartmentArea


def list_department_areas(session: Session, department: str | None = None) -> list[DepartmentArea]:
    """Department areas, of one department or all, by department then code."""
    query = select(DepartmentArea)
    if department is not None:
        query = query.where(DepartmentArea.department == department)
    return list(session.exec(query.order_by(DepartmentArea.department, DepartmentArea.code)))


def signature(session: Session) -> tuple[int, datetime | None]:
    """A cheap fingerprint of the layer (count, last change), to notice another process's edit."""
    row = session.exec(select(func.count(), func.max(DepartmentArea.updated_at))).one()
    return int(row[0]), row[1]
