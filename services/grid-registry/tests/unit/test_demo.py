import itertools
import re
from collections import Counter, defaultdict

import pytest
from shapely import unary_union
from shapely.geometry import Point, box

from gridgov_grid_registry.grids.areas import parent_of
from gridgov_grid_registry.grids.demo import DEMO_BBOX, DEMO_GRID_CODE, DEMO_POINT, DEMO_VERSION, demo_grid_set

AREAS = demo_grid_set().areas
DONGGUAN = box(113.5, 22.6, 114.3, 23.2)


def of_level(level):
    return [a for a in AREAS if a.level == level]


def test_demo_grid_set_has_3_towns_6_villages_24_grids():
    assert Counter(a.level for a in AREAS) == {"town": 3, "village": 6, "grid": 24}
    assert {a.name for a in of_level("town")} == {"莞城街道", "南城街道", "东城街道"}
    assert demo_grid_set().version == DEMO_VERSION


def test_demo_grid_set_is_deterministic():
    assert demo_grid_set() == demo_grid_set()


@pytest.mark.parametrize("level", ["town", "village", "grid"])
def test_demo_level_tiles_bbox_without_gaps(level):
    bbox = box(*DEMO_BBOX)
    union = unary_union([a.geometry for a in of_level(level)])
    assert union.area == pytest.approx(bbox.area, rel=1e-12)
    assert union.symmetric_difference(bbox).area == pytest.approx(0, abs=1e-15)
    assert DONGGUAN.contains(union)


@pytest.mark.parametrize("level", ["town", "village", "grid"])
def test_demo_level_has_no_overlaps(level):
    for a, b in itertools.combinations(of_level(level), 2):
        assert a.geometry.intersection(b.geometry).area == 0, (a.code, b.code)


@pytest.mark.parametrize("level", ["village", "grid"])
def test_demo_children_tile_their_parent_exactly(level):
    parents = {a.code: a for a in AREAS}
    children = defaultdict(list)
    for a in of_level(level):
        children[a.parent_code].append(a.geometry)
    for parent_code, geoms in children.items():
        assert unary_union(geoms).symmetric_difference(parents[parent_code].geometry).area == 0, parent_code


def test_demo_codes_are_well_formed_unique_and_nested():
    codes = [a.code for a in AREAS]
    assert len(set(codes)) == len(codes)
    width = {"town": 9, "village": 12, "grid": 15}
    for a in AREAS:
        assert re.fullmatch(rf"441900\d{{{width[a.level] - 6}}}", a.code), a.code
        assert a.parent_code == parent_of(a.code)
        assert a.code[-3:] != "000"


def test_demo_grids_are_numbered_west_to_east_north_to_south():
    by_village = defaultdict(list)
    for g in of_level("grid"):
        by_village[g.parent_code].append(g)
    for grids in by_village.values():
        reading_order = sorted(grids, key=lambda g: (-g.geometry.centroid.y, g.geometry.centroid.x))
        assert [g.code for g in reading_order] == sorted(g.code for g in grids)


def test_demo_point_lies_strictly_inside_demo_grid_only():
    point = Point(DEMO_POINT)
    touching = [g.code for g in of_level("grid") if g.geometry.intersects(point)]
    assert touching == [DEMO_GRID_CODE]
    grid = next(g for g in of_level("grid") if g.code == DEMO_GRID_CODE)
    assert grid.geometry.boundary.distance(point) > 1e-4
