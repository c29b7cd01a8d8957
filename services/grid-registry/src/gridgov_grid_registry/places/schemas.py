"""API shapes of places: resolving an address, importing roads and landmarks."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from gridgov_common.schemas import SafeText
from gridgov_grid_registry.places.gazetteer import Resolution

ADDRESS_MAX = 500


class ResolveRequest(BaseModel):
    """An address as a caller or operator wrote it (地址)."""

    address: Annotated[SafeText, Field(min_length=1, max_length=ADDRESS_MAX)]


class MatchedRead(BaseModel):
    """A name found in the address: level (town, village, grid, road, landmark), code, name, the text matched."""

    level: str
    code: str
    name: str
    text: str


class ResolveResult(BaseModel):
    """Where the address is: the finest level it names, a point to show, what matched, how sure (0..1)."""

    status: Literal["located", "village_only", "town_only", "unlocated"]
    grid_code: str | None
    grid_name: str | None
    village_code: str | None
    village_name: str | None
    town_code: str | None
    town_name: str | None
    lon: float | None
    lat: float | None
    matched_text: str | None
    matched: list[MatchedRead]
    confidence: float
    grid_set_version: str | None = None

    @classmethod
    def of(cls, r: Resolution, version: str | None) -> ResolveResult:
        """The API shape of a gazetteer resolution."""
        return cls(status=r.status, grid_code=r.grid_code, grid_name=r.grid_name, village_code=r.village_code,
                   village_name=r.village_name, town_code=r.town_code, town_name=r.town_name, lon=r.lon, lat=r.lat,
                   matched_text=r.matched_text,
                   matched=[MatchedRead(level=m.level, code=m.code, name=m.name, text=m.text) for m in r.matched],
                   confidence=r.confidence, grid_set_version=version)


class LandmarkImportResult(BaseModel):
    """What an import stored: rows created and updated (by name)."""

    created: int
    updated: int
