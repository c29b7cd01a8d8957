import json

import numpy as np
import pytest
import shapely

from gridgov_grid_registry.grids.demo import demo_grid_set
from gridgov_grid_registry.grids.maps import decimals_for, in_bbox, render, simplify_level

TOWNS = [a for a in demo_grid_set().areas if a.level == "town"]


def test_simplify_level_at_low_zoom_drops_vertices_and_keeps_a_coverage():
    geoms = [a.geometry for a in TOWNS]
    simplified = simplify_level(geoms, 8)
    assert shapely.get_num_coordinates(simplified).sum() < 0.5 * shapely.get_num_coordinates(np.array(geoms)).sum()
    assert shapely.coverage_is_valid(simplified)  # neighbours still share their edges: no slivers, no gaps
    assert shapely.coverage_union_all(simplified).area == pytest.approx(shapely.coverage_union_all(geoms).area,
                                                                        rel=0.01)


def test_simplify_level_at_full_detail_is_unchanged():
    geoms = [a.geometry for a in TOWNS]
    assert all(a.equals_exact(b, 0) for a, b in zip(simplify_level(geoms, 18), geoms, strict=True))
    assert all(a.equals_exact(b, 0) for a, b in zip(simplify_level(geoms, None), geoms, strict=True))


def test_decimals_grow_with_zoom_up_to_seven():
    assert decimals_for(0) == 3 and decimals_for(10) < decimals_for(15) <= decimals_for(None) == 7


def test_render_writes_multipolygon_features_with_rounded_coordinates():
    body = json.loads(render(TOWNS[:2], [a.geometry for a in TOWNS[:2]], "v1", 10))
    assert body["grid_set_version"] == "v1" and body["zoom"] == 10
    feature = body["features"][0]
    assert feature["id"] == TOWNS[0].code and feature["properties"]["level"] == "town"
    assert feature["geometry"]["type"] == "MultiPolygon"
    x = feature["geometry"]["coordinates"][0][0][0][0]
    assert round(x, decimals_for(10)) == x


def test_in_bbox_keeps_areas_touching_the_box():
    geoms = np.array([a.geometry for a in TOWNS])
    keep = in_bbox(geoms, (113.74, 23.01, 113.76, 23.03))
    assert 0 < keep.sum() < len(TOWNS)
    assert in_bbox(geoms, None).all()
