"""Payloads on ``gridgov.catalog.published``: a version of dispatch's event catalog (事项目录), keyed by version.

Dispatch publishes one when an admin imports a version, and again at each start for the version in effect (an
upgrade from before this topic, or a lost consumer table, learns it then). The envelope id is derived from the
version, so the same version announced twice is handled once. On Kafka the topic is compacted: a consumer
that joins late still reads every version (one message per key) and none of the repeats.
"""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, Field

from gridgov_common.categories import Category, CategoryBook
from gridgov_common.events.reports import Code, Name
from gridgov_common.schemas import INT32_MAX, Integer

CATALOG_PUBLISHED_TYPE = "catalog.published"  # the envelope type (the topic is bus.topics.CATALOG_PUBLISHED)
CATEGORIES_MAX = 5000  # a city's middle classes number in the hundreds
_NAMESPACE = uuid.UUID("6b1f3c1e-5d0a-4a57-9a57-2f4c0e6d8a11")


class CategoryEntry(BaseModel):
    """One middle class (中类) of the version: the code a report carries, and its names."""

    code: Code = Field(pattern=r"^\d{5}$")
    name_zh: Name
    name_en: Name


class CatalogPublished(BaseModel):
    """A published catalog version: its number, when it took effect, and the codes reports may carry under it."""

    version: Integer = Field(ge=1, le=INT32_MAX)
    published_at: AwareDatetime  # a version is in effect from its publication until a higher one is published
    categories: list[CategoryEntry] = Field(max_length=CATEGORIES_MAX)

    def book(self) -> CategoryBook:
        """The version as a lookup of its categories."""
        return CategoryBook(self.version, tuple(Category(c.code, c.name_zh, c.name_en) for c in self.categories),
                            published_at=self.published_at)


def catalog_key(version: int) -> str:
    """The message key of a version: one per version, so compaction keeps each version once."""
    return f"catalog-v{version}"


def catalog_message_id(version: int) -> uuid.UUID:
    """The envelope id of a version's announcement, the same every time (consumers handle it once)."""
    return uuid.uuid5(_NAMESPACE, catalog_key(version))

