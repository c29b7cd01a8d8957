"""API shapes of the grid-worker roster."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from gridgov_grid_registry.grids.areas import CODE_PATTERN


class WorkerRead(BaseModel):
    """A grid worker on the roster."""

    worker_id: str
    name: str
    grid_code: str
    on_duty: bool
    updated_at: datetime


class WorkerAssign(BaseModel):
    """Assign a grid worker to a grid (creating them on the roster if new)."""

    name: str = Field(min_length=1, max_length=50)
    grid_code: str = Field(pattern=CODE_PATTERN, min_length=15, max_length=15)
    on_duty: bool | None = None


class DutyChange(BaseModel):
    """Go on or off duty."""

    on_duty: bool


class GridRoster(BaseModel):
    """The grid workers of one grid."""

    grid_code: str
    workers: list[WorkerRead]
