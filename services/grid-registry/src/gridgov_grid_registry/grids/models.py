"""Grid sets and their areas as grid-registry stores them.

One ``area`` table holds towns, villages and grids, told apart by ``level``: the three levels have the same
columns (code, name, parent, polygon), a code is unique across levels (its length is its level), one GiST
index serves every spatial query, and ``GET /v1/grids/{code}`` reads any level the same way. Every area
belongs to a grid set (``grid_set``): sets are versions of the city's division, each taking effect from a
moment (``effective_from``); lookups use the set in effect now, and older sets stay readable, so a ticket
located in an old set keeps its grid.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKeyConstraint, Index
from sqlmodel import Field

from gridgov_grid_registry.grids.geometry import AreaGeometry
from gridgov_grid_registry.tables import RegistryTable


class GridSet(RegistryTable, table=True):
    """A version of the city's grid division (e.g. ``demo-2``, or an import of the city's 2,930 grids)."""

    __tablename__ = "grid_set"

    version: str = Field(primary_key=True, max_length=40)
    description: str = Field(max_length=200)
    # When lookups switch to this set (None: stored but never in effect). The set in effect at a moment is
    # the one with the latest effective_from not after it (ties: the later created).
    effective_from: datetime | None = Field(default=None, index=True)
    source: str | None = Field(default=None, max_length=200)  # file name or generator it came from
    created_at: datetime


class Area(RegistryTable, table=True):
    """A town (镇街), village (村/社区) or grid (网格) of one grid set, with its polygon."""

    __tablename__ = "area"
    __table_args__ = (
        ForeignKeyConstraint(["grid_set"], ["grid_set.version"]),
        ForeignKeyConstraint(["grid_set", "parent_code"], ["area.grid_set", "area.code"]),
        CheckConstraint("level IN ('town', 'village', 'grid')", name="ck_area_level"),
        Index("ix_area_set_level_code", "grid_set", "level", "code"),
        Index("ix_area_set_parent", "grid_set", "parent_code"),
        # The GiST index ST_Covers uses; SQLite keeps WKB blobs and looks up in memory instead.
        Index("ix_area_geometry", "geometry", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    grid_set: str = Field(primary_key=True, max_length=40)
    code: str = Field(primary_key=True, max_length=15)
    level: str = Field(max_length=10)
    name: str = Field(max_length=100)
    parent_code: str | None = Field(default=None, max_length=15)
    geometry: Any = Field(sa_column=Column("geometry", AreaGeometry(), nullable=False))


class GridAnnouncement(RegistryTable, table=True):
    """A grid set whose grids were announced on ``gridgov.grids.published`` (one message per grid, and a retiring
    one per grid the previously announced set had and this one has not): each set is announced once, so a
    restart announces nothing again."""

    __tablename__ = "grid_announcement"

    grid_set: str = Field(primary_key=True, max_length=40)
    announced_at: datetime = Field(index=True)
    grids: int  # how many grids were announced
    retired: int  # how many grids of the previously announced set were announced retired
