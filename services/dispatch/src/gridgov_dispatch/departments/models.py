"""Departments as dispatch stores them."""

from sqlmodel import Field

from gridgov_dispatch.tables import DispatchTable


class Department(DispatchTable, table=True):
    """An in-grid department (入格部门) that tickets are dispatched to: a city bureau or one of its town branches."""

    __tablename__ = "department"

    code: str = Field(primary_key=True, max_length=50)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=200)
    active: bool = True
    level: str = Field(default="city", max_length=10)  # "city" (市局) | "town" (镇街分局)
    parent_code: str | None = Field(default=None, max_length=50)  # a town branch's city bureau
    town_code: str | None = Field(default=None, max_length=20)  # the town a branch serves
    # The bureau type the catalog and the rules name: a bureau's own code, a branch's bureau code.
    department_type: str = Field(default="", max_length=50)
