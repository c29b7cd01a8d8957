"""A deterministic Dongguan-like city: pure (no I/O), the same areas on every run.

The 33 towns and streets (镇街) carry their real names and codes and sit roughly where they really are; the
villages (村/社区) and grids (网格) under them are synthetic. Everything is cut from one lattice of small
cells covering a Dongguan-sized outline (about 113.52–114.26E, 22.67–23.16N):

1. towns: a power diagram around each town's approximate real position, balanced towards its approximate real
   area; 2. villages: each town's cells cut by recursive bisection along their principal axis; 3. grids: each
   village's cells cut the same way. Any piece left disconnected is merged into the neighbour it shares most
   edges with, so every area is one connected polygon.

Because every polygon is traced along the same lattice edges with the same vertex coordinates, each level
tiles the city exactly (no gaps, no overlaps, children tile their parent) and shares edges vertex for vertex —
a valid coverage, which zoom-level simplification (``shapely.coverage_simplify``) keeps gap-free. Edges are
axis-aligned, so a point on an edge or a vertex is on it exactly in floating point, and every backend agrees
which areas cover it. Children are numbered west→east, north→south (by centroid) inside their parent.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from gridgov_grid_registry.grids.areas import CITY_CODE, AreaRecord, GridSetRecord, child_code

BBOX = (113.5, 22.6, 114.3, 23.2)  # west, south, east, north: the lattice covers this box
# A simplified outline of Dongguan (lon, lat): the Pearl River estuary to the west, the Dongjiang to the north,
# Huizhou to the east, Shenzhen to the south. Schematic, not the surveyed boundary.
OUTLINE: tuple[tuple[float, float], ...] = (
    (113.52, 23.06), (113.56, 23.12), (113.66, 23.15), (113.78, 23.16), (113.88, 23.15), (113.98, 23.12),
    (114.08, 23.08), (114.20, 23.05), (114.26, 22.98), (114.24, 22.86), (114.21, 22.76), (114.16, 22.67),
    (114.06, 22.70), (113.96, 22.76), (113.86, 22.74), (113.76, 22.72), (113.68, 22.74), (113.62, 22.80),
    (113.57, 22.88), (113.53, 22.97),
)


@dataclass(frozen=True)
class TownSeed:
    """A real town or street: its 3-digit code under 441900, name, approximate centre and area (km²)."""

    seq: int
    name: str
    lon: float
    lat: float
    area_km2: float

    @property
    def urban(self) -> bool:
        """Street offices (街道) are urban: denser villages (all communities) and smaller grids."""
        return self.seq < 100


# Codes as in the national statistical division codes; centres and areas approximate (used for proportions).
TOWNS: tuple[TownSeed, ...] = (
    TownSeed(3, "东城街道", 113.79, 23.02, 103), TownSeed(4, "南城街道", 113.73, 23.00, 59),
    TownSeed(5, "万江街道", 113.71, 23.05, 50), TownSeed(6, "莞城街道", 113.755, 23.045, 13.5),
    TownSeed(101, "石碣镇", 113.80, 23.10, 36), TownSeed(102, "石龙镇", 113.86, 23.11, 14),
    TownSeed(103, "茶山镇", 113.88, 23.07, 46), TownSeed(104, "石排镇", 113.94, 23.09, 55),
    TownSeed(105, "企石镇", 114.03, 23.07, 58), TownSeed(106, "横沥镇", 113.97, 23.03, 47),
    TownSeed(107, "桥头镇", 114.09, 23.03, 56), TownSeed(108, "谢岗镇", 114.16, 22.97, 94),
    TownSeed(109, "东坑镇", 113.94, 22.99, 27), TownSeed(110, "常平镇", 114.03, 22.98, 108),
    TownSeed(111, "寮步镇", 113.86, 22.99, 77), TownSeed(112, "樟木头镇", 114.08, 22.91, 119),
    TownSeed(113, "大朗镇", 113.94, 22.93, 118), TownSeed(114, "黄江镇", 114.00, 22.87, 98),
    TownSeed(115, "清溪镇", 114.17, 22.84, 143), TownSeed(116, "塘厦镇", 114.08, 22.79, 128),
    TownSeed(117, "凤岗镇", 114.15, 22.73, 83), TownSeed(118, "大岭山镇", 113.82, 22.89, 95),
    TownSeed(119, "长安镇", 113.80, 22.79, 98), TownSeed(121, "虎门镇", 113.68, 22.82, 170),
    TownSeed(122, "厚街镇", 113.68, 22.93, 126), TownSeed(123, "沙田镇", 113.60, 22.91, 109),
    TownSeed(124, "道滘镇", 113.67, 23.00, 54), TownSeed(125, "洪梅镇", 113.61, 23.01, 33),
    TownSeed(126, "麻涌镇", 113.58, 23.07, 91), TownSeed(127, "望牛墩镇", 113.66, 23.06, 31),
    TownSeed(128, "中堂镇", 113.66, 23.10, 60), TownSeed(129, "高埗镇", 113.73, 23.09, 34),
    TownSeed(401, "松山湖", 113.89, 22.93, 103),
)


@dataclass(frozen=True)
class Scale:
    """How finely to divide the city: villages and grids in total, and the lattice cell size in degrees."""

    name: str
    villages: int
    grids: int
    step: float
    version: str
    description: str


SCALES: dict[str, Scale] = {
    # About 2,930 grids under 33 towns/streets and about 600 villages/communities, as in Dongguan.
    "dongguan": Scale("dongguan", 593, 2930, 0.0045, "demo-2",
                      "Dongguan-like demo: 33 towns/streets (real names), 593 villages, 2,930 grids (synthetic)"),
    "100k": Scale("100k", 3300, 100_000, 0.0009, "bench-100k",
                  "benchmark: 33 towns/streets, 3,300 villages, 100,000 grids (synthetic)"),
}

Progress = Callable[[str, int, int], None]  # (stage, done, total)
_COS = math.cos(math.radians(22.9))  # metres per degree of longitude shrink by this much here


@dataclass(frozen=True)
class GeneratedCity:
    """A generated grid set and the lattice it was cut from (which answers point lookups independently)."""

    grid_set: GridSetRecord
    xs: np.ndarray  # lattice x (lon) of each column edge, len nx + 1
    ys: np.ndarray  # lattice y (lat) of each row edge, len ny + 1
    cell_grid: np.ndarray  # (ny, nx): index into ``grid_codes`` of each cell, -1 outside the city
    cell_town: np.ndarray  # (ny, nx): index into ``town_codes``, -1 outside the city
    grid_codes: tuple[str, ...]
    town_codes: tuple[str, ...]


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


def apportion(weights: list[float], total: int, low: list[int], high: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, each share within [low, high] (largest remainder)."""
    if not sum(low) <= total <= sum(high):
        raise ValueError(f"cannot split {total} within bounds summing to {sum(low)}..{sum(high)}")
    shares = list(low)
    free = [i for i in range(len(weights)) if shares[i] < high[i]]
    left = total - sum(shares)
    while left > 0 and free:
        weight = sum(weights[i] for i in free)
        quotas = {i: left * weights[i] / weight for i in free}
        added = 0
        for i in free:
            take = min(int(quotas[i]), high[i] - shares[i])
            shares[i] += take
            added += take
        if added == 0:  # hand out the remainder one by one, largest fraction first (ties: lower index)
            for i in sorted(free, key=lambda i: (-(quotas[i] - int(quotas[i])), i))[:left]:
                shares[i] += 1
                added += 1
        left -= added
        free = [i for i in free if shares[i] < high[i]]
    return shares


def bisect(xy: np.ndarray, k: int) -> np.ndarray:
    """Cut points into ``k`` parts of near-equal size by recursive halving along their principal axis."""
    labels = np.zeros(len(xy), dtype=np.int64)
    stack = [(np.arange(len(xy)), k, 0)]
    while stack:
        idx, parts, first = stack.pop()
        if parts == 1:
            labels[idx] = first
            continue
        pts = xy[idx]
        d = pts - pts.mean(axis=0)
        cxx, cyy, cxy = float((d[:, 0] ** 2).sum()), float((d[:, 1] ** 2).sum()), float((d[:, 0] * d[:, 1]).sum())
        theta = 0.5 * math.atan2(2 * cxy, cxx - cyy)  # closed form: deterministic, no LAPACK sign choices
        proj = d[:, 0] * math.cos(theta) + d[:, 1] * math.sin(theta)
        order = np.argsort(proj, kind="stable")
        k1 = parts // 2
        n1 = min(max(round(len(idx) * k1 / parts), k1), len(idx) - (parts - k1))
        stack.append((idx[order[:n1]], k1, first))
        stack.append((idx[order[n1:]], parts - k1, first + k1))
    return labels


def _components(labels: np.ndarray) -> np.ndarray:
    """Per cell, an id of its 4-connected component among cells of the same label (-1 stays -1)."""
    ny, nx = labels.shape
    comp = np.arange(ny * nx, dtype=np.int64).reshape(ny, nx)
    comp[labels < 0] = -1
    same_x = (labels[:, 1:] == labels[:, :-1]) & (labels[:, 1:] >= 0)
    same_y = (labels[1:, :] == labels[:-1, :]) & (labels[1:, :] >= 0)
    flat = comp.reshape(-1)
    while True:
        before = comp.copy()
        np.minimum(comp[:, 1:], np.where(same_x, comp[:, :-1], comp[:, 1:]), out=comp[:, 1:])
        np.minimum(comp[:, :-1], np.where(same_x, comp[:, 1:], comp[:, :-1]), out=comp[:, :-1])
        np.minimum(comp[1:, :], np.where(same_y, comp[:-1, :], comp[1:, :]), out=comp[1:, :])
        np.minimum(comp[:-1, :], np.where(same_y, comp[1:, :], comp[:-1, :]), out=comp[:-1, :])
        inside = flat >= 0
        flat[inside] = flat[flat[inside]]  # pointer jumping: converge in far fewer sweeps
        if np.array_equal(before, comp):
            return comp


def connect(labels: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Merge every piece of a label but its largest into the same-parent neighbour it shares most edges with."""
    labels = labels.copy()
    while True:
        comp = _components(labels)
        flat_comp, flat_label = comp.reshape(-1), labels.reshape(-1)
        inside = flat_comp >= 0
        sizes = np.bincount(flat_comp[inside], minlength=flat_comp.size)
        # The largest component of each label (ties: the lowest id) stays; the others move.
        best: dict[int, int] = {}
        for c in np.unique(flat_comp[inside]):
            lab = int(flat_label[c])  # a component's id is one of its own cells
            if lab not in best or sizes[c] > sizes[best[lab]]:
                best[lab] = int(c)
        keep = set(best.values())
        strays = [int(c) for c in np.unique(flat_comp[inside]) if int(c) not in keep]
        if not strays:
            return labels
        ny, nx = labels.shape
        stray_set = np.isin(comp, strays)
        votes: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            ys_, xs_ = np.nonzero(stray_set)
            ny_, nx_ = ys_ + dy, xs_ + dx
            ok = (ny_ >= 0) & (ny_ < ny) & (nx_ >= 0) & (nx_ < nx)
            ys_, xs_, ny_, nx_ = ys_[ok], xs_[ok], ny_[ok], nx_[ok]
            other = labels[ny_, nx_]
            good = (other >= 0) & (other != labels[ys_, xs_]) & (parents[ny_, nx_] == parents[ys_, xs_])
            for c, o in zip(comp[ys_[good], xs_[good]].tolist(), other[good].tolist(), strict=True):
                votes[c][o] += 1
        moved = False
        for c in strays:
            if votes[c]:
                target = min(votes[c], key=lambda o: (-votes[c][o], o))
                labels[comp == c] = target
                moved = True
        if not moved:
            return labels


_LEFT = {(1, 0): (0, 1), (0, 1): (-1, 0), (-1, 0): (0, -1), (0, -1): (1, 0)}


def _rings(edges: list[tuple[int, int, int, int]]) -> list[list[tuple[int, int]]]:
    """Chain directed lattice edges (interior on the left) into closed rings of vertex (i, j) indices."""
    out: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for x0, y0, x1, y1 in edges:
        out[(x0, y0)].append((x1, y1))
    rings = []
    while out:
        # Start where only one edge leaves, so a vertex two pieces touch at is entered before it is left.
        start = next((v for v, nexts in out.items() if len(nexts) == 1), next(iter(out)))
        ring = [start]
        prev, here = start, out[start].pop()
        if not out[start]:
            del out[start]
        while here != start:
            ring.append(here)
            nexts = out[here]
            if len(nexts) == 1:
                nxt = nexts.pop()
            else:  # a vertex two pieces touch at: turn left, so each ring hugs its own cells
                heading = (here[0] - prev[0], here[1] - prev[1])
                prefs = [_LEFT[heading], heading, _LEFT[_LEFT[_LEFT[heading]]]]
                nxt = next((here[0] + d[0], here[1] + d[1]) for d in prefs
                           if (here[0] + d[0], here[1] + d[1]) in nexts)
                nexts.remove(nxt)
            if not nexts:
                del out[here]
            prev, here = here, nxt
        ring.append(start)
        rings.append(ring)
    return rings


def trace(labels: np.ndarray, xs: np.ndarray, ys: np.ndarray,
          progress: Progress = _noop, stage: str = "") -> dict[int, Polygon | MultiPolygon]:
    """The polygon of every label: the lattice edges between it and other labels, chained into rings."""
    ny, nx = labels.shape
    padded = np.full((ny + 2, nx + 2), -1, dtype=np.int64)
    padded[1:-1, 1:-1] = labels
    core = padded[1:-1, 1:-1]
    jj, ii = np.mgrid[0:ny, 0:nx]
    sides = [  # neighbour offset, and the directed edge (x0, y0, x1, y1) that keeps the cell on its left
        ((-1, 0), (ii, jj, ii + 1, jj)),  # south side, heading east
        ((0, 1), (ii + 1, jj, ii + 1, jj + 1)),  # east side, heading north
        ((1, 0), (ii + 1, jj + 1, ii, jj + 1)),  # north side, heading west
        ((0, -1), (ii, jj + 1, ii, jj)),  # west side, heading south
    ]
    parts = []
    for (dy, dx), (x0, y0, x1, y1) in sides:
        neighbour = padded[1 + dy:ny + 1 + dy, 1 + dx:nx + 1 + dx]
        on = (core >= 0) & (core != neighbour)
        parts.append(np.stack([core[on], x0[on], y0[on], x1[on], y1[on]], axis=1))
    edges = np.concatenate(parts)
    edges = edges[np.argsort(edges[:, 0], kind="stable")]
    bounds = np.flatnonzero(np.diff(edges[:, 0])) + 1
    groups = np.split(edges, bounds)
    polygons: dict[int, Polygon | MultiPolygon] = {}
    simple_labels: list[int] = []
    simple_rings: list[np.ndarray] = []
    for n, group in enumerate(groups):
        label = int(group[0, 0])
        rings = [np.array(r, dtype=np.int64) for r in _rings([tuple(e) for e in group[:, 1:].tolist()])]
        if len(rings) == 1:  # the common case, built below in one vectorised call
            simple_labels.append(label)
            simple_rings.append(rings[0])
        else:
            polygons[label] = _polygon_with_holes(rings, xs, ys)
        if n % 2000 == 0:
            progress(stage, n, len(groups))
    if simple_rings:
        index = np.repeat(np.arange(len(simple_rings)), [len(r) for r in simple_rings])
        ij = np.concatenate(simple_rings)
        built = shapely.polygons(shapely.linearrings(np.stack([xs[ij[:, 0]], ys[ij[:, 1]]], axis=1),
                                                     indices=index))
        polygons.update(zip(simple_labels, built.tolist(), strict=True))
    progress(stage, len(groups), len(groups))
    return polygons


def _signed_area2(ring: np.ndarray) -> int:
    """Twice the signed area of a closed ring of integer lattice indices (positive: counter-clockwise)."""
    x, y = ring[:, 0], ring[:, 1]
    return int((x[:-1] * y[1:] - x[1:] * y[:-1]).sum())


def _polygon_with_holes(rings: list[np.ndarray], xs: np.ndarray, ys: np.ndarray) -> Polygon | MultiPolygon:
    """A polygon from one counter-clockwise shell and its clockwise holes (several shells: a multipolygon)."""
    def coords(ring: np.ndarray) -> np.ndarray:
        return np.stack([xs[ring[:, 0]], ys[ring[:, 1]]], axis=1)

    shells = [r for r in rings if _signed_area2(r) > 0]
    holes = [r for r in rings if _signed_area2(r) < 0]
    if len(shells) == 1:
        return Polygon(coords(shells[0]), [coords(h) for h in holes])
    # Not produced by connected labels; kept for completeness: each hole goes to the smallest shell around it.
    shell_polys = sorted((Polygon(coords(s)) for s in shells), key=lambda p: p.area)
    owned: dict[int, list[np.ndarray]] = defaultdict(list)
    for hole in holes:
        inside = Polygon(coords(hole)).representative_point()
        owned[next(i for i, p in enumerate(shell_polys) if p.contains(inside))].append(coords(hole))
    return MultiPolygon([Polygon(p.exterior.coords, owned[i]) for i, p in enumerate(shell_polys)])


def _centroids(labels: np.ndarray, cx: np.ndarray, cy: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean cell centre of each of ``n`` labels (labels and centres of in-city cells, flattened)."""
    count = np.maximum(np.bincount(labels, minlength=n), 1)
    return np.bincount(labels, weights=cx, minlength=n) / count, np.bincount(labels, weights=cy, minlength=n) / count


def _reading_order(ids: list[int], mx: np.ndarray, my: np.ndarray) -> list[int]:
    """Label ids sorted north→south, then west→east, by the centroid of their cells."""
    return sorted(ids, key=lambda i: (-round(float(my[i]), 9), round(float(mx[i]), 9), i))


_FIRST = "东西南北上下新大小中石沙塘龙凤黄白金桥岭湖江河洲坑围田水山竹松梅莲榕荔桂茶槎涌滘岗"
_SECOND = "头尾角岗坑塘围洲田湖岭边美联兴和安平溪沙涌滘源岸坊庄基埔"


def village_name(town_index: int, seq: int, urban: bool) -> str:
    """A synthetic but plausible village or community name, unique within its town."""
    combos = len(_FIRST) * len(_SECOND)
    k = (town_index * 7919 + seq * 104729) % combos  # a fixed walk over the combinations
    # 7919·t + 104729·s mod combos is injective in s for s < combos when gcd(104729, combos) = 1.
    stem = _FIRST[k // len(_SECOND)] + _SECOND[k % len(_SECOND)]
    suffix = "社区" if urban or seq % 3 == 1 else "村"
    return stem + suffix if seq <= combos else f"{stem}{seq // combos}{suffix}"


def _lattice(step: float) -> tuple[np.ndarray, np.ndarray]:
    west, south, east, north = BBOX
    nx, ny = math.ceil(round((east - west) / step, 9)), math.ceil(round((north - south) / step, 9))
    # Each edge coordinate is computed once from its integer index and shared by every polygon using it.
    return (np.round(west + np.arange(nx + 1) * step, 7), np.round(south + np.arange(ny + 1) * step, 7))


def _towns(cx: np.ndarray, cy: np.ndarray, mask: np.ndarray, step: float) -> np.ndarray:
    """Per cell, the index of its town: a power diagram of the seeds, balanced towards the real areas."""
    px, py = cx[mask] * _COS, cy[mask]
    sx = np.array([t.lon for t in TOWNS]) * _COS
    sy = np.array([t.lat for t in TOWNS])
    target = np.array([t.area_km2 for t in TOWNS])
    target = target / target.sum() * mask.sum()
    weight = np.zeros(len(TOWNS))
    cell_area = step * step * _COS
    for _ in range(60):
        best = np.full(len(px), np.inf)
        label = np.zeros(len(px), dtype=np.int64)
        for t in range(len(TOWNS)):
            d = (px - sx[t]) ** 2 + (py - sy[t]) ** 2 - weight[t]
            closer = d < best
            best[closer], label[closer] = d[closer], t
        area = np.bincount(label, minlength=len(TOWNS))
        weight += 0.5 * (target - area) * cell_area / math.pi
    out = np.full(mask.shape, -1, dtype=np.int64)
    out[mask] = label
    return out


def _split(parents: np.ndarray, counts: dict[int, int], cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Cut each parent's cells into ``counts[parent]`` children (global child ids, in parent order)."""
    out = np.full(parents.shape, -1, dtype=np.int64)
    flat_parent = parents.reshape(-1)
    order = np.argsort(flat_parent, kind="stable")
    sorted_parent = flat_parent[order]
    first = 0
    for parent in sorted(counts):
        lo, hi = np.searchsorted(sorted_parent, [parent, parent + 1])
        cells = order[lo:hi]
        xy = np.stack([cx.reshape(-1)[cells] * _COS, cy.reshape(-1)[cells]], axis=1)
        out.reshape(-1)[cells] = first + bisect(xy, counts[parent])
        first += counts[parent]
    return out


def _largest_component(mask: np.ndarray) -> np.ndarray:
    comp = _components(np.where(mask, 0, -1))
    ids, sizes = np.unique(comp[comp >= 0], return_counts=True)
    return comp == ids[np.argmax(sizes)]


def generate(scale: str = "dongguan", progress: Progress = _noop) -> GeneratedCity:
    """Generate the city at a scale (``dongguan``: 2,930 grids; ``100k``: 100,000 grids)."""
    sc = SCALES[scale]
    xs, ys = _lattice(sc.step)
    cx2, cy2 = np.meshgrid((xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2)
    progress("lattice", 0, 1)
    mask = shapely.contains_xy(Polygon(OUTLINE), cx2, cy2)
    mask = _largest_component(mask)
    city = np.where(mask, 0, -1)
    progress("lattice", 1, 1)

    progress("towns", 0, 1)
    town = connect(_towns(cx2, cy2, mask, sc.step), city)
    town_cells = np.bincount(town[mask], minlength=len(TOWNS))
    village_weights = [float(town_cells[t]) * (1.8 if TOWNS[t].urban else 1.0) for t in range(len(TOWNS))]
    village_counts = apportion(village_weights, sc.villages, [4] * len(TOWNS),
                               [min(int(c), 999) for c in town_cells])
    progress("towns", 1, 1)

    progress("villages", 0, 1)
    village = connect(_split(town, dict(enumerate(village_counts)), cx2, cy2), town)
    village_town = np.full(sc.villages, -1, dtype=np.int64)
    village_town[village[mask]] = town[mask]
    village_cells = np.bincount(village[mask], minlength=sc.villages)
    grid_weights = [float(village_cells[v]) * (2.0 if TOWNS[village_town[v]].urban else 1.0)
                    for v in range(sc.villages)]
    grid_counts = apportion(grid_weights, sc.grids, [1] * sc.villages, [min(int(c), 999) for c in village_cells])
    progress("villages", 1, 1)

    progress("grids", 0, 1)
    grid = connect(_split(village, dict(enumerate(grid_counts)), cx2, cy2), village)
    progress("grids", 1, 1)

    town_poly = trace(town, xs, ys, progress, "town polygons")
    village_poly = trace(village, xs, ys, progress, "village polygons")
    grid_poly = trace(grid, xs, ys, progress, "grid polygons")

    # Codes: towns by their real code; villages and grids numbered in reading order inside their parent.
    flat_cx, flat_cy = cx2[mask], cy2[mask]
    town_code = {t: child_code(CITY_CODE, TOWNS[t].seq) for t in range(len(TOWNS))}
    vx, vy = _centroids(village[mask], flat_cx, flat_cy, sc.villages)
    gx, gy = _centroids(grid[mask], flat_cx, flat_cy, sc.grids)
    villages_of: dict[int, list[int]] = defaultdict(list)
    for v in range(sc.villages):
        villages_of[int(village_town[v])].append(v)
    village_code: dict[int, str] = {}
    village_label = {}
    for t in range(len(TOWNS)):
        for seq, v in enumerate(_reading_order(villages_of[t], vx, vy), start=1):
            village_code[v] = child_code(town_code[t], seq)
            village_label[v] = village_name(t, seq, TOWNS[t].urban or TOWNS[t].seq > 400)
    grid_village = np.full(sc.grids, -1, dtype=np.int64)
    grid_village[grid[mask]] = village[mask]
    grid_code: dict[int, str] = {}
    grids_of: dict[int, list[int]] = defaultdict(list)
    for g in range(sc.grids):
        grids_of[int(grid_village[g])].append(g)
    for v, gs in grids_of.items():
        for seq, g in enumerate(_reading_order(gs, gx, gy), start=1):
            grid_code[g] = child_code(village_code[v], seq)

    areas = [AreaRecord(town_code[t], TOWNS[t].name, "town", None, town_poly[t]) for t in range(len(TOWNS))]
    areas += [AreaRecord(village_code[v], village_label[v], "village", town_code[int(village_town[v])],
                         village_poly[v]) for v in range(sc.villages)]
    areas += [AreaRecord(grid_code[g], f"{village_label[int(grid_village[g])]}第{int(grid_code[g][-3:])}网格",
                         "grid", village_code[int(grid_village[g])], grid_poly[g]) for g in range(sc.grids)]
    areas.sort(key=lambda a: (len(a.code), a.code))

    # The lattice as lookups see it: cell → index into the sorted code lists.
    grid_codes = tuple(sorted(grid_code.values()))
    town_codes = tuple(sorted(town_code.values()))
    grid_rank = np.empty(sc.grids, dtype=np.int64)
    rank_of = {c: i for i, c in enumerate(grid_codes)}
    for g, c in grid_code.items():
        grid_rank[g] = rank_of[c]
    town_rank = np.array([town_codes.index(town_code[t]) for t in range(len(TOWNS))])
    cell_grid = np.where(grid >= 0, grid_rank[np.maximum(grid, 0)], -1)
    cell_town = np.where(town >= 0, town_rank[np.maximum(town, 0)], -1)
    return GeneratedCity(GridSetRecord(sc.version, sc.description, tuple(areas)), xs, ys, cell_grid, cell_town,
                         grid_codes, town_codes)


@lru_cache(maxsize=2)
def generated(scale: str = "dongguan") -> GeneratedCity:
    """``generate(scale)``, computed once per process (the demo seed and tests share it)."""
    return generate(scale)
