"""Getis-Ord Gi* with analytic z-scores, Benjamini–Hochberg false-discovery-rate control, and hot/cold bins.

Gi* (Getis & Ord 1992; Ord & Getis 1995) compares the sum of the values in a location's neighbourhood, the
location itself included, with what the mean of all locations would give there:

    z_i = (Σ_j w_ij x_j − x̄ Σ_j w_ij) / (S · sqrt((n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)))

with x̄ the mean and S the (population) standard deviation of all n values. Weights are binary here, so
Σ w_ij² = Σ w_ij = the size of the neighbourhood. The space-time version (Esri's emerging hot spot analysis) takes
each (location, step) bin as one of n = locations × steps values; a bin's neighbourhood is its spatial neighbours
and itself in the same step and in the ``neighbourhood_steps`` steps before. z-scores are analytic (normal
approximation, no permutations), p-values two-sided. Pure: numpy in, numpy out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridgov_analytics.risk.adjacency import Adjacency

CONFIDENCE_LEVELS = (0.01, 0.05, 0.10)  # 99 %, 95 %, 90 %: bins ±3, ±2, ±1


@dataclass(frozen=True)
class GiStar:
    """The Gi* z-score and two-sided p-value of each location (or bin)."""

    z: np.ndarray
    p: np.ndarray


def _z_scores(values: np.ndarray, lag: np.ndarray, weight: np.ndarray) -> GiStar:
    """Gi* from each bin's neighbourhood sum ``lag`` and neighbourhood size ``weight`` (binary weights)."""
    x = values.astype(np.float64)
    n = x.size
    if n < 2:  # one bin (or none) has nothing to be compared with
        return GiStar(np.zeros(x.shape), np.ones(x.shape))
    mean = x.mean()
    s = np.sqrt(max((x * x).mean() - mean * mean, 0.0))
    if s <= 1e-12 * max(1.0, abs(mean)):  # constant values: nothing stands out anywhere
        return GiStar(np.zeros(x.shape), np.ones(x.shape))
    denominator = s * np.sqrt(np.maximum(n * weight - weight * weight, 0.0) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(denominator > 0, (lag - mean * weight) / denominator, 0.0)
    from scipy.special import ndtr  # here, not at import: scipy takes seconds to load

    return GiStar(z, 2.0 * ndtr(-np.abs(z)))


def gi_star(values: np.ndarray, adj: Adjacency) -> GiStar:
    """Gi* of each location of ``adj`` for one value per location (the location is its own neighbour)."""
    x = np.asarray(values, dtype=np.float64)
    if x.shape != (len(adj),):
        raise ValueError(f"values must have shape ({len(adj)},), got {x.shape}")
    lag = adj.matrix @ x + x
    return _z_scores(x, lag, adj.degree + 1.0)


def space_time_gi_star(cube: np.ndarray, adj: Adjacency, neighbourhood_steps: int = 1) -> GiStar:
    """Space-time Gi* of every (location, step) bin of ``cube[n_locations, n_steps]``."""
    x = np.asarray(cube, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != len(adj):
        raise ValueError(f"cube must have shape ({len(adj)}, n_steps), got {x.shape}")
    if neighbourhood_steps < 0:
        raise ValueError("neighbourhood_steps must be >= 0")
    n_steps = x.shape[1]
    spatial = adj.matrix @ x + x  # each step's sum over the location and its neighbours
    # add the previous ``neighbourhood_steps`` steps: a running sum over a trailing window
    csum = np.cumsum(spatial, axis=1)
    k = neighbourhood_steps + 1
    lag = csum.copy()
    if k < n_steps:
        lag[:, k:] = csum[:, k:] - csum[:, :-k]
    steps_in_window = np.minimum(np.arange(n_steps) + 1, k)
    weight = (adj.degree[:, None] + 1.0) * steps_in_window[None, :]
    return _z_scores(x, lag, weight)


def fdr(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Benjamini–Hochberg: which p-values are significant with the false discovery rate held at ``alpha``."""
    p = np.asarray(p, dtype=np.float64)
    flat = p.ravel()
    finite = np.isfinite(flat)
    m = int(finite.sum())
    out = np.zeros(flat.shape, dtype=bool)
    if m == 0:
        return out.reshape(p.shape)
    ranked = np.sort(flat[finite])
    below = np.flatnonzero(ranked <= alpha * np.arange(1, m + 1) / m)
    if len(below):
        cutoff = ranked[below[-1]]  # the largest p-value under its step-up line; every smaller one passes too
        out[finite] = flat[finite] <= cutoff
    return out.reshape(p.shape)


def bins(z: np.ndarray, p: np.ndarray, alpha: float = 0.10) -> np.ndarray:
    """Hot/cold bins as Esri's Gi_Bin: ±3/±2/±1 significant at 99/95/90 % after FDR, 0 otherwise.

    Levels less strict than ``alpha`` are left out (``alpha=0.05`` gives no ±1 bins).
    """
    z = np.asarray(z, dtype=np.float64)
    out = np.zeros(z.shape, dtype=np.int8)
    for level, value in zip(CONFIDENCE_LEVELS, (3, 2, 1), strict=True):
        if level > alpha + 1e-12:
            continue
        significant = fdr(p, level) & (out == 0)
        out[significant] = value
    return (out * np.sign(z)).astype(np.int8)
