"""The event catalog as dispatch stores it: published versions, each with its items, never changed after."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_dispatch.tables import DispatchTable


class CatalogVersion(DispatchTable, table=True):
    """One published version of the catalog (事项目录版本): who published it, when, why, how many items."""

    __tablename__ = "catalog_version"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    published_at: datetime
    published_by: str = Field(max_length=100)
    note: str | None = Field(default=None, max_length=500)
    item_count: int


class CatalogItemRow(DispatchTable, table=True):
    """One item of one catalog version, as written (inheritance is resolved on reading, by ``items.Catalog``)."""

    __tablename__ = "catalog_item"

    version: int = Field(primary_key=True, foreign_key="catalog_version.version")
    code: str = Field(primary_key=True, max_length=9)
    level: str = Field(max_length=10)
    parent_code: str | None = Field(default=None, max_length=9)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=200)
    department_type: str | None = Field(default=None, max_length=50)
    filing_conditions: str = Field(sa_type=sa.Text)
    closing_conditions: str = Field(sa_type=sa.Text)
    claim_amount: int | None = None
    claim_unit: str | None = Field(default=None, max_length=20)
    handle_amount: int | None = None
    handle_unit: str | None = Field(default=None, max_length=20)
    verify_amount: int | None = None
    verify_unit: str | None = Field(default=None, max_length=20)
    legal_basis: str = Field(sa_type=sa.Text)
