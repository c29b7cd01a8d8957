"""Esri's emerging hot spot classes on hand-built series, Mann–Kendall against pymannkendall, a small planted run."""

from __future__ import annotations

import numpy as np
import pytest

from gridgov_analytics.risk.emerging import classify, emerging_hot_spots, mann_kendall, window_correlations
from gridgov_analytics.risk.gistar import space_time_gi_star
from gridgov_analytics.risk.planted import lattice, noise_cube, planted_cube

T = 20  # 90 % of 20 steps: 18


def flags(*steps: int, ones: bool = False) -> np.ndarray:
    out = np.full(T, ones)
    out[list(steps)] = not ones
    return out


NONE = flags()
UP, DOWN, FLAT = (3.0, 0.001), (-3.0, 0.001), (0.4, 0.7)


@pytest.mark.parametrize(("hot", "cold", "trend", "expected"), [
    (flags(19), NONE, FLAT, "new_hot"),
    (flags(17, 18, 19), NONE, UP, "consecutive_hot"),
    (flags(ones=True), NONE, UP, "intensifying_hot"),
    (flags(ones=True), NONE, FLAT, "persistent_hot"),
    (flags(3, 9, ones=True), NONE, FLAT, "persistent_hot"),  # 18 of 20: still 90 %
    (flags(0, ones=True), NONE, DOWN, "diminishing_hot"),
    (flags(3, 7, 18, 19), NONE, FLAT, "sporadic_hot"),
    (flags(3, 4, 6, 9, 11, 15, 19), NONE, UP, "sporadic_hot"),
    (flags(10, 19), flags(2), FLAT, "oscillating_hot"),
    (flags(19, ones=True), NONE, FLAT, "historical_hot"),
    (flags(19, ones=True), NONE, DOWN, "historical_hot"),
    (flags(3, 9, 12, ones=True), NONE, UP, "sporadic_hot"),  # 17 of 20 with gaps: under 90 %
    (flags(5), NONE, FLAT, "no_pattern"),
    (flags(5, 6, 7), NONE, FLAT, "no_pattern"),
    (NONE, flags(19), FLAT, "new_cold"),
    (NONE, flags(16, 17, 18, 19), FLAT, "consecutive_cold"),
    (NONE, flags(ones=True), DOWN, "intensifying_cold"),  # z falling: colder and colder
    (NONE, flags(ones=True), UP, "diminishing_cold"),
    (NONE, flags(ones=True), FLAT, "persistent_cold"),
    (NONE, flags(2, 8, 19), FLAT, "sporadic_cold"),
    (flags(4), flags(12, 19), FLAT, "oscillating_cold"),
    (NONE, flags(19, ones=True), FLAT, "historical_cold"),
    (NONE, NONE, UP, "no_pattern"),
])
def test_classify_follows_esri_definitions(hot, cold, trend, expected):
    assert classify(hot, cold, *trend, alpha=0.05) == expected


def test_classify_needs_a_significant_trend():
    # the same rising z, but p above alpha: persistent, not intensifying
    assert classify(flags(ones=True), NONE, 3.0, 0.2, alpha=0.05) == "persistent_hot"


def test_mann_kendall_equals_pymannkendall_original_test():
    import pymannkendall

    rng = np.random.default_rng(7)
    series = np.vstack([rng.normal(size=(5, 30)).cumsum(axis=1), rng.integers(0, 4, size=(3, 30))])  # with ties
    ours = mann_kendall(series)
    for row, s, z, p, tau in zip(series, ours.s, ours.z, ours.p, ours.tau, strict=True):
        ref = pymannkendall.original_test(row)
        assert (s, z, p, tau) == pytest.approx((ref.s, ref.z, ref.p, ref.Tau), rel=1e-9, abs=1e-12)


def test_mann_kendall_window_correction_widens_the_variance():
    rng = np.random.default_rng(1)
    series = rng.normal(size=(4, 52)).cumsum(axis=1)
    plain = mann_kendall(series)
    corrected = mann_kendall(series, window_correlations(1))
    assert window_correlations(1) == (0.5,) and window_correlations(0) == ()
    assert np.all(np.abs(corrected.z) < np.abs(plain.z)) and np.all(corrected.s == plain.s)


def test_steady_hot_spot_is_rarely_read_as_a_trend():
    # a persistent pattern's z series, overlapping windows and all: the corrected trend keeps false trends near alpha
    adj = lattice(12, 12)
    z = space_time_gi_star(noise_cube(len(adj), 52, seed=2), adj, 1).z
    false_plain = (mann_kendall(z).p < 0.05).mean()
    false_corrected = (mann_kendall(z, window_correlations(1)).p < 0.05).mean()
    assert false_corrected <= 0.08 < false_plain


def test_emerging_hot_spots_finds_planted_patterns_on_a_lattice():
    adj = lattice(30, 30)
    planted = planted_cube(adj, n_steps=30, n_patterns=8, seed=4)
    result = emerging_hot_spots(planted.counts, adj, alpha=0.05)
    for pattern in planted.patterns:
        got = [result.classes[r] for r in pattern.rows]
        assert sum(c == pattern.expected_class for c in got) > len(got) / 2, (pattern.kind, got)
    assert result.z.shape == planted.counts.shape and result.hot_bins.dtype == bool
    assert sum(result.summary().values()) == len(adj)


def test_emerging_hot_spots_on_noise_flags_nothing_much():
    adj = lattice(30, 30)
    result = emerging_hot_spots(noise_cube(len(adj), 30, seed=9), adj, alpha=0.05)
    assert (result.hot_bins | result.cold_bins).mean() <= 0.05
    assert (result.classes != "no_pattern").mean() <= 0.05


def _quiet_grid_in_a_new_hot_spot(final_week_only: bool) -> tuple[np.ndarray, object, int]:
    """A 15×15 lattice of noise with a new hot spot (its 8 neighbours ×6 in the final week) around one quiet grid."""
    adj = lattice(15, 15)
    counts = noise_cube(len(adj), 20, background=4.0, seed=3)
    centre = adj.index("r7c7")
    ring = [adj.index(code) for code in adj.neighbours("r7c7")]
    counts[ring, -1] = 30
    if final_week_only:
        counts[centre, -1] = 0
    else:
        counts[centre, :] = 0
    return counts, adj, centre


@pytest.mark.parametrize("final_week_only", [False, True])
def test_grid_without_cases_is_not_a_hot_spot(final_week_only):
    # planted: Gi* scores the neighbourhood, so before the fix the empty grid amid the new hot spot read 新增热点
    counts, adj, centre = _quiet_grid_in_a_new_hot_spot(final_week_only)
    result = emerging_hot_spots(counts, adj, alpha=0.05)
    ring = [adj.index(code) for code in adj.neighbours("r7c7")]
    assert sum(result.classes[r] == "new_hot" for r in ring) >= 6  # the hot spot itself is still found
    assert result.z[centre, -1] > 0 and not result.hot_bins[centre, -1]
    assert not str(result.classes[centre]).endswith("_hot"), result.classes[centre]


def test_grid_without_cases_can_still_be_cold():
    # an empty grid in a quiet neighbourhood is what a cold spot means: the fix keeps cold bins as they were
    adj = lattice(15, 15)
    counts = noise_cube(len(adj), 20, background=4.0, seed=3)
    quiet = [adj.index(f"r{i}c{j}") for i in range(5, 10) for j in range(5, 10)]
    counts[np.ix_(quiet, [-2, -1])] = 0
    result = emerging_hot_spots(counts, adj, alpha=0.05)
    assert result.cold_bins[adj.index("r7c7"), -1]
