import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgov_common import geo

# Reference values cross-checked against an independent public-domain implementation (prcoords 1.0.2).
REFERENCE = [
    # (wgs84 lon, lat), (gcj02 lon, lat), (bd09 lon, lat)
    ((113.75, 23.02), (113.75519411308146, 23.017277170151782), (113.76160903860637, 23.02360400596161)),
    ((116.397428, 39.90923), (116.40367162595768, 39.91063350638631), (116.41004410170474, 39.916972856075134)),
    ((121.4737, 31.2304), (121.47822305927693, 31.22845773757727), (121.484781468503, 31.234310593689997)),
]
CHINA = st.tuples(st.floats(73.0, 135.0), st.floats(4.0, 53.0))


@pytest.mark.parametrize(("wgs", "gcj", "bd"), REFERENCE)
def test_convert_wgs84_matches_reference_values(wgs, gcj, bd):
    assert geo.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-12)
    assert geo.wgs84_to_bd09(*wgs) == pytest.approx(bd, abs=1e-12)
    assert geo.gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=1e-12)


@pytest.mark.parametrize(("wgs", "gcj", "bd"), REFERENCE)
def test_convert_back_to_wgs84_recovers_point_within_1e9_degrees(wgs, gcj, bd):
    assert geo.gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-9)
    assert geo.bd09_to_wgs84(*bd) == pytest.approx(wgs, abs=1e-9)
    assert geo.bd09_to_gcj02(*bd) == pytest.approx(gcj, abs=1e-9)


@given(CHINA)
def test_round_trip_through_each_system_is_lossless_in_china(point):
    for crs in ("gcj02", "bd09"):
        there = geo.from_wgs84(*point, crs)
        assert geo.to_wgs84(*there, crs) == pytest.approx(point, abs=1e-9)


def test_convert_in_dongguan_offsets_by_hundreds_of_metres():
    lon, lat = 113.75, 23.02
    gcj = geo.wgs84_to_gcj02(lon, lat)
    bd = geo.wgs84_to_bd09(lon, lat)
    assert 300 < geo.haversine_m(lon, lat, *gcj) < 800
    assert 1000 < geo.haversine_m(lon, lat, *bd) < 1600


@pytest.mark.parametrize("point", [(-74.0, 40.7), (2.35, 48.85), (139.69, 35.69), (151.2, -33.9)])
def test_convert_outside_china_leaves_gcj02_unchanged(point):
    assert geo.wgs84_to_gcj02(*point) == point
    assert geo.gcj02_to_wgs84(*point) == point


def test_convert_arrays_matches_scalars_elementwise():
    lons = np.array([p[0][0] for p in REFERENCE] + [-74.0])
    lats = np.array([p[0][1] for p in REFERENCE] + [40.7])
    for forward in (geo.wgs84_to_gcj02, geo.wgs84_to_bd09):
        xs, ys = forward(lons, lats)
        assert isinstance(xs, np.ndarray) and xs.shape == lons.shape
        assert list(zip(xs.tolist(), ys.tolist(), strict=True)) == [forward(x, y) for x, y in zip(lons, lats,
                                                                                                 strict=True)]
    back = geo.to_wgs84(*geo.wgs84_to_gcj02(lons, lats), "gcj02")
    assert np.allclose(back[0], lons, atol=1e-9) and np.allclose(back[1], lats, atol=1e-9)


def test_convert_scalar_returns_python_floats():
    lon, lat = geo.to_wgs84(113.75, 23.02, "bd09")
    assert type(lon) is float and type(lat) is float


def test_to_wgs84_from_wgs84_is_identity():
    assert geo.to_wgs84(113.75, 23.02, "wgs84") == (113.75, 23.02)
    assert geo.from_wgs84(113.75, 23.02, "wgs84") == (113.75, 23.02)


@pytest.mark.parametrize("crs", ["WGS84", "epsg:4326", "gcj", ""])
def test_convert_unknown_system_names_it(crs):
    with pytest.raises(ValueError, match="unknown coordinate system"):
        geo.to_wgs84(113.75, 23.02, crs)
    with pytest.raises(ValueError, match="unknown coordinate system"):
        geo.from_wgs84(113.75, 23.02, crs)


def test_haversine_one_degree_of_latitude_is_about_111_km():
    assert geo.haversine_m(113.0, 23.0, 113.0, 24.0) == pytest.approx(111_195, rel=1e-3)
    assert geo.haversine_m(113.0, 23.0, 113.0, 23.0) == 0.0


def test_metres_per_degree_shrinks_longitude_with_latitude():
    per_lon, per_lat = geo.metres_per_degree(23.0)
    assert per_lat == pytest.approx(111_195, rel=1e-3)
    assert per_lon == pytest.approx(per_lat * math.cos(math.radians(23.0)))
