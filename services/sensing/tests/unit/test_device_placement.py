import re
from collections import Counter

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gridgov_sensing.devices.placement import (
    CAMERA_ALGORITHMS,
    SENSOR_KINDS,
    camera_id,
    centre_code,
    largest_remainder,
    place_devices,
)

# a small city: two towns, an L-shaped grid, a grid with a hole, a two-piece grid and a tiny sliver
L_SHAPE = Polygon([(113.70, 23.00), (113.72, 23.00), (113.72, 23.01), (113.71, 23.01), (113.71, 23.02),
                   (113.70, 23.02)])
HOLED = Polygon(box(113.72, 23.00, 113.74, 23.02).exterior.coords,
                [box(113.725, 23.005, 113.735, 23.015).exterior.coords])
TWO_PIECES = MultiPolygon([box(113.74, 23.00, 113.745, 23.005), box(113.75, 23.00, 113.755, 23.005)])
SLIVER = box(113.76, 23.00, 113.76001, 23.00001)
GRIDS = [
    ("441900004003001", "441900004003", "441900004", L_SHAPE),
    ("441900004003002", "441900004003", "441900004", HOLED),
    ("441900101001001", "441900101001", "441900101", TWO_PIECES),
    ("441900401001001", "441900401001", "441900401", SLIVER),
]
GEOM = {g[0]: g[3] for g in GRIDS}


@pytest.fixture(scope="module")
def rows():
    return list(place_devices(GRIDS, 2000, seed=16))


def test_place_devices_exact_counts(rows):
    assert len(rows) == 2000
    assert Counter(r.kind for r in rows) == {"camera": 1600, "sensor": 400}


def test_place_devices_points_inside_their_grid(rows):
    for r in rows:
        assert shapely.contains_xy(GEOM[r.grid_code], r.lon, r.lat), r
        assert round(r.lon, 6) == r.lon and round(r.lat, 6) == r.lat


def test_place_devices_every_grid_gets_devices_sublinear_in_area(rows):
    per_grid = Counter(r.grid_code for r in rows)
    assert set(per_grid) == set(GEOM)
    big, small = per_grid["441900004003001"], per_grid["441900101001001"]
    ratio_area = GEOM["441900004003001"].area / GEOM["441900101001001"].area
    assert 1 < big / small < ratio_area


def test_place_devices_places_and_codes(rows):
    for r in rows:
        assert r.village_code == r.grid_code[:12] and r.town_code == r.grid_code[:9]


def test_camera_ids_are_gb28181_codes(rows):
    cams = [r for r in rows if r.kind == "camera"]
    ids = [r.device_id for r in cams]
    assert len(set(ids)) == len(ids)
    for r in cams:
        assert re.fullmatch(r"[0-9]{20}", r.device_id)
        assert r.device_id[:8] == centre_code(r.town_code) and r.device_id[:6] == "441900"
        assert r.device_id[8:10] == "08" and r.device_id[10:13] in ("131", "132") and r.device_id[13] == "6"
        assert 2 <= len(r.algorithms) <= 4 and set(r.algorithms) <= set(CAMERA_ALGORITHMS)
        assert r.owner_department == "urban-management"
    types = Counter(r.device_id[10:13] for r in cams)
    assert types["131"] == len(cams) // 10


def test_sensor_ids_and_kinds(rows):
    sensors = [r for r in rows if r.kind == "sensor"]
    kinds = {k.kind: k for k in SENSOR_KINDS}
    seen = Counter()
    for r in sensors:
        m = re.fullmatch(r"IOT-([a-z]+)-([0-9]{6})", r.device_id)
        assert m and m.group(1) in kinds
        seen[m.group(1)] += 1
        assert int(m.group(2)) == seen[m.group(1)]  # numbered in order per kind
        assert r.algorithms == kinds[m.group(1)].algorithms
    assert seen["manhole"] > seen["hydrant"] > 0


def test_place_devices_deterministic_and_order_independent(rows):
    assert list(place_devices(list(reversed(GRIDS)), 2000, seed=16)) == rows
    other = list(place_devices(GRIDS, 2000, seed=17))
    cams = [r.device_id for r in rows if r.kind == "camera"]
    assert [r.device_id for r in other if r.kind == "camera"] == cams  # camera ids follow the counts only
    assert [(r.lon, r.lat) for r in other] != [(r.lon, r.lat) for r in rows]


def test_place_devices_share_and_small_n():
    assert [r.kind for r in place_devices(GRIDS, 3, seed=1, cameras_share=0)] == ["sensor"] * 3
    assert all(r.kind == "camera" for r in place_devices(GRIDS, 5, seed=1, cameras_share=1))
    assert list(place_devices(GRIDS, 0, seed=1)) == []
    assert list(place_devices([], 0, seed=1)) == []


@pytest.mark.parametrize(("grids", "n", "share"), [(GRIDS, -1, 0.8), (GRIDS, 10, 1.5), ([], 10, 0.8),
                                                   (GRIDS + GRIDS[:1], 10, 0.8)])
def test_place_devices_refuses_bad_arguments(grids, n, share):
    with pytest.raises(ValueError):
        list(place_devices(grids, n, seed=1, cameras_share=share))


def test_largest_remainder_sums_exactly():
    assert largest_remainder([1, 1, 1], 10) == [4, 3, 3]
    assert largest_remainder([0.5, 0.25, 0.25], 3) == [1, 1, 1]  # fractions .5 < .75 = .75
    assert largest_remainder([0.6, 0.2, 0.2], 3) == [2, 1, 0]  # 1.8, .6, .6: ties go to the earlier
    assert sum(largest_remainder([0.3, 1.7, 2.2, 0.01], 450_000)) == 450_000
    with pytest.raises(ValueError):
        largest_remainder([0, 0], 5)


@pytest.mark.parametrize(("town", "centre"), [("441900003", "44190003"), ("441900129", "44190039"),
                                              ("441900401", "44190001"), ("T1", "44190000")])
def test_centre_code_of_town(town, centre):
    assert centre_code(town) == centre


def test_camera_id_layout_and_bounds():
    assert camera_id("44190004", "132", 1) == "44190004081326000001"
    with pytest.raises(ValueError):
        camera_id("44190004", "132", 1_000_000)
