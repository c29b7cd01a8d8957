"""API shapes of the event catalog."""

from datetime import datetime

from pydantic import BaseModel


class TimeLimitRead(BaseModel):
    """A time limit: amount of clock_hours (紧急工作时), working_hours (工作时) or working_days (工作日)."""

    amount: int
    unit: str


class ResolvedRead(BaseModel):
    """What an item ends up with after inheritance: its department type and the three stage limits."""

    department_type: str
    claim: TimeLimitRead
    handle: TimeLimitRead
    verify: TimeLimitRead


class CatalogItemRead(BaseModel):
    """A catalog item as written (null = inherited from the parent), and ``resolved`` (null for major classes)."""

    code: str
    level: str
    parent_code: str | None
    name_zh: str
    name_en: str
    department_type: str | None
    filing_conditions: str
    closing_conditions: str
    claim: TimeLimitRead | None
    handle: TimeLimitRead | None
    verify: TimeLimitRead | None
    legal_basis: str
    resolved: ResolvedRead | None


class CatalogVersionRead(BaseModel):
    """A published catalog version."""

    version: int
    published_at: datetime
    published_by: str
    note: str | None
    item_count: int


class CatalogRead(BaseModel):
    """One version of the catalog with its (filtered) items, by code."""

    version: int
    published_at: datetime
    published_by: str
    note: str | None
    items: list[CatalogItemRead]


class ImportReport(BaseModel):
    """The outcome of a valid import: the version made (or that a dry run would make) and what changed."""

    dry_run: bool
    version: int
    item_count: int
    added: list[str]
    removed: list[str]
    changed: list[str]
