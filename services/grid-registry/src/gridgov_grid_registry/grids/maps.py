"""Map output: areas as GeoJSON simplified for a zoom level. Pure, no I/O.

A level (all towns, all villages or all grids) is simplified as one coverage (``shapely.coverage_simplify``),
so neighbours keep sharing their simplified edge and no slivers or gaps open between them; then the areas a
request asks for (a parent's children, a bounding box) are cut out and written with as many decimals as the
zoom can show. Zoom follows web maps: at zoom z one 256-pixel tile spans 360/2^z degrees of longitude.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from gridgov_grid_registry.grids.areas import AreaLike

FULL_DETAIL_ZOOM = 17  # from here on a pixel is under a metre: polygons are served as stored
MAX_DECIMALS = 7  # 1 cm


def pixel_degrees(zoom: int) -> float:
    """How many degrees of longitude one pixel spans at a zoom level."""
    return 360.0 / (256 * 2**zoom)


def decimals_for(zoom: int | None) -> int:
    """Decimals enough to place a vertex within a pixel at this zoom (all of them at full detail)."""
    if zoom is None or zoom >= FULL_DETAIL_ZOOM:
        return MAX_DECIMALS
    return min(MAX_DECIMALS, max(3, math.ceil(-math.log10(pixel_degrees(zoom))) + 1))


def simplify_level(geometries: Sequence[Any], zoom: int | None) -> np.ndarray:
    """A whole level's polygons simplified to about a pixel at ``zoom``, as one coverage (unchanged at full detail)."""
    geoms = np.array(geometries, dtype=object)
    if zoom is None or zoom >= FULL_DETAIL_ZOOM or not len(geoms):
        return geoms
    simplified = shapely.coverage_simplify(geoms, pixel_degrees(zoom))
    # A polygon too small for the zoom may collapse; show it as stored rather than drop it.
    return np.where(shapely.is_empty(simplified), geoms, simplified)


def _ring(ring: Any, decimals: int) -> list:
    return np.round(np.asarray(ring.coords)[:, :2], decimals).tolist()


def geometry_json(geom: Any, decimals: int) -> dict[str, Any]:
    """A (multi)polygon as a GeoJSON MultiPolygon with rounded coordinates."""
    polys = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom] if isinstance(geom, Polygon) else []
    return {"type": "MultiPolygon",
            "coordinates": [[_ring(p.exterior, decimals)] + [_ring(h, decimals) for h in p.interiors]
                            for p in polys]}


def in_bbox(geoms: np.ndarray, bbox: tuple[float, float, float, float] | None) -> np.ndarray:
    """Which geometries intersect a (west, south, east, north) box (all of them without a box)."""
    if bbox is None:
        return np.ones(len(geoms), dtype=bool)
    return shapely.intersects(geoms, shapely.box(*bbox)) if len(geoms) else np.zeros(0, dtype=bool)


def render(areas: Sequence[AreaLike], geometries: Sequence[Any], version: str | None, zoom: int | None,
           extra: dict[str, Any] | None = None) -> bytes:
    """A FeatureCollection of areas drawn with the given (already simplified) geometries, as UTF-8 JSON."""
    decimals = decimals_for(zoom)
    features = [{"type": "Feature", "id": a.code, "geometry": geometry_json(g, decimals),
                 "properties": {"code": a.code, "name": a.name, "level": a.level, "parent": a.parent_code}}
                for a, g in zip(areas, geometries, strict=True)]
    body = {"type": "FeatureCollection", "grid_set_version": version, "zoom": zoom, **(extra or {}),
            "features": features}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
