"""API shapes of grids: lookups, grid sets and imports, and GeoJSON features (RFC 7946, WGS84 lon/lat)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from shapely.geometry import mapping

from gridgov_common.events.reports import Location
from gridgov_common.geo import Crs
from gridgov_common.schemas import Number
from gridgov_grid_registry.grids.areas import AreaLike, Level

LonValue = Annotated[Number, Field(ge=-180, le=180, allow_inf_nan=False)]
LatValue = Annotated[Number, Field(ge=-90, le=90, allow_inf_nan=False)]


class DepartmentAreaRef(BaseModel):
    """A department's area of responsibility a point falls in."""

    department: str
    code: str
    name: str


class LocateResult(Location):
    """Where a point falls, the coordinate system it came in, and the WGS84 point that was looked up."""

    crs: Crs
    wgs84: tuple[float, float]
    department_areas: list[DepartmentAreaRef] = []


class LocateBatch(BaseModel):
    """Up to 10,000 points, [lon, lat] each, in one coordinate system."""

    crs: Crs = "wgs84"
    points: list[tuple[LonValue, LatValue]] = Field(max_length=10_000)


class LocateBatchResult(BaseModel):
    """One location per point, in the order given."""

    grid_set_version: str | None
    crs: Crs
    count: int
    results: list[Location]


class WorkerRef(BaseModel):
    """A grid worker on duty."""

    worker_id: str
    name: str


class NearbyGrid(BaseModel):
    """A grid near the point, its distance (0 when it covers the point) and who is on duty there."""

    code: str
    name: str
    village_code: str | None
    village_name: str | None
    town_code: str | None
    town_name: str | None
    distance_m: float
    on_duty: list[WorkerRef]


class NearbyResult(BaseModel):
    """Grids within a radius of a point, nearest first."""

    grid_set_version: str | None
    crs: Crs
    wgs84: tuple[float, float]
    radius_m: float
    grids: list[NearbyGrid]


class GridSetRead(BaseModel):
    """A stored grid set."""

    version: str
    description: str
    effective_from: datetime | None
    in_effect: bool
    source: str | None
    created_at: datetime
    counts: dict[str, int]


class IssueRead(BaseModel):
    """One broken rule of an import, naming the feature (index in the collection, code) and the rule."""

    index: int | None
    code: str | None
    rule: str
    message: str
    severity: Literal["error", "warning"]


class ImportResultRead(BaseModel):
    """What an import did; ``stored`` is false for a dry run (and nothing is stored when there are errors)."""

    version: str
    stored: bool
    dry_run: bool
    effective_from: datetime | None
    features: int
    counts: dict[str, int]
    errors: list[IssueRead]
    warnings: list[IssueRead]


class AreaRef(BaseModel):
    """An area by its code, name and level (the areas above another one)."""

    code: str
    name: str
    level: Level


class AreaProperties(BaseModel):
    """What a feature says about its area."""

    code: str
    name: str
    level: Level
    parent: str | None
    # Only in GET /v1/grids/{code}: a grid worker's phone names its village and town from its grid's answer
    # instead of reading every town's and village's name at start (issue #14).
    parents: list[AreaRef] | None = Field(default=None, description="the village and town above this area, "
                                                                    "nearest first (one area's answer only)")


class Feature(BaseModel):
    """One town, village or grid as a GeoJSON Feature (its id is its code)."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any]
    properties: AreaProperties

    @classmethod
    def of(cls, area: AreaLike, parents: list[AreaLike] | None = None) -> Feature:
        """The feature of an area (with the areas above it when given)."""
        above = None if parents is None else [AreaRef(code=p.code, name=p.name, level=p.level)  # type: ignore[arg-type]
                                              for p in parents]
        return cls(id=area.code, geometry=mapping(area.geometry),
                   properties=AreaProperties(code=area.code, name=area.name, level=area.level,  # type: ignore[arg-type]
                                             parent=area.parent_code, parents=above))


class FeatureCollection(BaseModel):
    """Areas as a GeoJSON FeatureCollection, with the grid set they come from (documentation of the shape)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    grid_set_version: str | None
    zoom: int | None = None
    features: list[Feature]
