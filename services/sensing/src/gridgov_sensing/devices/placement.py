"""Where a city's cameras and sensors stand (设备布点), pure and deterministic: N devices placed in the grids.

The generator behind ``gridgov sensing devices generate --count 450000`` (Dongguan's grid platform is linked to
about 450,000 video feeds). Grids get devices in proportion to the square root of their area — small urban grids
are denser per km², as real camera networks are, and no rural grid is left empty — split exactly by the largest
remainder, so the camera and sensor totals are exactly ``n * cameras_share`` and the rest. Each device's point is
drawn uniformly inside its grid (rejection sampling in the grid's bounding box, rounded to 6 decimals ≈ 0.1 m
and tested after rounding, so it is inside the grid it is filed under). Every grid draws from its own generator
seeded with (seed, the grid's rank by code), so the output depends on the seed and the grid set only, not on the
order the grids come in.

Camera ids follow GB/T 28181's 20-digit code: centre code (8: the 6-digit administrative code, e.g. 441900 东莞,
and 2 digits for the town's access unit), industry code (2: ``08`` city management), type code (3: ``132`` IP
camera, ``131`` analogue camera behind an encoder — one camera in ten) and a serial (7: network digit ``6``
e-government network, then 6 digits counted per centre and type). Sensors are ``IOT-<kind>-<n>``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

INDUSTRY_CITY_MANAGEMENT = "08"
IPC_TYPE = "132"  # 网络摄像机
CAMERA_TYPE = "131"  # 摄像机 (analogue, through an encoder/DVR)
ANALOGUE_EVERY = 10  # one camera in ten is an older analogue one
NETWORK_EGOV = "6"  # the serial's first digit: the e-government network
SERIAL_MAX = 999_999
DEFAULT_ADMIN = "441900"  # 东莞市: a city without districts, so its centre codes are 441900xx
COORD_DECIMALS = 6
MAX_ROUNDS = 50  # rejection-sampling rounds before a grid's remaining points fall back to a point surely inside

# The camera algorithms (alarm types of kind video_ai) a camera may run; each camera runs two to four.
CAMERA_ALGORITHMS: tuple[str, ...] = ("exposed_garbage", "street_vending", "piled_materials", "illegal_parking",
                                      "crowd_gathering", "smoke_fire", "fire_lane_blocked")
CAMERA_OWNER = "urban-management"


@dataclass(frozen=True)
class SensorKind:
    """A kind of IoT sensor: its id word, Chinese name, share of the sensors, alarm types and owner department."""

    kind: str
    name_zh: str
    share: float
    algorithms: tuple[str, ...]
    owner_department: str


SENSOR_KINDS: tuple[SensorKind, ...] = (
    SensorKind("manhole", "井盖传感器", 0.40, ("manhole_displaced",), "water"),
    SensorKind("smoke", "烟感探测器", 0.20, ("smoke_detector",), "fire-safety"),
    SensorKind("gas", "燃气探测器", 0.15, ("gas_concentration",), "housing"),
    SensorKind("water", "水位计", 0.10, ("water_level",), "water"),
    SensorKind("electric", "电气火灾探测器", 0.10, ("electrical_fire",), "fire-safety"),
    SensorKind("hydrant", "消防栓压力计", 0.05, ("hydrant_pressure",), "fire-safety"),
)

GridInput = tuple[str, str, str, BaseGeometry]  # grid_code, village_code, town_code, polygon (WGS84 lon/lat)


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One placed device, in the shape of the device table (without the heartbeat)."""

    device_id: str
    kind: str  # camera | sensor
    name: str
    lon: float
    lat: float
    grid_code: str
    village_code: str
    town_code: str
    owner_department: str
    algorithms: tuple[str, ...]


def largest_remainder(weights: Sequence[float], total: int) -> list[int]:
    """``total`` split in proportion to ``weights`` into integers summing to it exactly (ties to the earlier)."""
    if total < 0:
        raise ValueError("total must not be negative")
    w = np.asarray(weights, dtype=float)
    if total == 0 or len(w) == 0:
        return [0] * len(w)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    quota = w / w.sum() * total
    base = np.floor(quota).astype(np.int64)
    left = total - int(base.sum())
    order = np.lexsort((np.arange(len(w)), -(quota - base)))  # largest fraction first, then by position
    base[order[:left]] += 1
    return [int(x) for x in base]


def centre_code(town_code: str) -> str:
    """The 8-digit GB/T 28181 centre code of a town: its administrative prefix and a 2-digit access unit.

    The demo city's towns are ``441900`` + 3 digits (streets 003–006, towns 101–129, 松山湖 401); the unit folds
    them into two digits (streets as they are, towns 101–189 to 11–99, others by their number mod 100). Two towns
    sharing a unit only share a serial counter: ids stay unique.
    """
    admin = town_code[:6] if len(town_code) >= 6 and town_code[:6].isdigit() else DEFAULT_ADMIN
    tail = town_code[6:9]
    seq = int(tail) if tail.isdigit() else 0
    if seq < 100:
        unit = seq
    elif seq < 190:
        unit = seq - 90
    else:
        unit = seq % 100
    return f"{admin}{unit:02d}"


def camera_id(centre: str, type_code: str, serial: int) -> str:
    """A 20-digit GB/T 28181 camera id: centre (8) + industry (2) + type (3) + network digit and serial (7)."""
    if not 0 <= serial <= SERIAL_MAX:
        raise ValueError(f"serial {serial} beyond {SERIAL_MAX} for centre {centre} type {type_code}")
    return f"{centre}{INDUSTRY_CITY_MANAGEMENT}{type_code}{NETWORK_EGOV}{serial:06d}"


def points_in(geom: BaseGeometry, k: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    """``k`` points drawn uniformly inside a polygon, rounded to 6 decimals and inside after rounding."""
    if k <= 0:
        return []
    shapely.prepare(geom)
    x0, y0, x1, y1 = geom.bounds
    fill = max(geom.area / max((x1 - x0) * (y1 - y0), 1e-18), 0.05)
    out: list[tuple[float, float]] = []
    for _ in range(MAX_ROUNDS):
        need = k - len(out)
        if need <= 0:
            break
        m = int(need / fill * 1.3) + 8
        xs = np.round(rng.uniform(x0, x1, m), COORD_DECIMALS)
        ys = np.round(rng.uniform(y0, y1, m), COORD_DECIMALS)
        inside = shapely.contains_xy(geom, xs, ys)
        out.extend(zip(xs[inside][:need].tolist(), ys[inside][:need].tolist(), strict=True))
    if len(out) < k:  # a sliver of a grid: stack the rest on a point surely inside
        p = geom.representative_point()
        out.extend([(p.x, p.y)] * (k - len(out)))
    return out


def place_devices(grids: Iterable[GridInput], n: int, seed: int, cameras_share: float = 0.8) -> Iterator[DeviceRow]:
    """``n`` devices in the grids, cameras first in each grid (sorted by grid code); the same for the same input."""
    if n < 0:
        raise ValueError("n must not be negative")
    if not 0 <= cameras_share <= 1:
        raise ValueError("cameras_share must be within 0..1")
    ordered = sorted(grids, key=lambda g: g[0])
    if len({g[0] for g in ordered}) != len(ordered):
        raise ValueError("grid codes must be unique")
    if n == 0:
        return
    if not ordered:
        raise ValueError("no grids to place devices in")
    weights = [math.sqrt(max(g[3].area, 0.0)) for g in ordered]
    if sum(weights) <= 0:
        weights = [1.0] * len(ordered)
    n_cameras = round(n * cameras_share)
    cameras = largest_remainder(weights, n_cameras)
    sensors = largest_remainder(weights, n - n_cameras)
    shares = np.array([s.share for s in SENSOR_KINDS])
    shares = shares / shares.sum()
    serials: dict[tuple[str, str], int] = {}
    sensor_seq = {s.kind: 0 for s in SENSOR_KINDS}
    camera_no = 0
    n_algos = len(CAMERA_ALGORITHMS)
    subsets: dict[int, tuple[str, ...]] = {}  # bit mask of the algorithms → their sorted codes

    for rank, ((grid, village, town, geom), n_cam, n_sen) in enumerate(zip(ordered, cameras, sensors, strict=True)):
        if n_cam + n_sen == 0:
            continue
        rng = np.random.default_rng([seed, rank])
        points = points_in(geom, n_cam + n_sen, rng)
        centre = centre_code(town)
        counts = rng.integers(2, 5, n_cam)
        # each camera's algorithms: the first 2..4 of a random order of all of them, as a bit mask
        ranks = np.argsort(rng.random((n_cam, n_algos)), axis=1)
        masks = ((np.arange(n_algos)[None, :] < counts[:, None]) << ranks).sum(axis=1).tolist()
        for i in range(n_cam):
            type_code = CAMERA_TYPE if camera_no % ANALOGUE_EVERY == ANALOGUE_EVERY - 1 else IPC_TYPE
            camera_no += 1
            serial = serials.get((centre, type_code), 0) + 1
            serials[(centre, type_code)] = serial
            mask = masks[i]
            chosen = subsets.get(mask)
            if chosen is None:
                chosen = subsets[mask] = tuple(a for b, a in enumerate(CAMERA_ALGORITHMS) if mask >> b & 1)
            lon, lat = points[i]
            yield DeviceRow(camera_id(centre, type_code, serial), "camera", f"视频监控 {grid}-{i + 1:03d}", lon, lat,
                            grid, village, town, CAMERA_OWNER, chosen)
        kinds = rng.choice(len(SENSOR_KINDS), n_sen, p=shares)
        for j in range(n_sen):
            sk = SENSOR_KINDS[int(kinds[j])]
            sensor_seq[sk.kind] += 1
            lon, lat = points[n_cam + j]
            yield DeviceRow(f"IOT-{sk.kind}-{sensor_seq[sk.kind]:06d}", "sensor", f"{sk.name_zh} {grid}-{j + 1:03d}",
                            lon, lat, grid, village, town, sk.owner_department, sk.algorithms)
