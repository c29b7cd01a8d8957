import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, box

from gridgov_common.events.reports import Location
from gridgov_grid_registry.grids.areas import AreaRecord
from gridgov_grid_registry.grids.demo import DEMO_GRID_CODE, DEMO_POINT, DEMO_VERSION, OUTSIDE_POINT, demo_grid_set
from gridgov_grid_registry.grids.generator import generated
from gridgov_grid_registry.grids.index import UNLOCATED, GridIndex

CITY = generated("dongguan")
AREAS = demo_grid_set().areas
INDEX = GridIndex(AREAS, DEMO_VERSION)
GRIDS = {a.code: a for a in AREAS if a.level == "grid"}


def shared_vertex_of(codes_wanted: int):
    """A vertex shared by at least this many grids, and those grids."""
    from collections import defaultdict

    owners = defaultdict(set)
    for code, g in GRIDS.items():
        for xy in g.geometry.exterior.coords:
            owners[xy].add(code)
    return next((xy, sorted(c)) for xy, c in sorted(owners.items()) if len(c) >= codes_wanted)


def test_locate_point_inside_grid_returns_grid_village_and_town():
    loc = INDEX.locate(*DEMO_POINT)
    assert loc.status == "located"
    assert (loc.grid_code, loc.grid_name) == (DEMO_GRID_CODE, "洲源社区第2网格")
    assert (loc.village_code, loc.village_name) == ("441900004003", "洲源社区")
    assert (loc.town_code, loc.town_name) == ("441900004", "南城街道")
    assert loc.grid_set_version == DEMO_VERSION


def test_locate_point_on_vertex_of_several_grids_picks_smallest_code():
    (x, y), codes = shared_vertex_of(3)
    assert INDEX.locate(x, y).grid_code == codes[0]


def segments(code):
    ring = list(GRIDS[code].geometry.exterior.coords)
    return {tuple(sorted(pair)) for pair in zip(ring, ring[1:], strict=False)}


def test_locate_point_on_edge_between_two_towns_picks_smallest_code():
    # A lattice edge shared by a grid of 东城 (441900003…) and a grid of 莞城 (441900006…).
    pairs = [(a, b) for a in GRIDS if a.startswith("441900003") for b in GRIDS if b.startswith("441900006")]
    a, b, seg = next((a, b, s) for a, b in pairs for s in sorted(segments(a) & segments(b)))
    x, y = (seg[0][0] + seg[1][0]) / 2, (seg[0][1] + seg[1][1]) / 2
    assert GRIDS[a].geometry.covers(Point(x, y)) and GRIDS[b].geometry.covers(Point(x, y))
    loc = INDEX.locate(x, y)
    assert loc.grid_code == a and loc.town_name == "东城街道"


def test_locate_point_on_outer_boundary_is_located():
    x, y = next(iter(a for a in AREAS if a.level == "town")).geometry.exterior.coords[0]
    assert INDEX.locate(x, y).status == "located"


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
    assert INDEX.answer(lon, lat) == UNLOCATED


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
    assert index.answer_many(np.array([1.5, 0.5, 3.0]), np.array([0.5, 0.5, 0.5])).tolist() == [
        index.answer(1.5, 0.5), index.answer(0.5, 0.5), UNLOCATED]


def test_locate_with_empty_index_is_unlocated():
    index = GridIndex([], None)
    assert len(index) == 0
    assert index.locate(*DEMO_POINT).model_dump(exclude_none=True) == {"status": "unlocated"}
    assert index.answer_many(np.array([113.75]), np.array([23.02])).tolist() == [UNLOCATED]


def test_locate_many_keeps_order_and_length():
    points = [OUTSIDE_POINT, DEMO_POINT, (None, None), DEMO_POINT]
    got = INDEX.locate_many(points)
    assert [loc.status for loc in got] == ["unlocated", "located", "unlocated", "located"]
    assert got[1] == got[3] == INDEX.locate(*DEMO_POINT)
    assert INDEX.locate_many([]) == []


def test_answer_many_with_nan_and_out_of_range_marks_those_unlocated():
    lons = np.array([DEMO_POINT[0], np.nan, 190.0, DEMO_POINT[0]])
    lats = np.array([DEMO_POINT[1], 23.0, 23.0, np.inf])
    got = INDEX.answer_many(lons, lats).tolist()
    assert got == [INDEX.answer(*DEMO_POINT), UNLOCATED, UNLOCATED, UNLOCATED]


@given(st.floats(113.45, 114.35), st.floats(22.55, 23.25))
def test_locate_any_point_matches_lattice_oracle(oracle, city, lon, lat):
    expected = oracle(city, INDEX.answers, np.array([[lon, lat]]))[0]
    assert INDEX.answer(lon, lat) == expected


@given(st.integers(0, len(CITY.xs) - 1), st.integers(0, len(CITY.ys) - 1), st.sampled_from([0.0, 0.5]),
       st.sampled_from([0.0, 0.5]))
def test_locate_lattice_vertex_or_edge_point_matches_oracle(oracle, city, i, j, fx, fy):
    x = city.xs[i] if fx == 0 or i + 1 >= len(city.xs) else (city.xs[i] + city.xs[i + 1]) / 2
    y = city.ys[j] if fy == 0 or j + 1 >= len(city.ys) else (city.ys[j] + city.ys[j + 1]) / 2
    assert INDEX.answer(x, y) == oracle(city, INDEX.answers, np.array([[x, y]]))[0]


def test_answer_many_agrees_with_answer_one_by_one():
    rng = np.random.default_rng(5)
    lons, lats = rng.uniform(113.5, 114.3, 3000), rng.uniform(22.6, 23.2, 3000)
    assert INDEX.answer_many(lons, lats).tolist() == [INDEX.answer(x, y) for x, y in zip(lons, lats, strict=True)]


def test_json_of_answers_is_the_locations_in_order():
    import json

    answers = INDEX.answer_many(np.array([DEMO_POINT[0], OUTSIDE_POINT[0]]), np.array([DEMO_POINT[1],
                                                                                       OUTSIDE_POINT[1]]))
    decoded = json.loads(INDEX.answers.json_of(answers))
    # Batch answers name grids only; department areas are looked up for reports, not for batches, and a place
    # match (issue #17) comes only from an address.
    assert decoded == [INDEX.locate(*p).model_dump(exclude={"department_areas", "place_match"})
                       for p in (DEMO_POINT, OUTSIDE_POINT)]
    assert [Location.model_validate(d).department_areas for d in decoded] == [None, None]


def test_nearby_returns_covering_grid_first_then_neighbours_within_radius():
    found = INDEX.nearby(*DEMO_POINT, radius_m=600, limit=20)
    assert INDEX.answers.location(found[0].answer).grid_code == DEMO_GRID_CODE
    assert found[0].distance_m == 0
    distances = [n.distance_m for n in found]
    assert distances == sorted(distances) and all(d <= 600 for d in distances) and len(found) > 3


def test_nearby_far_from_city_finds_nothing_and_limit_caps():
    assert INDEX.nearby(*OUTSIDE_POINT, radius_m=5000, limit=10) == []
    assert len(INDEX.nearby(*DEMO_POINT, radius_m=3000, limit=5)) == 5
