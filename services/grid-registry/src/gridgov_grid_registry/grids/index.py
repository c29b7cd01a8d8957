"""Point → grid lookup in memory: a shapely STRtree over the grid polygons, pure (no I/O).

Rules, the same as the PostGIS lookup's: a point belongs to the grids that *cover* it (boundary included),
and when several do (a shared edge or vertex) the one with the smallest code wins, so every point gets one
deterministic answer. A point in no grid but inside a town is ``town_only``; outside every town, or with no
usable coordinates, it is ``unlocated`` (still answered, never dropped).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import shapely
from shapely.strtree import STRtree

from gridgov_common.events.reports import Location
from gridgov_grid_registry.grids.areas import AreaLike


class Locator(Protocol):
    """Finds the grid, village and town of a WGS84 point in one grid set."""

    @property
    def version(self) -> str | None:
        """The grid set the answers come from (None when there is none)."""
        ...

    def locate(self, lon: float | None, lat: float | None) -> Location:
        """Where a point falls; never raises for a bad point, it is ``unlocated`` instead."""
        ...


def usable(lon: float | None, lat: float | None) -> bool:
    """Whether a coordinate pair can be looked up: both present, finite and within WGS84 range."""
    if lon is None or lat is None or not (math.isfinite(lon) and math.isfinite(lat)):
        return False
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


class _Level:
    """The areas of one level sorted by code, and an STRtree whose item i is the i-th smallest code."""

    def __init__(self, areas: list[AreaLike]):
        areas = sorted(areas, key=lambda a: a.code)
        self.codes = [a.code for a in areas]
        self.tree = STRtree([a.geometry for a in areas])

    def smallest_covering(self, points: np.ndarray) -> np.ndarray:
        """Per point, the index of the smallest-code area covering it, or -1."""
        best = np.full(len(points), len(self.codes), dtype=np.int64)
        if len(points) and self.codes:
            # (point index, tree index) pairs; tree index order is code order, so min = smallest code.
            which, hit = self.tree.query(points, predicate="covered_by")
            np.minimum.at(best, which, hit)
        best[best == len(self.codes)] = -1
        return best


class GridIndex:
    """An in-memory locator for one grid set, built from its town, village and grid areas."""

    def __init__(self, areas: Iterable[AreaLike], version: str | None):
        areas = list(areas)
        self._version = version
        self._names = {a.code: a.name for a in areas}
        self._parents = {a.code: a.parent_code for a in areas}
        self._grids = _Level([a for a in areas if a.level == "grid"])
        self._towns = _Level([a for a in areas if a.level == "town"])

    @property
    def version(self) -> str | None:
        """The grid set this index was built from."""
        return self._version

    def __len__(self) -> int:
        """How many grids the index holds."""
        return len(self._grids.codes)

    def locate(self, lon: float | None, lat: float | None) -> Location:
        """Where one point falls."""
        return self.locate_many([(lon, lat)])[0]

    def locate_many(self, points: Sequence[tuple[float | None, float | None]]) -> list[Location]:
        """Where each point falls, in one vectorised pass per level (for batch lookups and imports)."""
        ok = [i for i, (lon, lat) in enumerate(points) if usable(lon, lat)]
        out = [Location(status="unlocated", grid_set_version=self._version) for _ in points]
        if not ok:
            return out
        coords = np.array([points[i] for i in ok], dtype=float)
        geoms = shapely.points(coords)
        grid_hit = self._grids.smallest_covering(geoms)
        missed = np.flatnonzero(grid_hit < 0)
        town_hit = np.full(len(ok), -1, dtype=np.int64)
        if len(missed):
            town_hit[missed] = self._towns.smallest_covering(geoms[missed])
        for j, i in enumerate(ok):
            if grid_hit[j] >= 0:
                out[i] = self._located(self._grids.codes[grid_hit[j]])
            elif town_hit[j] >= 0:
                town = self._towns.codes[town_hit[j]]
                out[i] = Location(status="town_only", town_code=town, town_name=self._names[town],
                                  grid_set_version=self._version)
        return out

    def _located(self, grid: str) -> Location:
        # The village and town are the grid's own parents, not whatever else covers the point.
        village = self._parents.get(grid)
        town = self._parents.get(village) if village else None
        return Location(
            status="located",
            grid_code=grid, grid_name=self._names[grid],
            village_code=village, village_name=self._names.get(village) if village else None,
            town_code=town, town_name=self._names.get(town) if town else None,
            grid_set_version=self._version,
        )
