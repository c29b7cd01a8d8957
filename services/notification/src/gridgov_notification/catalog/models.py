"""The catalog versions notification has learned from ``gridgov.catalog.published`` (dispatch owns the catalog)."""

from datetime import datetime

from sqlmodel import Field

from gridgov_notification.tables import NotificationTable


class CatalogVersion(NotificationTable, table=True):
    """A catalog version dispatch published (事项目录版本): in effect from ``published_at`` until a higher one."""

    __tablename__ = "catalog_version"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    published_at: datetime
    learned_at: datetime
    category_count: int


class CatalogCategory(NotificationTable, table=True):
    """One middle class (中类) of a learned version: a code a ticket may carry under it, and its names."""

    __tablename__ = "catalog_category"

    version: int = Field(primary_key=True, foreign_key="catalog_version.version")
    code: str = Field(primary_key=True, max_length=10)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
