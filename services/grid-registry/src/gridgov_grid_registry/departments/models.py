"""Department areas of responsibility (责任区) as grid-registry stores them."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field

from gridgov_grid_registry.grids.geometry import AreaGeometry
from gridgov_grid_registry.tables import RegistryTable


class DepartmentArea(RegistryTable, table=True):
    """A department's area of responsibility (责任区): a layer of its own that may span or cut across grids."""

    __tablename__ = "department_area"
    __table_args__ = (
        Index("ix_department_area_geometry", "geometry", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    department: str = Field(primary_key=True, max_length=40)
    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    geometry: Any = Field(sa_column=Column("geometry", AreaGeometry(), nullable=False))
    updated_at: datetime
