"""The grids analytics has learned from grid-registry (``gridgov.grids.published``); it never reads its tables."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_analytics.tables import AnalyticsTable


class LearnedGrid(AnalyticsTable, table=True):
    """The latest announcement of one grid: names, parents, boundary (GeoJSON), retired or not."""

    __tablename__ = "learned_grid"

    grid_code: str = Field(primary_key=True, max_length=64)
    grid_name: str = Field(max_length=200)
    village_code: str = Field(max_length=64, index=True)
    town_code: str = Field(max_length=64, index=True)
    grid_set_version: str = Field(max_length=64)
    boundary_geojson: str | None = Field(default=None, sa_type=sa.Text)  # None: retired
    retired: bool = False
    published_at: datetime
