"""API shapes of departments."""

from pydantic import BaseModel


class DepartmentRead(BaseModel):
    """A department: code, names, whether it takes new tickets, and where it sits (city bureau or town branch)."""

    code: str
    name_zh: str
    name_en: str
    active: bool
    level: str
    parent_code: str | None
    town_code: str | None
    department_type: str
