"""Queen contiguity of grid polygons: corners count, a hair's gap is closed, an island gets its nearest grid."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from gridgov_analytics.risk.adjacency import Adjacency, grid_adjacency


def squares(rows: int, cols: int, size: float = 0.01) -> tuple[list[str], list]:
    codes, geoms = [], []
    for i in range(rows):
        for j in range(cols):
            codes.append(f"g{i}{j}")
            geoms.append(box(j * size, i * size, (j + 1) * size, (i + 1) * size))
    return codes, geoms


def test_queen_contiguity_counts_corners():
    codes, geoms = squares(3, 3)
    adj = grid_adjacency(codes, geoms)
    assert sorted(adj.neighbours("g11")) == sorted(c for c in codes if c != "g11")
    assert sorted(adj.neighbours("g00")) == ["g01", "g10", "g11"]  # g11 touches at one corner only
    assert adj.degree.tolist() == [3, 5, 3, 5, 8, 5, 3, 5, 3]
    assert adj.islands == ()


def test_small_gap_is_within_tolerance_and_island_gets_nearest():
    codes, geoms = squares(1, 2)
    geoms[1] = box(0.0100000004, 0, 0.02, 0.01)  # 0.04 µdeg apart: rounding, not a gap
    codes.append("far")
    geoms.append(box(0.05, 0, 0.06, 0.01))  # 3 cells away: an island
    adj = grid_adjacency(codes, geoms)
    assert adj.neighbours("g00") == ["g01"]
    assert adj.neighbours("far") == ["g01"] and "far" in adj.neighbours("g01")  # linked both ways
    assert adj.islands == ("far",)


def test_libpysal_weights_hold_the_same_neighbours():
    codes, geoms = squares(2, 3)
    adj = grid_adjacency(codes, geoms)
    w = adj.w
    assert w.id_order == codes
    for code in codes:
        assert sorted(w.neighbors[code]) == sorted(adj.neighbours(code))


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        grid_adjacency(["a", "a"], [box(0, 0, 1, 1), box(1, 0, 2, 1)])
    with pytest.raises(ValueError):
        grid_adjacency(["a"], [])
    assert len(grid_adjacency([], [])) == 0
    assert Adjacency.from_neighbours(["a", "b"], {"a": ["b"]}).neighbours("b") == ["a"]
