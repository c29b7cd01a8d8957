"""Departments as dispatch stores them."""

from sqlmodel import Field

from gridgov_dispatch.tables import DispatchTable


class Department(DispatchTable, table=True):
    """An in-grid department (入格部门) that tickets are dispatched to."""

    __tablename__ = "department"

    code: str = Field(primary_key=True, max_length=50)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=200)
    active: bool = True
