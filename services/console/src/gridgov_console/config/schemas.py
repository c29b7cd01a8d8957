"""API shape of the page's configuration."""

from pydantic import BaseModel, Field


class BaseMapRead(BaseModel):
    """A base layer of map tiles under the grid polygons, from the city's own tile service."""

    url: str = Field(description="XYZ or WMTS-REST template with {z}, {x}, {y} (and {s} for subdomains)")
    attribution: str = Field(description="the tile provider's credit, shown as text in the map's corner")
    subdomains: str = Field(description="letters or digits that replace {s}, e.g. 01234567; empty when unused")
    max_zoom: int


class PageConfig(BaseModel):
    """What the page needs to know about this console beyond the services' data."""

    base_map: BaseMapRead | None = Field(description="null: no base layer (the embedded demo), only the polygons")
