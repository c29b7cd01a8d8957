"""The demo grid set: 3 towns of Dongguan, 2 communities each, 2×2 rectangular grids each (24 grids).

Pure and deterministic. The rectangles tile lon 113.70–113.82, lat 22.98–23.06 without gaps or overlaps
(the layout is schematic, not the towns' real boundaries). Children are numbered west→east, north→south.
``DEMO_POINT`` lies strictly inside ``DEMO_GRID_CODE``: ``gridgov demo`` and the end-to-end tests report
there.
"""

from __future__ import annotations

from shapely.geometry import box

from gridgov_grid_registry.grids.areas import CITY_CODE, AreaRecord, GridSetRecord, child_code

DEMO_VERSION = "demo-1"
DEMO_BBOX = (113.70, 22.98, 113.82, 23.06)  # west, south, east, north
DEMO_POINT = (113.75, 23.02)  # lon, lat
DEMO_GRID_CODE = "441900004002001"  # 南城街道 › 宏伟社区 › 第1网格
OUTSIDE_POINT = (120.0, 30.0)  # Hangzhou: outside the city, comes back unlocated

Rect = tuple[float, float, float, float]

# (town sequence in GB/T 2260, name, rectangle, its two communities in west→east / north→south order)
TOWNS: tuple[tuple[int, str, Rect, tuple[str, str]], ...] = (
    (6, "莞城街道", (113.70, 23.03, 113.77, 23.06), ("西隅社区", "北隅社区")),
    (4, "南城街道", (113.70, 22.98, 113.77, 23.03), ("胜和社区", "宏伟社区")),
    (3, "东城街道", (113.77, 22.98, 113.82, 23.06), ("主山社区", "温塘社区")),
)


def _mid(a: float, b: float) -> float:
    # Computed once per boundary and shared by both neighbours, so shared edges are bit-identical.
    return round((a + b) / 2, 6)


def split_in_two(rect: Rect) -> tuple[Rect, Rect]:
    """Halve a rectangle across its longer side: (west, east) if wider than tall, else (north, south)."""
    west, south, east, north = rect
    if east - west >= north - south:
        mid = _mid(west, east)
        return (west, south, mid, north), (mid, south, east, north)
    mid = _mid(south, north)
    return (west, mid, east, north), (west, south, east, mid)


def split_in_four(rect: Rect) -> tuple[Rect, Rect, Rect, Rect]:
    """Quarter a rectangle, numbered west→east, north→south: NW, NE, SW, SE."""
    west, south, east, north = rect
    mx, my = _mid(west, east), _mid(south, north)
    return (west, my, mx, north), (mx, my, east, north), (west, south, mx, my), (mx, south, east, my)


def demo_grid_set() -> GridSetRecord:
    """The demo grid set: 3 towns, 6 communities, 24 grids."""
    towns: list[AreaRecord] = []
    villages: list[AreaRecord] = []
    grids: list[AreaRecord] = []
    for town_seq, town_name, town_rect, village_names in TOWNS:
        town = child_code(CITY_CODE, town_seq)
        towns.append(AreaRecord(town, town_name, "town", None, box(*town_rect)))
        for v_seq, (village_name, village_rect) in enumerate(zip(village_names, split_in_two(town_rect),
                                                                 strict=True), start=1):
            village = child_code(town, v_seq)
            villages.append(AreaRecord(village, village_name, "village", town, box(*village_rect)))
            for g_seq, grid_rect in enumerate(split_in_four(village_rect), start=1):
                grids.append(AreaRecord(child_code(village, g_seq), f"{village_name}第{g_seq}网格", "grid",
                                        village, box(*grid_rect)))
    return GridSetRecord(DEMO_VERSION, "demo: 3 towns, 6 communities, 24 grids (schematic rectangles)",
                         tuple(towns + villages + grids))
