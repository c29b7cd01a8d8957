"""API shapes of departments."""

from pydantic import BaseModel


class DepartmentRead(BaseModel):
    """A department: code, names, whether it takes new tickets."""

    code: str
    name_zh: str
    name_en: str
    active: bool
