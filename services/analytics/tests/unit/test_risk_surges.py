"""Surges: a day far above its own baseline, robust to a flat baseline and to small counts."""

from __future__ import annotations

import numpy as np
import pytest

from gridgov_analytics.risk.surges import surges, surges_of_rows


def test_surge_against_a_flat_baseline():
    series = np.full(40, 2)
    series[30] = 12  # expected 2, MAD 0, Poisson spread sqrt(2): z = 10 / 1.414
    series[35] = 5  # z = 2.1: within what a rate of 2 gives
    [surge] = surges({("g1", "0101"): series}, baseline_days=28, min_count=5, z_min=3)
    assert (surge.key, surge.day_index, surge.count) == (("g1", "0101"), 30, 12)
    assert surge.expected == 2 and surge.ratio == 6
    assert surge.z == pytest.approx(10 / np.sqrt(2))


def test_no_surge_on_steady_series_small_counts_or_short_history():
    steady = np.random.default_rng(1).poisson(20, size=120)
    small = np.zeros(60, dtype=int)
    small[40] = 4  # z = 4 over an empty baseline, but fewer than min_count cases
    short = np.array([0] * 10 + [30])
    assert surges({"steady": steady, "small": small, "short": short}, min_count=5, z_min=4) == []


def test_baseline_median_shrugs_off_an_earlier_surge():
    series = np.full(70, 3)
    series[30] = 40
    series[45] = 14
    found = surges({"k": series}, baseline_days=28)
    assert [s.day_index for s in found] == [30, 45]  # the day-30 spike does not lift day 45's baseline
    assert found[0].z > found[1].z


def test_surges_of_rows_equal_surges_of_every_row():
    rng = np.random.default_rng(7)
    counts = rng.poisson(1.5, size=(300, 60))
    counts[17, 45] = 14  # a surge in one row; most rows never reach min_count after the baseline
    counts[200, 50] = 9
    keys = [("g", f"{i:03d}") for i in range(len(counts))]
    expected = surges(dict(zip(keys, counts, strict=True)), baseline_days=28, min_count=5, z_min=3)
    found = surges_of_rows(keys, counts, baseline_days=28, min_count=5, z_min=3)
    assert found == expected and {s.key for s in found} >= {keys[17], keys[200]}
    assert surges_of_rows(keys, counts[:, :28], baseline_days=28) == []  # no day after the baseline
