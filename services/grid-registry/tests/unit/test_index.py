import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, box

from gridgov_grid_registry.grids.areas import AreaRecord
from gridgov_grid_registry.grids.demo import (
    DEMO_BBOX,
    DEMO_GRID_CODE,
    DEMO_POINT,
    DEMO_VERSION,
    OUTSIDE_POINT,
    demo_grid_set,
)
from gridgov_grid_registry.grids.index import GridIndex

AREAS = demo_grid_set().areas
GRIDS = [a for a in AREAS if a.level == "grid"]
INDEX = GridIndex(AREAS, DEMO_VERSION)
# Every x and y where some demo boundary runs, so generated points land on edges and vertices too.
XS = sorted({c for g in GRIDS for c in (g.geometry.bounds[0], g.geometry.bounds[2])})
YS = sorted({c for g in GRIDS for c in (g.geometry.bounds[1], g.geometry.bounds[3])})


def smallest_covering_grid(lon, lat):
    """Brute-force oracle: every grid that covers the point, smallest code first."""
    covering = sorted(g.code for g in GRIDS if g.geometry.covers(Point(lon, lat)))
    return covering[0] if covering else None


def test_locate_point_inside_grid_returns_grid_village_and_town():
    loc = INDEX.locate(*DEMO_POINT)
    assert loc.status == "located"
    assert (loc.grid_code, loc.grid_name) == (DEMO_GRID_CODE, "宏伟社区第1网格")
    assert (loc.village_code, loc.village_name) == ("441900004002", "宏伟社区")
    assert (loc.town_code, loc.town_name) == ("441900004", "南城街道")
    assert loc.grid_set_version == DEMO_VERSION


def test_locate_point_on_edge_between_towns_picks_smallest_code():
    # lon 113.77 is the edge between 南城 (441900004…) on the west and 东城 (441900003…) on the east.
    loc = INDEX.locate(113.77, 23.0)
    assert loc.grid_code == smallest_covering_grid(113.77, 23.0)
    assert loc.grid_code.startswith("441900003")
    assert loc.town_name == "东城街道"


def test_locate_point_on_edge_inside_village_picks_smallest_code():
    loc = INDEX.locate(113.7525, 23.02)  # between 宏伟社区 grids 1 (west) and 2 (east)
    assert loc.grid_code == "441900004002001"


def test_locate_point_on_vertex_of_four_grids_picks_smallest_code():
    loc = INDEX.locate(113.7525, 23.005)  # the centre of 宏伟社区, a corner of all four of its grids
    assert sum(g.geometry.covers(Point(113.7525, 23.005)) for g in GRIDS) == 4
    assert loc.grid_code == "441900004002001"


def test_locate_point_on_town_corner_picks_smallest_code():
    lon, lat = 113.77, 23.03  # corner of 莞城, 南城 and 东城
    assert INDEX.locate(lon, lat).grid_code == smallest_covering_grid(lon, lat) == "441900003001003"


def test_locate_point_on_outer_boundary_is_located():
    assert INDEX.locate(DEMO_BBOX[0], DEMO_BBOX[1]).status == "located"


def test_locate_point_outside_city_is_unlocated():
    loc = INDEX.locate(*OUTSIDE_POINT)
    assert loc.status == "unlocated"
    assert (loc.grid_code, loc.village_code, loc.town_code) == (None, None, None)
    assert loc.grid_set_version == DEMO_VERSION


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(None, None), (113.75, None), (None, 23.02), (math.nan, 23.02), (113.75, math.inf), (200.0, 23.0),
     (113.75, -91.0)],
)
def test_locate_point_without_usable_coordinates_is_unlocated(lon, lat):
    assert INDEX.locate(lon, lat).status == "unlocated"


def test_locate_point_in_town_but_no_grid_is_town_only():
    town = AreaRecord("441900101", "石碣镇", "town", None, box(0, 0, 2, 1))
    village = AreaRecord("441900101001", "石碣社区", "village", town.code, box(0, 0, 1, 1))
    grid = AreaRecord("441900101001001", "石碣社区第1网格", "grid", village.code, box(0, 0, 1, 1))
    index = GridIndex([grid, village, town], "t-1")
    loc = index.locate(1.5, 0.5)
    assert loc.status == "town_only"
    assert (loc.town_code, loc.town_name) == ("441900101", "石碣镇")
    assert (loc.grid_code, loc.village_code) == (None, None)
    assert index.locate(0.5, 0.5).grid_code == grid.code
    assert index.locate(3.0, 0.5).status == "unlocated"


def test_locate_with_empty_index_is_unlocated():
    index = GridIndex([], None)
    assert len(index) == 0
    assert index.locate(*DEMO_POINT).model_dump(exclude_none=True) == {"status": "unlocated"}


def test_locate_many_keeps_order_and_length():
    points = [OUTSIDE_POINT, DEMO_POINT, (None, None), DEMO_POINT]
    got = INDEX.locate_many(points)
    assert [loc.status for loc in got] == ["unlocated", "located", "unlocated", "located"]
    assert got[1] == got[3] == INDEX.locate(*DEMO_POINT)
    assert INDEX.locate_many([]) == []


@given(st.one_of(
    st.tuples(st.floats(DEMO_BBOX[0], DEMO_BBOX[2]), st.floats(DEMO_BBOX[1], DEMO_BBOX[3])),
    st.tuples(st.sampled_from(XS), st.floats(DEMO_BBOX[1], DEMO_BBOX[3])),
    st.tuples(st.floats(DEMO_BBOX[0], DEMO_BBOX[2]), st.sampled_from(YS)),
    st.tuples(st.sampled_from(XS), st.sampled_from(YS)),
))
def test_locate_any_point_in_city_matches_brute_force(point):
    loc = INDEX.locate(*point)
    assert loc.status == "located"  # the demo grids tile the city: no gaps
    assert loc.grid_code == smallest_covering_grid(*point)


def test_locate_many_agrees_with_locate_one_by_one():
    lons = [DEMO_BBOX[0] + i * 0.003 for i in range(45)]
    lats = [DEMO_BBOX[1] + j * 0.0025 for j in range(36)]
    points = [(x, y) for x in lons for y in lats]
    assert INDEX.locate_many(points) == [INDEX.locate(*p) for p in points]
