"""The demo data ``gridgov up`` starts with: the Dongguan-like grid set, its grid-worker roster and a few
department areas. Pure and deterministic.

The grid set is ``generator.generate("dongguan")``: 33 towns/streets with their real names, 593 villages,
2,930 grids. ``DEMO_POINT`` lies strictly inside ``DEMO_GRID_CODE`` (``gridgov demo`` and the end-to-end tests
report there); ``OUTSIDE_POINT`` is outside the city.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry import LineString, Polygon, box

from gridgov_common.demo_names import person_name
from gridgov_grid_registry.grids.areas import GridSetRecord
from gridgov_grid_registry.grids.generator import OUTLINE, SCALES, generated

DEMO_VERSION = SCALES["dongguan"].version
DEMO_POINT = (113.75, 23.02)  # lon, lat (WGS84)
DEMO_GRID_CODE = "441900004003002"  # 南城街道 › 洲源社区 › 第2网格
DEMO_VILLAGE_CODE = "441900004003"
DEMO_TOWN_CODE = "441900004"
OUTSIDE_POINT = (120.0, 30.0)  # Hangzhou: outside the city, comes back unlocated
WORKERS_PER_GRID = (3, 4)  # about 10,400 full-time grid workers over 2,930 grids, as in Dongguan


def demo_grid_set() -> GridSetRecord:
    """The demo grid set (generated once per process)."""
    return generated("dongguan").grid_set


@dataclass(frozen=True)
class WorkerRecord:
    """One grid worker of the demo roster."""

    worker_id: str
    name: str
    grid_code: str
    on_duty: bool


def demo_roster(grid_codes: list[str] | None = None) -> list[WorkerRecord]:
    """Three or four workers per grid, two of every three on duty (at least one per grid)."""
    if grid_codes is None:
        grid_codes = [a.code for a in demo_grid_set().areas if a.level == "grid"]
    out = []
    for n, code in enumerate(sorted(grid_codes)):
        count = WORKERS_PER_GRID[n % 2]
        for k in range(1, count + 1):
            serial = n * 4 + k
            out.append(WorkerRecord(f"gw-{code}-{k}", person_name(serial), code, on_duty=(k + n) % 3 != 0 or k == 1))
    return out


@dataclass(frozen=True)
class DepartmentAreaRecord:
    """One department area of the demo layer."""

    department: str
    code: str
    name: str
    geometry: Any


def demo_department_areas() -> list[DepartmentAreaRecord]:
    """A few schematic areas of responsibility that cut across grids, villages and towns."""
    city = Polygon(OUTLINE)
    return [
        DepartmentAreaRecord("urban-management", "um-centre", "中心城区市容责任区",
                             box(113.72, 22.99, 113.81, 23.07)),
        DepartmentAreaRecord("water", "w-dongjiang", "东江南岸防汛责任区",
                             city.intersection(box(113.5, 23.10, 114.3, 23.2))),
        DepartmentAreaRecord("water", "w-hanxi", "寒溪河沿岸责任区",
                             city.intersection(LineString([(113.78, 23.08), (113.98, 22.86)]).buffer(0.008))),
        DepartmentAreaRecord("ecology-environment", "ee-songshan-lake", "松山湖生态保护区",
                             box(113.86, 22.90, 113.93, 22.95)),
        DepartmentAreaRecord("traffic", "t-guanshen", "莞深高速沿线责任区",
                             city.intersection(LineString([(113.74, 23.06), (113.86, 22.90), (114.06, 22.70)])
                                               .buffer(0.005))),
    ]
