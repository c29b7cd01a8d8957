import re
from collections import Counter, defaultdict

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from gridgov_grid_registry.grids.areas import parent_of
from gridgov_grid_registry.grids.demo import (
    DEMO_GRID_CODE,
    DEMO_POINT,
    DEMO_TOWN_CODE,
    DEMO_VERSION,
    OUTSIDE_POINT,
    demo_grid_set,
)
from gridgov_grid_registry.grids.generator import (
    BBOX,
    OUTLINE,
    SCALES,
    TOWNS,
    apportion,
    bisect,
    connect,
    generate,
    generated,
    trace,
)
from gridgov_grid_registry.grids.geojson import feature_collection, read_features
from gridgov_grid_registry.grids.validation import validate

CITY = generated("dongguan")
AREAS = CITY.grid_set.areas
DONGGUAN = box(113.5, 22.6, 114.3, 23.2)


def of_level(level):
    return [a for a in AREAS if a.level == level]


def test_generate_dongguan_has_33_towns_593_villages_2930_grids():
    assert Counter(a.level for a in AREAS) == {"town": 33, "village": 593, "grid": 2930}
    assert CITY.grid_set.version == DEMO_VERSION == demo_grid_set().version


def test_generate_towns_carry_real_names_28_towns_4_streets_and_songshan_lake():
    names = {a.name for a in of_level("town")}
    assert sum(n.endswith("镇") for n in names) == 28
    assert {n for n in names if n.endswith("街道")} == {"莞城街道", "东城街道", "南城街道", "万江街道"}
    assert "松山湖" in names
    assert {a.code for a in of_level("town")} == {f"441900{t.seq:03d}" for t in TOWNS}


def test_generate_is_deterministic():
    again = generate("dongguan")
    assert [(a.code, a.name, a.parent_code) for a in again.grid_set.areas] == \
        [(a.code, a.name, a.parent_code) for a in AREAS]
    assert all(a.geometry.equals_exact(b.geometry, 0) for a, b in zip(again.grid_set.areas, AREAS, strict=True))


@pytest.mark.parametrize("level", ["town", "village", "grid"])
def test_generate_level_tiles_city_without_gaps_or_overlaps(level):
    geoms = np.array([a.geometry for a in of_level(level)])
    assert shapely.coverage_is_valid(geoms)  # no overlaps, shared edges vertex for vertex
    union = shapely.coverage_union_all(geoms)
    assert union.geom_type == "Polygon" and not union.interiors  # one piece, no holes: no gaps
    assert union.area == pytest.approx(sum(g.area for g in geoms), rel=1e-12)
    assert DONGGUAN.contains(union)
    assert union.area == pytest.approx(Polygon(OUTLINE).area, rel=0.02)


@pytest.mark.parametrize("level", ["village", "grid"])
def test_generate_children_tile_their_parent_exactly(level):
    parents = {a.code: a for a in AREAS}
    children = defaultdict(list)
    for a in of_level(level):
        children[a.parent_code].append(a.geometry)
    assert len(children) == len(of_level("town" if level == "village" else "village"))
    for parent_code, geoms in children.items():
        assert shapely.coverage_union_all(geoms).symmetric_difference(parents[parent_code].geometry).area == 0


def test_generate_areas_are_valid_single_polygons():
    assert all(a.geometry.geom_type == "Polygon" and a.geometry.is_valid for a in AREAS)


def test_generate_codes_are_well_formed_unique_and_nested():
    codes = [a.code for a in AREAS]
    assert len(set(codes)) == len(codes)
    width = {"town": 9, "village": 12, "grid": 15}
    for a in AREAS:
        assert re.fullmatch(rf"441900\d{{{width[a.level] - 6}}}", a.code), a.code
        assert a.parent_code == parent_of(a.code)
        assert "000" not in (a.code[6:9], a.code[9:12], a.code[12:15])


def test_generate_children_are_numbered_from_001_without_holes():
    by_parent = defaultdict(list)
    for a in AREAS:
        if a.parent_code:
            by_parent[a.parent_code].append(int(a.code[-3:]))
    for seqs in by_parent.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))


def test_generate_grids_are_numbered_north_to_south_west_to_east():
    by_village = defaultdict(list)
    for g in of_level("grid"):
        by_village[g.parent_code].append(g)
    cells = defaultdict(list)
    ny, nx = CITY.cell_grid.shape
    for j in range(ny):
        for i in range(nx):
            if CITY.cell_grid[j, i] >= 0:
                cells[CITY.grid_codes[CITY.cell_grid[j, i]]].append((CITY.xs[i], CITY.ys[j]))
    for grids in by_village.values():
        # The numbering key is the mean cell centre (north first, then west).
        key = {g.code: (-round(float(np.mean([c[1] for c in cells[g.code]])), 9),
                        round(float(np.mean([c[0] for c in cells[g.code]])), 9)) for g in grids}
        assert [g.code for g in sorted(grids, key=lambda g: key[g.code])] == sorted(g.code for g in grids)


def test_generate_grid_names_follow_village_and_sequence():
    names = {a.code: a.name for a in AREAS}
    for g in of_level("grid"):
        assert g.name == f"{names[g.parent_code]}第{int(g.code[-3:])}网格"


def test_demo_point_lies_strictly_inside_demo_grid_only():
    point = Point(DEMO_POINT)
    assert [g.code for g in of_level("grid") if g.geometry.intersects(point)] == [DEMO_GRID_CODE]
    grid = next(g for g in of_level("grid") if g.code == DEMO_GRID_CODE)
    assert grid.geometry.boundary.distance(point) > 1e-4
    assert DEMO_GRID_CODE.startswith(DEMO_TOWN_CODE)
    assert not any(a.geometry.intersects(Point(OUTSIDE_POINT)) for a in AREAS)


def test_generated_set_passes_import_validation():
    candidates, problems = read_features(feature_collection(AREAS, DEMO_VERSION))
    report = validate(candidates, read_problems=problems)
    assert report.ok, [i.describe() for i in report.issues[:5]]
    assert report.counts == {"town": 33, "village": 593, "grid": 2930}


def test_lattice_labels_agree_with_polygons():
    grid_of = {a.code: a for a in of_level("grid")}
    ny, nx = CITY.cell_grid.shape
    rng = np.random.default_rng(7)
    for j, i in zip(rng.integers(0, ny, 300), rng.integers(0, nx, 300), strict=True):
        centre = Point((CITY.xs[i] + CITY.xs[i + 1]) / 2, (CITY.ys[j] + CITY.ys[j + 1]) / 2)
        label = CITY.cell_grid[j, i]
        if label < 0:
            assert not any(g.geometry.intersects(centre) for g in grid_of.values())
        else:
            assert grid_of[CITY.grid_codes[label]].geometry.contains(centre)


def test_generate_100k_has_100000_grids_tiling_the_city():
    city = generate("100k")
    grids = np.array([a.geometry for a in city.grid_set.areas if a.level == "grid"])
    assert len(grids) == 100_000 == SCALES["100k"].grids
    assert Counter(a.level for a in city.grid_set.areas)["village"] == 3300
    assert shapely.coverage_is_valid(grids)
    assert shapely.coverage_union_all(grids).area == pytest.approx(
        shapely.coverage_union_all([a.geometry for a in AREAS if a.level == "town"]).area, rel=0.01)


def test_apportion_splits_total_within_bounds_by_weight():
    assert apportion([1, 1, 2], 8, [1, 1, 1], [9, 9, 9]) == [2, 2, 4]
    assert sum(apportion([5, 1, 1], 10, [1, 1, 1], [3, 9, 9])) == 10
    assert apportion([5, 1, 1], 10, [1, 1, 1], [3, 9, 9])[0] == 3
    with pytest.raises(ValueError, match="cannot split"):
        apportion([1, 1], 5, [1, 1], [2, 2])


def test_bisect_makes_k_parts_of_near_equal_size():
    xy = np.random.default_rng(3).uniform(0, 1, (1000, 2))
    sizes = np.bincount(bisect(xy, 7))
    assert len(sizes) == 7 and sizes.min() >= 1000 // 7 - 1 and sizes.max() <= 1000 // 7 + 2


def test_connect_merges_stray_piece_into_neighbour():
    labels = np.array([[0, 0, 1, 0],
                       [0, 0, 1, 1]])
    parents = np.zeros_like(labels)
    fixed = connect(labels, parents)
    assert fixed[0, 3] == 1  # label 0's piece at the far right is cut off: it joins label 1


def test_trace_builds_polygon_with_hole_and_pinch():
    xs, ys = np.arange(5.0), np.arange(5.0)
    labels = np.array([[0, 0, 0, 0],
                       [0, 1, -1, 0],
                       [0, 0, 0, 0],
                       [-1, -1, -1, -1]])
    polys = trace(labels, xs, ys)
    assert polys[0].is_valid and len(polys[0].interiors) == 1 and polys[0].area == 10
    assert polys[1].equals(box(1, 1, 2, 2))
    pinch = trace(np.array([[0, -1], [-1, 0]]), xs[:3], ys[:3])[0]
    assert pinch.is_valid and pinch.area == 2


def test_generator_bbox_is_dongguan_sized():
    west, south, east, north = BBOX
    assert (west, south, east, north) == (113.5, 22.6, 114.3, 23.2)
