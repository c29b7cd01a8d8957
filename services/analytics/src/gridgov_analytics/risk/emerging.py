"""Emerging hot spot analysis (Esri's method): space-time Gi* with FDR, then a Mann–Kendall trend per location.

Each (location, step) bin gets a space-time Gi* z-score (``gistar.space_time_gi_star``); a bin is a significant
hot (cold) spot when Benjamini–Hochberg over all bins keeps it at ``alpha`` and its z is positive (negative). The
trend of each location's z series is the Mann–Kendall test. The classes follow Esri's definitions
("How Emerging Hot Spot Analysis works"), for hot spots (cold the same with cold bins, trend reversed):

- new: hot in the final step and never before;
- consecutive: one uninterrupted run of at least two hot steps ending in the final step, never hot before the run,
  and hot in less than 90 % of the steps;
- intensifying: hot in at least 90 % of the steps including the final one, and the z series rises significantly;
- persistent: hot in at least 90 % of the steps with no significant trend;
- diminishing: hot in at least 90 % of the steps including the final one, and the z series falls significantly;
- sporadic: hot in the final step, on and off before, in less than 90 % of the steps, never a cold spot;
- oscillating: hot in the final step, a cold spot in some earlier step, hot in less than 90 % of the steps;
- historical: not hot in the final step but hot in at least 90 % of the steps.

Where Esri's text leaves an overlap, the order is: final step hot → the rules above; final step not hot and at
least 90 % hot → historical (so persistent always includes the final step). A location with both hot and cold
histories is judged by the final step's sign.

One departure from Esri, on purpose: the Gi* z series of a location is autocorrelated by construction (the
windows of neighbouring steps overlap), and the plain Mann–Kendall test then finds a "significant" trend in a
steady hot spot several times more often than ``alpha`` (a persistent spot read as intensifying or diminishing).
The trend's variance is corrected for exactly that known correlation (``window_correlations``).

A second departure: a bin is a hot bin only when the location had cases of its own in that step. Gi* scores the
neighbourhood, so an empty grid amid busy ones gets a high z; Esri would call it hot, and the map then listed
grids with 0 cases as 新增热点 (new hot spot). Its z is kept (the trend still reads it); cold bins are unchanged,
an empty grid in a quiet neighbourhood being what a cold spot is.
Pure: numpy in, numpy and dataclasses out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridgov_analytics.risk.adjacency import Adjacency
from gridgov_analytics.risk.gistar import fdr, space_time_gi_star

PERSISTENCE = 0.9  # Esri's "90 percent of the time-step intervals"
NO_PATTERN = "no_pattern"
PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating",
            "historical")
CLASSES = (*(f"{p}_hot" for p in PATTERNS), *(f"{p}_cold" for p in PATTERNS), NO_PATTERN)


@dataclass(frozen=True)
class Trend:
    """Mann–Kendall on each row: the statistic S, z (continuity-corrected), two-sided p and Kendall's tau."""

    s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray


@dataclass(frozen=True)
class Emerging:
    """The result of an emerging hot spot analysis over ``cube[n_locations, n_steps]``."""

    classes: np.ndarray  # str per location, one of CLASSES
    z: np.ndarray  # Gi* z per bin
    p: np.ndarray  # two-sided p per bin
    hot_bins: np.ndarray  # bool per bin: significant (FDR), z > 0 and at least one case in the bin
    cold_bins: np.ndarray  # bool per bin: significant (FDR) and z < 0
    trend_z: np.ndarray  # Mann–Kendall z of each location's Gi* z series
    trend_p: np.ndarray
    alpha: float

    def summary(self) -> dict[str, int]:
        """How many locations fall in each class (classes with none left out)."""
        names, counts = np.unique(self.classes, return_counts=True)
        return {str(k): int(v) for k, v in zip(names, counts, strict=True)}


def window_correlations(neighbourhood_steps: int) -> tuple[float, ...]:
    """The lag-1.. correlations that overlapping windows of ``neighbourhood_steps + 1`` steps put in a z series.

    Under the null (independent bins), the Gi* sums of steps t and t−k share ``neighbourhood_steps + 1 − k`` of
    their steps, so their correlation is (K + 1 − k) / (K + 1).
    """
    k = neighbourhood_steps + 1
    return tuple((k - lag) / k for lag in range(1, k))


def mann_kendall(series: np.ndarray, lag_correlations: tuple[float, ...] = ()) -> Trend:
    """The Mann–Kendall trend test of each row of ``series[n, t]``.

    Without ``lag_correlations`` it is ``pymannkendall.original_test``, vectorised over rows: S from the signs of
    all later-minus-earlier pairs; the variance takes out ties (rows with ties are corrected one by one). With
    them (the known correlations of the series at lags 1, 2, …), the variance of S is inflated as Hamed & Rao
    (1998) do for autocorrelated series, with those correlations turned into rank correlations
    (6/π·asin(ρ/2)) instead of estimated from 52 noisy values: a positively autocorrelated series otherwise
    shows a "significant" trend far more often than ``alpha``.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    rows, t = x.shape
    s = np.zeros(rows)
    for k in range(1, t):  # pairs k steps apart: t−1 vectorised passes instead of t² / 2 loops per row
        s += np.sign(x[:, k:] - x[:, :-k]).sum(axis=1)
    var = np.full(rows, t * (t - 1) * (2 * t + 5) / 18.0)
    ordered = np.sort(x, axis=1)
    tied = np.flatnonzero((np.diff(ordered, axis=1) == 0).any(axis=1))
    for r in tied:
        _, counts = np.unique(x[r], return_counts=True)
        counts = counts[counts > 1]
        var[r] -= float((counts * (counts - 1) * (2 * counts + 5)).sum()) / 18.0
    if lag_correlations and t > 2:
        lags = np.arange(1, len(lag_correlations) + 1)
        rank_rho = 6.0 / np.pi * np.arcsin(np.asarray(lag_correlations) / 2.0)
        terms = (t - lags) * (t - lags - 1) * (t - lags - 2) * rank_rho
        var = var * (1.0 + 2.0 / (t * (t - 1) * (t - 2)) * float(terms[lags < t].sum()))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    from scipy.special import ndtr  # here, not at import: scipy takes seconds to load

    p = 2.0 * ndtr(-np.abs(z))
    pairs = t * (t - 1) / 2.0
    tau = s / pairs if pairs else np.zeros(rows)
    return Trend(s, z, p, tau)


def _final_run(flags: np.ndarray) -> int:
    """The length of the run of True at the end of ``flags``."""
    not_set = np.flatnonzero(~flags)
    return len(flags) if len(not_set) == 0 else len(flags) - 1 - int(not_set[-1])


def classify(hot: np.ndarray, cold: np.ndarray, trend_z: float, trend_p: float, alpha: float = 0.05) -> str:
    """The Esri class of one location from its hot and cold bins over time and the trend of its z series."""
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    steps = len(hot)
    if steps == 0:
        return NO_PATTERN
    rising = trend_p < alpha and trend_z > 0
    falling = trend_p < alpha and trend_z < 0
    for kind, mine, other, intensifies, diminishes in (("hot", hot, cold, rising, falling),
                                                       ("cold", cold, hot, falling, rising)):
        share = mine.sum() / steps
        if mine[-1]:
            if share >= PERSISTENCE:
                if intensifies:
                    return f"intensifying_{kind}"
                if diminishes:
                    return f"diminishing_{kind}"
                return f"persistent_{kind}"
            if other[:-1].any():
                return f"oscillating_{kind}"
            run = _final_run(mine)
            if mine.sum() == 1:
                return f"new_{kind}"
            if run == mine.sum():  # every hot step is in the final run, of at least two
                return f"consecutive_{kind}"
            return f"sporadic_{kind}"
    for kind, mine in (("hot", hot), ("cold", cold)):
        if not mine[-1] and mine.sum() / steps >= PERSISTENCE:
            return f"historical_{kind}"
    return NO_PATTERN


def emerging_hot_spots(cube: np.ndarray, adj: Adjacency, alpha: float = 0.05,
                       neighbourhood_steps: int = 1) -> Emerging:
    """Emerging hot spot classes of each location of ``cube[n_locations, n_steps]`` (counts per step)."""
    x = np.asarray(cube, dtype=np.float64)
    gi = space_time_gi_star(x, adj, neighbourhood_steps)
    significant = fdr(gi.p, alpha)
    hot = significant & (gi.z > 0) & (x > 0)  # no case of its own: in a hot neighbourhood, not a hot spot
    cold = significant & (gi.z < 0)
    rows = x.shape[0]
    trend = (mann_kendall(gi.z, window_correlations(neighbourhood_steps)) if x.shape[1] >= 2
             else Trend(np.zeros(rows), np.zeros(rows), np.ones(rows), np.zeros(rows)))
    classes = np.array([classify(hot[i], cold[i], float(trend.z[i]), float(trend.p[i]), alpha)
                        for i in range(x.shape[0])], dtype=object)
    return Emerging(classes, gi.z, gi.p, hot, cold, trend.z, trend.p, alpha)
