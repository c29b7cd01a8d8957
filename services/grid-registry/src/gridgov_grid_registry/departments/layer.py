"""The department-area layer in memory: which departments' areas cover a point. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
import shapely
from shapely.strtree import STRtree

from gridgov_grid_registry.grids.index import usable


class DepartmentAreaLike(Protocol):
    """Anything shaped like a department area (a table row or a test value)."""

    department: str
    code: str
    name: str
    geometry: Any


class DepartmentLayer:
    """Every department's areas in an STRtree; a point may fall in several departments' areas, or none."""

    def __init__(self, areas: Iterable[DepartmentAreaLike], signature: Any = None):
        self.areas = sorted(areas, key=lambda a: (a.department, a.code))
        self.signature = signature  # what the layer was loaded from, to notice a change
        geoms = np.array([a.geometry for a in self.areas], dtype=object)
        shapely.prepare(geoms)
        self._tree = STRtree(geoms)

    def __len__(self) -> int:
        """How many department areas the layer holds."""
        return len(self.areas)

    def covering(self, lon: float | None, lat: float | None) -> list[DepartmentAreaLike]:
        """The areas covering a point (boundary included), by department then code."""
        if not self.areas or not usable(lon, lat):
            return []
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return [self.areas[i] for i in sorted(hits.tolist())]
