"""Payloads on ``gridgov.grids.published``: one grid's boundary as the registry has it, keyed by grid code.

Grid-registry publishes every grid of a grid set once, when the set takes effect (imported for now, its date
reached, or seeded at the first start), and records it so that a restart publishes nothing again; grids the new set
no longer has are published ``retired``. The envelope id is derived from grid code and set version, so a message
relayed twice is handled once. The topic is compacted: a consumer that joins late learns the latest boundary of
every grid. Dispatch learns them to judge whether on-site evidence was taken inside the ticket's grid (geofenced
verification).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from gridgov_common.events.reports import Code, Name
from gridgov_common.schemas import Number

GRID_PUBLISHED_TYPE = "grid.published"  # the envelope type (the topic is bus.topics.GRIDS_PUBLISHED)
VERTICES_MAX = 20_000  # a generous bound on one grid's vertices, all rings together
_NAMESPACE = uuid.UUID("0c9f2d4a-7e1b-4c3f-9a6e-5b8d1f2e3a47")

Position = Annotated[list[Number], Field(min_length=2, max_length=2)]  # [lon, lat], WGS84


class GridBoundary(BaseModel):
    """A GeoJSON Polygon or MultiPolygon in WGS84 ([lon, lat] positions)."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list = Field(max_length=VERTICES_MAX)


class GridPublished(BaseModel):
    """One grid of a grid set: its code, names and boundary; ``retired`` when the set no longer has it."""

    grid_code: Code
    grid_name: Name
    village_code: Code
    town_code: Code
    grid_set_version: Code
    boundary: GridBoundary | None = None  # None only when retired
    retired: bool = False
    published_at: AwareDatetime


def grid_key(grid_code: str) -> str:
    """The message key of a grid: compaction keeps its latest boundary."""
    return f"grid-{grid_code}"


def grid_message_id(grid_code: str, grid_set_version: str) -> uuid.UUID:
    """The envelope id of a grid's announcement in one set version, the same every time (handled once)."""
    return uuid.uuid5(_NAMESPACE, f"{grid_code}@{grid_set_version}")
