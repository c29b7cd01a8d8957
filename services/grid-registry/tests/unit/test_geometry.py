import pytest
import shapely
from geoalchemy2 import Geometry
from shapely.geometry import LineString, MultiPolygon, Point, box
from sqlalchemy import LargeBinary
from sqlalchemy.dialects import postgresql, sqlite

from gridgov_grid_registry.grids.geometry import AreaGeometry, as_multipolygon

SQLITE = sqlite.dialect()
POSTGRES = postgresql.psycopg.dialect()


def test_load_dialect_impl_is_postgis_on_postgresql_and_bytes_on_sqlite():
    pg = AreaGeometry().load_dialect_impl(POSTGRES)
    assert isinstance(pg, Geometry)
    assert (pg.geometry_type, pg.srid) == ("MULTIPOLYGON", 4326)
    assert isinstance(AreaGeometry().load_dialect_impl(SQLITE), LargeBinary)


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRES], ids=["sqlite", "postgresql"])
def test_bind_then_result_round_trips_polygon_as_multipolygon(dialect):
    column = AreaGeometry()
    polygon = box(113.70000000000001, 22.98, 113.7525, 23.005)
    stored = column.process_bind_param(polygon, dialect)
    back = column.process_result_value(stored, dialect)
    assert isinstance(back, MultiPolygon)
    assert back.geoms[0].equals_exact(polygon, tolerance=0)  # lossless, not rounded WKT


def test_bind_on_postgresql_tags_srid_4326():
    stored = AreaGeometry().process_bind_param(box(0, 0, 1, 1), POSTGRES)
    assert isinstance(stored, str)
    assert shapely.get_srid(shapely.from_wkb(stored)) == 4326


def test_result_from_memoryview_is_read():
    wkb = shapely.to_wkb(MultiPolygon([box(0, 0, 1, 1)]))
    assert AreaGeometry().process_result_value(memoryview(wkb), SQLITE).area == 1.0


@pytest.mark.parametrize("geom", [Point(1, 1), LineString([(0, 0), (1, 1)])], ids=["point", "line"])
def test_as_multipolygon_non_polygon_is_refused(geom):
    with pytest.raises(ValueError, match="polygon or multipolygon"):
        as_multipolygon(geom)


def test_bind_none_stays_none():
    assert AreaGeometry().process_bind_param(None, SQLITE) is None
    assert AreaGeometry().process_result_value(None, SQLITE) is None
