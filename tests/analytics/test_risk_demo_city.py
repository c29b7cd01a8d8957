"""The issue's measured figures for the hot-spot statistics, on the demo city's own grids.

A synthetic cube of the demo city's 2,930 grids (grid-registry's demo set, so this test lives at the root: a
service's own tests import no other service) × 52 weeks: Poisson background, 4 cases a grid-week, with 30
patterns planted, the four kinds in turn (new, intensifying, persistent, diminishing), each on a cluster of 5
adjacent grids (``gridgov_analytics.risk.planted``). Recall rule: a planted pattern is recalled when more than half
of its cluster's grids (3 of 5) get its class (``new_hot``, …); class recall = recalled patterns / 30 ≥ 0.9.
On pure Poisson noise (same rate everywhere): ≤ 5 % of grid-weeks flagged significant and ≤ 5 % of grids given
any class. Seeded and deterministic; three seeds so one lucky draw cannot carry the figure.
"""

from __future__ import annotations

import pytest

from gridgov_analytics.risk.adjacency import grid_adjacency
from gridgov_analytics.risk.emerging import emerging_hot_spots
from gridgov_analytics.risk.planted import KINDS, noise_cube, planted_cube
from gridgov_grid_registry.grids.demo import demo_grid_set

WEEKS = 52
SEEDS = (15, 16, 17)


@pytest.fixture(scope="module")
def city():
    grids = [a for a in demo_grid_set().areas if a.level == "grid"]
    return grid_adjacency([g.code for g in grids], [g.geometry for g in grids])


def test_demo_city_adjacency_is_whole(city):
    assert len(city) == 2930
    assert city.degree.min() >= 1 and 5.5 < city.degree.mean() < 7.5  # queen neighbours of irregular polygons


@pytest.mark.parametrize("seed", SEEDS)
def test_planted_patterns_recalled_on_demo_city(city, seed):
    planted = planted_cube(city, n_steps=WEEKS, n_patterns=30, seed=seed)
    result = emerging_hot_spots(planted.counts, city, alpha=0.05, neighbourhood_steps=1)
    recalled = {kind: 0 for kind in KINDS}
    for pattern in planted.patterns:
        hits = sum(result.classes[r] == pattern.expected_class for r in pattern.rows)
        recalled[pattern.kind] += hits > len(pattern.rows) / 2
    recall = sum(recalled.values()) / len(planted.patterns)
    assert len(planted.patterns) == 30 and {p.kind for p in planted.patterns} == set(KINDS)
    assert recall >= 0.9, (recall, recalled)


@pytest.mark.parametrize("seed", SEEDS)
def test_pure_noise_flags_few_cells_and_grids_on_demo_city(city, seed):
    result = emerging_hot_spots(noise_cube(len(city), WEEKS, background=4.0, seed=seed), city, alpha=0.05)
    flagged_cells = (result.hot_bins | result.cold_bins).mean()
    classed_grids = (result.classes != "no_pattern").mean()
    assert flagged_cells <= 0.05 and classed_grids <= 0.05, (flagged_cells, classed_grids)
