"""GeoJSON in and out (RFC 7946, WGS84 [lon, lat]): pure conversions, no I/O.

In: a FeatureCollection whose features carry a code, a name and optionally a level and a parent code in their
properties, under names a city's GIS department chose (``code=WGBM,name=WGMC``: the property mapping). Out:
the same shape back, as QGIS and every GeoJSON reader expects: one Feature per area, ``id`` = code, flat
properties, polygons as MultiPolygon.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shapely.geometry import mapping as shapely_mapping

from gridgov_grid_registry.grids.areas import AreaLike

FIELDS = ("code", "name", "level", "parent")
DEFAULT_MAPPING: dict[str, str] = {field: field for field in FIELDS}


def parse_mapping(text: str | None) -> dict[str, str]:
    """``code=WGBM,name=WGMC`` → the property each field is read from (unmapped fields keep their own name)."""
    mapping = dict(DEFAULT_MAPPING)
    if not text:
        return mapping
    for part in text.split(","):
        field, sep, prop = (s.strip() for s in part.partition("="))
        if not sep or not prop:
            raise ValueError(f"mapping entry {part.strip()!r} is not FIELD=PROPERTY")
        if field not in FIELDS:
            raise ValueError(f"mapping names unknown field {field!r}; fields: {', '.join(FIELDS)}")
        mapping[field] = prop
    return mapping


@dataclass(frozen=True)
class Candidate:
    """One feature of an import, as read: its position, mapped properties and raw GeoJSON geometry."""

    index: int
    code: str | None
    name: str | None
    level: str | None
    parent: str | None
    geometry: Any


@dataclass(frozen=True)
class ReadProblem:
    """A feature (or the whole document, index None) that could not be read at all."""

    index: int | None
    rule: str
    message: str


def _text(value: Any) -> str | None:
    # Codes often come as numbers from GIS tools; 15 digits are exact in a JSON number (below 2^53).
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_features(collection: Any, mapping: Mapping[str, str] = DEFAULT_MAPPING
                  ) -> tuple[list[Candidate], list[ReadProblem]]:
    """The candidate areas of a FeatureCollection, and the features that are not features at all."""
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        return [], [ReadProblem(None, "not_a_feature_collection", "the document is not a GeoJSON FeatureCollection")]
    features = collection.get("features")
    if not isinstance(features, list):
        return [], [ReadProblem(None, "not_a_feature_collection", "the FeatureCollection has no features array")]
    out: list[Candidate] = []
    problems: list[ReadProblem] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(ReadProblem(i, "feature_malformed", "not a GeoJSON Feature"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            problems.append(ReadProblem(i, "feature_malformed", "properties is not an object"))
            continue
        out.append(Candidate(
            index=i,
            code=_text(props.get(mapping["code"])),
            name=_text(props.get(mapping["name"])),
            level=_text(props.get(mapping["level"])),
            parent=_text(props.get(mapping["parent"])),
            geometry=feature.get("geometry"),
        ))
    return out, problems


def area_feature(area: AreaLike, geometry: Any = None, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One area as a GeoJSON Feature (``id`` and ``properties.code`` are its code, for joins)."""
    geom = geometry if geometry is not None else shapely_mapping(area.geometry)
    props = {"code": area.code, "name": area.name, "level": area.level, "parent": area.parent_code}
    if extra:
        props.update(extra)
    return {"type": "Feature", "id": area.code, "geometry": geom, "properties": props}


def feature_collection(areas: Iterable[AreaLike], version: str | None) -> dict[str, Any]:
    """Areas as a FeatureCollection that ``read_features`` (with the default mapping) reads back unchanged."""
    return {"type": "FeatureCollection", "grid_set_version": version,
            "features": [area_feature(a) for a in areas]}


def dumps(collection: Mapping[str, Any]) -> str:
    """Compact UTF-8 JSON text of a collection (Chinese names stay readable)."""
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
