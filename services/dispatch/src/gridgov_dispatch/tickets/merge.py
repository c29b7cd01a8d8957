"""并案 (merge), pure: does a new report join an open ticket, and why (distance, minutes)?"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridgov_common.geo import haversine_m


@dataclass(frozen=True)
class MergePolicy:
    """How near in space and time a report must be to an open ticket of its category to join it."""

    max_distance_m: float
    window: timedelta

    @property
    def enabled(self) -> bool:
        """Merging is off when the distance is zero."""
        return self.max_distance_m > 0


@dataclass(frozen=True)
class OpenCase:
    """What the decision needs to know about an open ticket."""

    ticket_id: str
    category_code: str
    lon: float | None
    lat: float | None
    created_at: datetime


@dataclass(frozen=True)
class MergeDecision:
    """The ticket a report joins, and why: how far, and how many minutes from when the ticket was opened."""

    ticket_id: str
    distance_m: float
    minutes: float


def decide(category_code: str, lon: float | None, lat: float | None, at: datetime, cases: Iterable[OpenCase],
           policy: MergePolicy) -> MergeDecision | None:
    """The nearest open ticket of the same category inside the policy's distance and window, or None.

    The window counts both ways from the ticket's opening: two reports of one burst pipe may cross.

    Reports without coordinates are never merged: an address alone is not precise enough to be sure.
    """
    if not policy.enabled or lon is None or lat is None:
        return None
    best: MergeDecision | None = None
    for case in cases:
        if case.category_code != category_code or case.lon is None or case.lat is None:
            continue
        age = abs(at - case.created_at)  # a report filed just before the ticket opened is the same event too
        if age > policy.window:
            continue
        distance = haversine_m(lon, lat, case.lon, case.lat)
        if distance > policy.max_distance_m:
            continue
        if best is None or distance < best.distance_m:
            best = MergeDecision(case.ticket_id, round(distance, 1), round(age.total_seconds() / 60, 1))
    return best
