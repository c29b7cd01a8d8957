"""API shapes of grids: GeoJSON features of towns, villages and grids (RFC 7946, WGS84 lon/lat)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from shapely.geometry import mapping

from gridgov_grid_registry.grids.areas import AreaLike, Level


class AreaProperties(BaseModel):
    """What a feature says about its area."""

    code: str
    name: str
    level: Level
    parent: str | None


class Feature(BaseModel):
    """One town, village or grid as a GeoJSON Feature (its id is its code)."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any]
    properties: AreaProperties

    @classmethod
    def of(cls, area: AreaLike) -> Feature:
        """The feature of an area."""
        return cls(id=area.code, geometry=mapping(area.geometry),
                   properties=AreaProperties(code=area.code, name=area.name, level=area.level,  # type: ignore[arg-type]
                                             parent=area.parent_code))


class FeatureCollection(BaseModel):
    """Areas as a GeoJSON FeatureCollection, with the grid set they come from."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    grid_set_version: str | None
    features: list[Feature]
