"""Validation of an imported grid set: pure (features in, a report out), no I/O.

Every problem names the feature (its index in the FeatureCollection and its code) and the rule it breaks:

| rule | what is wrong |
|---|---|
| not_a_feature_collection, feature_malformed | the document or a feature is not GeoJSON |
| code_missing, code_malformed, code_duplicate | no code; not 441900 + 3-digit parts (none 000); used twice |
| level_mismatch, parent_mismatch, parent_missing | level or parent disagrees with the code; parent absent |
| name_missing, name_too_long | no name; longer than 100 characters |
| geometry_missing, geometry_type | no geometry; not a Polygon or MultiPolygon |
| coordinate_invalid, coordinate_order, outside_region | not numbers or out of range; [lat, lon] instead of
  [lon, lat]; not in the expected region (China) |
| ring_unclosed, ring_degenerate | first position ≠ last; fewer than 4 positions or no area |
| self_intersection, geometry_invalid | edges cross; other invalidity (GEOS reason given) |
| overlap | two areas of one level overlap by more than the tolerance (both are named) |
| gap | part of a parent covered by none of its children, beyond the tolerance (warning with ``allow_gaps``) |
| outside_parent | part of a child outside its parent, beyond the tolerance |
| incomplete | the set has no town or no grid |

Tolerances are areas in square metres, so a GIS department's sliver (a few centimetres along a long edge)
passes and a real overlap does not.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from gridgov_common.geo import CHINA_BBOX, metres_per_degree
from gridgov_grid_registry.grids.areas import CITY_CODE, CODE_LENGTH, LEVELS, AreaRecord, level_of, parent_of
from gridgov_grid_registry.grids.geojson import Candidate, ReadProblem

Severity = Literal["error", "warning"]
Progress = Callable[[str, int, int], None]
NAME_MAX = 100


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


@dataclass(frozen=True)
class Issue:
    """One broken rule: which feature (index and code; None for the whole set), which rule, and why."""

    index: int | None
    code: str | None
    rule: str
    message: str
    severity: Severity = "error"

    def describe(self) -> str:
        """One line for people: ``features[12] 441900004003002 overlap: …``."""
        where = f"features[{self.index}]" if self.index is not None else "collection"
        code = f" {self.code}" if self.code else ""
        return f"{where}{code} {self.rule}: {self.message}"


@dataclass(frozen=True)
class ValidationOptions:
    """What the city expects of an import."""

    city_code: str = CITY_CODE
    overlap_tolerance_m2: float = 1.0
    gap_tolerance_m2: float = 1.0
    allow_gaps: bool = False  # gaps become warnings (a city that leaves water or mountains ungridded)
    region: tuple[float, float, float, float] = CHINA_BBOX


@dataclass
class ValidationReport:
    """The outcome: counts per level, every issue, and the areas (usable only when there is no error)."""

    features: int
    counts: dict[str, int]
    issues: list[Issue] = field(default_factory=list)
    areas: tuple[AreaRecord, ...] = ()

    @property
    def errors(self) -> list[Issue]:
        """The issues that block the import."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """The issues reported but not blocking."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """Whether the set may be imported."""
        return not self.errors


def _m2(area_deg2: float, lat: float) -> float:
    per_lon, per_lat = metres_per_degree(lat)
    return area_deg2 * per_lon * per_lat


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _positions(ring: Any) -> np.ndarray | None:
    """A ring's positions as an (n, 2) float array (extra ordinates dropped), or None if they are not numbers."""
    if not isinstance(ring, list | tuple):
        return None
    try:
        arr = np.array(ring)
    except ValueError:  # ragged: positions of different lengths
        arr = None
    if arr is None or arr.dtype.kind not in "if" or arr.ndim != 2 or arr.shape[1] < 2:
        # The slow path, for mixed positions (some with a height) or anything that is not plain numbers.
        if not all(isinstance(pos, list | tuple) and len(pos) >= 2 and _is_number(pos[0]) and _is_number(pos[1])
                   for pos in ring):
            return None
        return np.array([pos[:2] for pos in ring], dtype=float).reshape(-1, 2)
    arr = arr[:, :2].astype(float)
    return arr if np.isfinite(arr).all() else None


def _shoelace(arr: np.ndarray) -> float:
    x, y = arr[:, 0], arr[:, 1]
    return float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])) / 2


def parse_geometry(raw: Any, region: tuple[float, float, float, float] = CHINA_BBOX
                   ) -> tuple[BaseGeometry | None, list[tuple[str, str]]]:
    """A GeoJSON (multi)polygon as shapely, or the (rule, message) problems that stop it being one."""
    if not isinstance(raw, dict) or raw.get("type") is None:
        return None, [("geometry_missing", "the feature has no geometry")]
    kind, coords = raw.get("type"), raw.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        return None, [("geometry_type", f"a {kind} is not a Polygon or MultiPolygon")]
    if not isinstance(coords, list | tuple) or not coords:
        return None, [("geometry_missing", f"the {kind} has no coordinates")]
    polys = [coords] if kind == "Polygon" else coords
    problems: list[tuple[str, str]] = []
    parsed: list[list[np.ndarray]] = []
    for p, rings in enumerate(polys):
        if not isinstance(rings, list | tuple) or not rings:
            problems.append(("ring_degenerate", f"polygon {p} has no rings"))
            continue
        arrays = []
        for r, ring in enumerate(rings):
            where = f"ring {r}" if kind == "Polygon" else f"polygon {p} ring {r}"
            arr = _positions(ring)
            if arr is None:
                problems.append(("coordinate_invalid", f"{where} has a position that is not [lon, lat] numbers"))
                continue
            if len(arr) < 4:
                problems.append(("ring_degenerate", f"{where} has {len(arr)} positions; a ring needs at least 4"))
            elif not np.array_equal(arr[0], arr[-1]):
                problems.append(("ring_unclosed", f"{where} is not closed: it starts at {arr[0].tolist()} and "
                                                  f"ends at {arr[-1].tolist()}"))
            elif _shoelace(arr) == 0:
                problems.append(("ring_degenerate", f"{where} has no area (its points are collinear or repeated)"))
            arrays.append(arr)
        parsed.append(arrays)
    everything = [a for arrays in parsed for a in arrays]
    if everything:
        allpts = np.concatenate(everything)
        problems += _coordinate_problems(allpts[:, 0], allpts[:, 1], region)
    if problems:
        return None, problems
    geom: BaseGeometry = MultiPolygon([Polygon(a[0], a[1:]) for a in parsed]) if kind == "MultiPolygon" \
        else Polygon(parsed[0][0], parsed[0][1:])
    if shapely.is_valid(geom):
        return geom, []
    reason = shapely.is_valid_reason(geom)
    if "Self-intersection" in reason:
        return None, [("self_intersection", f"edges cross each other ({reason})")]
    if "Too few points" in reason:
        return None, [("ring_degenerate", reason)]
    return None, [("geometry_invalid", reason)]


def _coordinate_problems(x: np.ndarray, y: np.ndarray, region: tuple[float, float, float, float]
                         ) -> list[tuple[str, str]]:
    west, south, east, north = region

    def inside(a: np.ndarray, b: np.ndarray) -> bool:
        return bool(((a >= west) & (a <= east) & (b >= south) & (b <= north)).all())

    if inside(x, y):
        return []
    if inside(y, x):
        return [("coordinate_order", f"positions look like [lat, lon] (e.g. {[float(x[0]), float(y[0])]}); "
                                     "GeoJSON wants [lon, lat]")]
    if (np.abs(x) > 180).any() or (np.abs(y) > 90).any():
        return [("coordinate_invalid", "a longitude is outside ±180 or a latitude outside ±90")]
    return [("outside_region", f"positions lie outside the expected region {list(region)} (lon/lat, WGS84)")]


def _check_code(c: Candidate, options: ValidationOptions) -> tuple[str | None, list[tuple[str, str]]]:
    """The level a candidate's code belongs to, and the problems with its code, level, parent and name."""
    problems: list[tuple[str, str]] = []
    level = None
    if not c.code:
        problems.append(("code_missing", "the feature has no code"))
    else:
        level = level_of(c.code)
        if level is None:
            problems.append(("code_malformed", "a code is 9 (town), 12 (village) or 15 (grid) digits"))
        elif not c.code.startswith(options.city_code):
            problems.append(("code_malformed", f"the code does not start with the city's code {options.city_code}"))
        elif any(c.code[i:i + 3] == "000" for i in range(len(options.city_code), len(c.code), 3)):
            problems.append(("code_malformed", "a 3-digit part of the code is 000 (parts are numbered from 001)"))
        if c.level is not None and level is not None and c.level != level:
            problems.append(("level_mismatch", f"level {c.level!r} but a {len(c.code)}-digit code is a {level} "
                                               f"({', '.join(f'{k} {v}' for k, v in CODE_LENGTH.items())})"))
        if level is not None and c.parent is not None and c.parent != (parent_of(c.code) or ""):
            if not (level == "town" and c.parent in ("", options.city_code)):
                problems.append(("parent_mismatch", f"parent {c.parent!r} but the code says "
                                                    f"{parent_of(c.code) or options.city_code}"))
    if not c.name:
        problems.append(("name_missing", "the feature has no name"))
    elif len(c.name) > NAME_MAX:
        problems.append(("name_too_long", f"the name has {len(c.name)} characters; at most {NAME_MAX}"))
    return level, problems


@dataclass
class _Good:
    index: int
    code: str
    name: str
    level: str
    geometry: BaseGeometry


def validate(candidates: Sequence[Candidate], options: ValidationOptions | None = None,
             read_problems: Sequence[ReadProblem] = (), progress: Progress = _noop) -> ValidationReport:
    """Check a candidate grid set against every rule; the areas come back only when nothing is wrong."""
    options = options or ValidationOptions()
    issues = [Issue(p.index, None, p.rule, p.message) for p in read_problems]
    good: list[_Good] = []
    broken: set[str] = set()  # codes of features with problems: their parent's gap is not reported again
    first_of: dict[str, int] = {}
    counts: Counter[str] = Counter()
    for n, c in enumerate(candidates):
        level, problems = _check_code(c, options)
        geom, geo_problems = parse_geometry(c.geometry, options.region)
        problems += geo_problems
        if c.code:
            if c.code in first_of:
                problems.append(("code_duplicate", f"features[{first_of[c.code]}] has the same code"))
            else:
                first_of[c.code] = c.index
        issues += [Issue(c.index, c.code, rule, msg) for rule, msg in problems]
        if level:
            counts[level] += 1
        if not problems and level and geom is not None:
            good.append(_Good(c.index, c.code, c.name, level, geom))  # type: ignore[arg-type]
        elif c.code:
            broken.add(c.code)
        if n % 5000 == 0:
            progress("features", n, len(candidates))
    progress("features", len(candidates), len(candidates))

    by_code = {g.code: g for g in good}
    codes_present = set(first_of)
    for g in good:
        parent = parent_of(g.code)
        if parent is not None and parent not in codes_present:
            issues.append(Issue(g.index, g.code, "parent_missing", f"its parent {parent} is not in the set"))
    if not counts["town"] or not counts["grid"]:
        issues.append(Issue(None, None, "incomplete", f"a grid set needs towns and grids; it has "
                                                      f"{counts['town']} towns and {counts['grid']} grids"))
    issues += _overlaps(good, options, progress)
    issues += _parents(good, by_code, {parent_of(c) for c in broken}, options, progress)
    issues.sort(key=lambda i: (i.index if i.index is not None else -1, i.rule, i.message))
    report = ValidationReport(features=len(candidates) + len([p for p in read_problems if p.index is not None]),
                              counts={lvl: counts[lvl] for lvl in LEVELS}, issues=issues)
    if report.ok:
        report.areas = tuple(AreaRecord(g.code, g.name, g.level, parent_of(g.code), g.geometry)  # type: ignore[arg-type]
                             for g in sorted(good, key=lambda g: (LEVELS.index(g.level), g.code)))
    return report


def _overlaps(good: list[_Good], options: ValidationOptions, progress: Progress) -> list[Issue]:
    """Areas of one level whose interiors overlap by more than the tolerance (each of the two is named)."""
    issues: list[Issue] = []
    for level in LEVELS:
        items = [g for g in good if g.level == level]
        if len(items) < 2:
            continue
        progress(f"{level} overlaps", 0, 1)
        geoms = np.array([g.geometry for g in items], dtype=object)
        # A valid coverage (edge-matched, no overlaps) needs no pairwise check: GEOS proves it in one pass.
        if not shapely.coverage_is_valid(geoms):
            tree = STRtree(geoms)
            i, j = tree.query(geoms, predicate="intersects")
            pairs = i < j
            i, j = i[pairs], j[pairs]
            interior = ~shapely.touches(geoms[i], geoms[j])
            i, j = i[interior], j[interior]
            if len(i):
                shared = shapely.intersection(geoms[i], geoms[j])
                for a, b, s in zip(i.tolist(), j.tolist(), shared, strict=True):
                    m2 = _m2(shapely.area(s), s.centroid.y if not s.is_empty else 0.0)
                    if m2 > options.overlap_tolerance_m2:
                        for x, y in ((a, b), (b, a)):
                            issues.append(Issue(items[x].index, items[x].code, "overlap",
                                                f"overlaps features[{items[y].index}] {items[y].code} by "
                                                f"{m2:,.1f} m² (tolerance {options.overlap_tolerance_m2:g} m²)"))
        progress(f"{level} overlaps", 1, 1)
    return issues


def _parents(good: list[_Good], by_code: dict[str, _Good], skip_gaps: set[str | None], options: ValidationOptions,
             progress: Progress) -> list[Issue]:
    """Children outside their parent, and parents with gaps their children leave, beyond the tolerances."""
    issues: list[Issue] = []
    children: dict[str, list[_Good]] = defaultdict(list)
    for g in good:
        parent = parent_of(g.code)
        if parent in by_code:
            children[parent].append(g)
    kids = [k for ks in children.values() for k in ks]
    if kids:
        parents = np.array([by_code[parent_of(k.code)].geometry for k in kids], dtype=object)  # type: ignore[index]
        shapely.prepare(parents)
        inside = shapely.covers(parents, np.array([k.geometry for k in kids], dtype=object))
        for k, parent_geom, ok in zip(kids, parents, inside, strict=True):
            if ok:
                continue
            outside = k.geometry.difference(parent_geom)
            m2 = _m2(outside.area, k.geometry.centroid.y)
            if m2 > options.gap_tolerance_m2:
                issues.append(Issue(k.index, k.code, "outside_parent",
                                    f"{m2:,.1f} m² lies outside its parent {parent_of(k.code)} "
                                    f"(tolerance {options.gap_tolerance_m2:g} m²)"))
    parent_list = [g for g in good if g.level != "grid"]
    severity: Severity = "warning" if options.allow_gaps else "error"
    for n, p in enumerate(parent_list):
        if p.code in skip_gaps:  # a child of it is broken and named already; its hole is no news
            continue
        mine = children.get(p.code, [])
        # Children neither overlap nor stray (checked above), so the uncovered area is a difference of areas;
        # only a parent with a gap pays for the union that shows where it is.
        uncovered = p.geometry.area - sum(k.geometry.area for k in mine)
        if _m2(uncovered, p.geometry.centroid.y) > options.gap_tolerance_m2 / 2:
            covered = shapely.union_all([k.geometry for k in mine]) if mine else None
            gap = p.geometry.difference(covered) if covered is not None else p.geometry
            m2 = _m2(gap.area, p.geometry.centroid.y)
            if m2 > options.gap_tolerance_m2:
                where = gap.representative_point()
                issues.append(Issue(p.index, p.code, "gap",
                                    f"{m2:,.1f} m² inside it is covered by none of its "
                                    f"{'villages' if p.level == 'town' else 'grids'} (e.g. at {where.x:.6f}, "
                                    f"{where.y:.6f}; tolerance {options.gap_tolerance_m2:g} m²)", severity))
        if n % 500 == 0:
            progress("gaps", n, len(parent_list))
    progress("gaps", len(parent_list), len(parent_list))
    return issues
