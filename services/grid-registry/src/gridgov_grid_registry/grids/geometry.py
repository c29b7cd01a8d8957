"""The geometry column type: PostGIS ``geometry(MULTIPOLYGON, 4326)`` on PostgreSQL, WKB bytes on SQLite.

Code on both stacks reads and writes shapely geometries; only the storage differs. Polygons are stored as
one-part multipolygons, so every row has one type (a town with an exclave needs the multi form anyway) and
PostGIS refuses points and lines at the column.
"""

from __future__ import annotations

from typing import Any

import shapely
from geoalchemy2 import Geometry
from geoalchemy2.elements import WKBElement
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SRID = 4326  # WGS84; CGCS2000 is the same for this purpose


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """A polygon or multipolygon as a multipolygon; anything else is refused with the reason."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    raise ValueError(f"an area must be a polygon or multipolygon, not a {geom.geom_type}")


class AreaGeometry(TypeDecorator):
    """A shapely (multi)polygon column, GiST-indexed PostGIS on PostgreSQL and WKB elsewhere."""

    impl = LargeBinary
    cache_ok = True
    # Read by GeoAlchemy2's DDL hooks: the table declares its own GiST index, so GeoAlchemy2 adds none.
    spatial_index = False

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """PostGIS geometry on PostgreSQL (the GiST index is declared on the table), bytes otherwise."""
        # GeoAlchemy2's DDL hooks sometimes ask without a dialect; only PostgreSQL gets PostGIS.
        if getattr(dialect, "name", None) == "postgresql":
            return Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False)
        return LargeBinary()

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> Any:
        """Shapely in; hex EWKB (lossless, SRID-tagged) to PostGIS, plain WKB bytes to SQLite."""
        if value is None:
            return None
        multi = as_multipolygon(value)
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(multi, SRID), hex=True, include_srid=True)
        return shapely.to_wkb(multi)

    def process_result_value(self, value: Any, dialect: Dialect) -> MultiPolygon | None:
        """Whatever the driver hands back (bytes, hex EWKB, a GeoAlchemy2 element) as shapely."""
        if value is None:
            return None
        if isinstance(value, WKBElement):
            value = value.data
        if isinstance(value, memoryview):
            value = bytes(value)
        return shapely.from_wkb(value)
