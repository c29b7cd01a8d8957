"""Gi* against a hand computation and against esda, Benjamini–Hochberg on known p-values, Esri's bins."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gridgov_analytics.risk.gistar import bins, fdr, gi_star, space_time_gi_star
from gridgov_analytics.risk.planted import lattice

# 3×3 queen lattice with values 1..9 row by row: mean 5, S² = 285/9 − 25 = 20/3, n = 9.
#   corner r0c0: neighbourhood {1, 2, 4, 5}, W = 4: z = (12 − 20) / (sqrt(20/3) · sqrt((36 − 16) / 8)) = −8·sqrt(3/50)
#   edge r0c1:   neighbourhood {1, 2, 3, 4, 5, 6}, W = 6: z = (21 − 30) / (sqrt(20/3) · sqrt((54 − 36) / 8))
#                = −6·sqrt(3/20)
#   edge r1c2:   neighbourhood {2, 3, 5, 6, 8, 9}, W = 6: z = (33 − 30) / (sqrt(20/3) · 1.5) = 2·sqrt(3/20)
#   centre r1c1: the whole lattice, W = n: numerator and denominator both zero, z = 0.
HAND = {"r0c0": -8 * math.sqrt(3 / 50), "r0c1": -6 * math.sqrt(3 / 20), "r2c2": 8 * math.sqrt(3 / 50),
        "r2c1": 6 * math.sqrt(3 / 20), "r1c2": 2 * math.sqrt(3 / 20), "r1c1": 0.0}


def test_gi_star_matches_hand_computation_on_3x3_lattice():
    adj = lattice(3, 3)
    gi = gi_star(np.arange(1, 10, dtype=float), adj)
    for code, expected in HAND.items():
        assert gi.z[adj.index(code)] == pytest.approx(expected, abs=1e-12), code
    corner = adj.index("r0c0")
    assert gi.p[corner] == pytest.approx(math.erfc(abs(HAND["r0c0"]) / math.sqrt(2)), rel=1e-12)  # two-sided


def test_gi_star_agrees_with_esda_g_local_star():
    from esda import G_Local

    adj = lattice(6, 7)
    values = np.random.default_rng(3).poisson(5, size=len(adj)).astype(float)
    ours = gi_star(values, adj)
    theirs = G_Local(values, adj.w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(ours.z, theirs.Zs, atol=1e-9)


def test_gi_star_of_constant_values_is_zero():
    adj = lattice(3, 3)
    gi = gi_star(np.full(9, 4.0), adj)
    assert np.all(gi.z == 0) and np.all(gi.p == 1)


def test_space_time_gi_star_matches_dense_weights():
    adj = lattice(4, 3)
    cube = np.random.default_rng(5).poisson(3, size=(len(adj), 6)).astype(float)
    steps = 2
    gi = space_time_gi_star(cube, adj, neighbourhood_steps=steps)
    # the definition written out: a full weights matrix over the (location, step) bins
    n_loc, n_steps = cube.shape
    spatial = adj.matrix.toarray() + np.eye(n_loc)
    w = np.zeros((n_loc * n_steps, n_loc * n_steps))
    for i in range(n_loc):
        for t in range(n_steps):
            for j in range(n_loc):
                for u in range(max(0, t - steps), t + 1):
                    w[i * n_steps + t, j * n_steps + u] = spatial[i, j]
    x = cube.ravel()
    n, mean, s = x.size, x.mean(), x.std()
    wsum = w.sum(axis=1)
    z = (w @ x - mean * wsum) / (s * np.sqrt((n * (w ** 2).sum(axis=1) - wsum ** 2) / (n - 1)))
    np.testing.assert_allclose(gi.z.ravel(), z, atol=1e-10)


def test_space_time_gi_star_looks_only_backwards():
    adj = lattice(3, 3)
    cube = np.ones((9, 5))
    cube[adj.index("r1c1"), 4] = 20.0  # a spike in the last step only
    gi = space_time_gi_star(cube, adj, neighbourhood_steps=1)
    # steps 1..3 (full windows) alike for each location: the spike is not seen before it happens
    assert np.allclose(gi.z[:, 1:4], gi.z[:, [1]])
    assert (gi.z[:, 4] > gi.z[:, 3]).all()  # and every location next to it sees it in the step it happens


def test_fdr_benjamini_hochberg_known_values():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    assert fdr(p, 0.05).tolist() == [True, True] + [False] * 8
    # step-up: 0.03 misses its own line (0.025) but 0.035 meets its (0.0375), so both pass
    assert fdr(np.array([0.5, 0.035, 0.001, 0.03]), 0.05).tolist() == [False, True, True, True]
    assert fdr(np.array([0.01, 0.02, 0.03, 0.04, 0.05]), 0.05).all()
    assert not fdr(np.array([0.2, 0.9, np.nan]), 0.05).any()


def test_bins_levels_signs_and_alpha():
    z = np.array([4.0, -4.0, 2.2, 1.8, 0.5])
    p = np.array([1e-5, 1e-5, 0.03, 0.07, 0.6])  # BH lines for m = 5 at 10 %: 0.02, 0.04, 0.06, 0.08, 0.1
    assert bins(z, p, alpha=0.10).tolist() == [3, -3, 2, 1, 0]
    assert bins(z, p, alpha=0.05).tolist() == [3, -3, 2, 0, 0]
