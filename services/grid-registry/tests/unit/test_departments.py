from dataclasses import dataclass
from typing import Any

from shapely.geometry import box

from gridgov_grid_registry.departments.layer import DepartmentLayer
from gridgov_grid_registry.grids.demo import DEMO_POINT, OUTSIDE_POINT, demo_department_areas


@dataclass
class Area:
    department: str
    code: str
    name: str
    geometry: Any


def test_covering_point_in_two_departments_areas_lists_both_in_order():
    layer = DepartmentLayer([Area("water", "w-1", "河", box(0, 0, 2, 2)), Area("traffic", "t-1", "路", box(1, 1, 3, 3)),
                             Area("water", "w-0", "湖", box(5, 5, 6, 6))])
    assert [(a.department, a.code) for a in layer.covering(1.5, 1.5)] == [("traffic", "t-1"), ("water", "w-1")]
    assert [a.code for a in layer.covering(2.0, 1.0)] == ["t-1", "w-1"]  # boundary included
    assert layer.covering(4.0, 4.0) == [] and layer.covering(None, 1.0) == []


def test_demo_department_areas_cover_demo_point_for_urban_management_only():
    layer = DepartmentLayer(demo_department_areas())
    assert [(a.department, a.code) for a in layer.covering(*DEMO_POINT)] == [("urban-management", "um-centre")]
    assert layer.covering(*OUTSIDE_POINT) == []
    assert len(layer) == 5 and all(a.geometry.is_valid for a in layer.areas)
