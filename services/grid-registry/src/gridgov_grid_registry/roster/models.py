"""The grid-worker roster (网格员) as grid-registry stores it."""

from datetime import datetime

from sqlmodel import Field

from gridgov_grid_registry.tables import RegistryTable


class GridWorker(RegistryTable, table=True):
    """A grid worker (网格员) on the roster: the grid they are assigned to and whether they are on duty now."""

    __tablename__ = "grid_worker"

    worker_id: str = Field(primary_key=True, max_length=64)  # the subject of their bearer token
    name: str = Field(max_length=50)
    grid_code: str = Field(index=True, max_length=15)  # stable across grid-set versions that keep the grid
    on_duty: bool = Field(default=False)
    updated_at: datetime
