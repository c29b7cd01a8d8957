"""Surges (突增): a day whose count stands far above its own recent baseline.

For each series (a grid, village or town and a category, say) and each day after the first ``baseline_days``,
the baseline is the ``baseline_days`` days before it: the expected count is their median and the spread the
larger of the scaled median absolute deviation (robust to earlier surges) and the Poisson spread sqrt(expected)
(so a flat baseline, whose MAD is zero, does not make every extra case a surge). A surge is a day with at least
``min_count`` cases and z = (count − expected) / spread ≥ ``z_min``. Pure: arrays in, a sorted list out.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MAD_SCALE = 1.4826  # makes the MAD a consistent estimate of the standard deviation for normal data


@dataclass(frozen=True)
class Surge:
    """One day of one series far above its baseline."""

    key: Hashable
    day_index: int
    count: int
    expected: float
    ratio: float  # count / expected, expected taken as at least one a day
    z: float


def surges(series: Mapping[Hashable, np.ndarray], *, baseline_days: int = 28, min_count: int = 5,
           z_min: float = 3.0) -> list[Surge]:
    """The surges of every series of daily counts, the strongest first."""
    if baseline_days < 1:
        raise ValueError("baseline_days must be >= 1")
    out: list[Surge] = []
    for key, values in series.items():
        counts = np.asarray(values, dtype=np.float64)
        if counts.ndim != 1 or len(counts) <= baseline_days:
            continue
        days = np.flatnonzero(counts >= min_count)
        days = days[days >= baseline_days]
        if len(days) == 0:  # most series: nothing reaches min_count, so no baseline is worth computing
            continue
        windows = np.lib.stride_tricks.sliding_window_view(counts, baseline_days)[days - baseline_days]
        expected = np.median(windows, axis=1)
        mad = np.median(np.abs(windows - expected[:, None]), axis=1) * MAD_SCALE
        spread = np.maximum(mad, np.sqrt(np.maximum(expected, 1.0)))
        z = (counts[days] - expected) / spread
        for d, e, zz in zip(days[z >= z_min], expected[z >= z_min], z[z >= z_min], strict=True):
            count = int(counts[d])
            out.append(Surge(key, int(d), count, float(e), float(count / max(e, 1.0)), float(zz)))
    out.sort(key=lambda s: (-s.z, -s.count, str(s.key), s.day_index))
    return out


def surges_of_rows(keys: Sequence[Hashable], counts: np.ndarray, *, baseline_days: int = 28, min_count: int = 5,
                   z_min: float = 3.0) -> list[Surge]:
    """``surges`` of series given as the rows of one matrix (row i the daily counts of ``keys[i]``).

    The rows without a day of at least ``min_count`` after their baseline, which ``surges`` would pass over one
    at a time, are left out at once (124,713 series at grid level in a 90-day city, a handful with such a day)."""
    if counts.ndim != 2 or counts.shape[1] <= baseline_days:
        return []
    busy = np.flatnonzero((counts[:, baseline_days:] >= min_count).any(axis=1))
    return surges({keys[i]: counts[i] for i in busy}, baseline_days=baseline_days, min_count=min_count,
                  z_min=z_min)
