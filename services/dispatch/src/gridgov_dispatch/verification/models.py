"""What dispatch learns from the other services to judge on-site evidence: grid boundaries and stored photos.

Grid-registry owns the grids and event-intake the photos; dispatch keeps its own copy of what their messages said
(``grid.published``, ``media.stored``) and never reads their tables.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_dispatch.tables import DispatchTable


class LearnedGrid(DispatchTable, table=True):
    """The latest boundary grid-registry announced for one grid (``gridgov.grids.published``)."""

    __tablename__ = "learned_grid"

    grid_code: str = Field(primary_key=True, max_length=64)
    grid_name: str = Field(max_length=200)
    village_code: str = Field(max_length=64)
    town_code: str = Field(max_length=64)
    grid_set_version: str = Field(max_length=64)
    boundary: str | None = Field(default=None, sa_type=sa.Text)  # GeoJSON; None: retired
    retired: bool = False
    published_at: datetime
    learned_at: datetime


class LearnedMedia(DispatchTable, table=True):
    """A photo event-intake stored, with what its original's EXIF said and its perceptual hash
    (``gridgov.media.stored``)."""

    __tablename__ = "learned_media"

    media_id: str = Field(primary_key=True, max_length=100)
    uploaded_by: str = Field(max_length=256)
    uploader_role: str = Field(max_length=64)
    content_type: str = Field(max_length=64)
    sha256: str = Field(max_length=64)
    phash: str | None = Field(default=None, max_length=16)
    exif_lat: float | None = None
    exif_lon: float | None = None
    exif_taken_at: datetime | None = None
    stored_at: datetime
    learned_at: datetime
