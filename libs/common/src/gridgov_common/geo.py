"""Coordinate systems used in China and the conversions between them: pure functions, no I/O.

- ``wgs84``: GPS, and government GIS data (CGCS2000 equals WGS84 to well under a metre for this purpose).
- ``gcj02``: the obfuscated "Mars" system every map licensed in China must use; phones, WeChat mini-programs
  and AMap/Tencent maps report it. Off WGS84 by a few hundred metres inside China, identical outside.
- ``bd09``: Baidu's further offset of GCJ-02 (Baidu apps and maps).

The GCJ-02 offset is the widely published polynomial-and-sine series on the Krasovsky 1940 ellipsoid; there
is no closed-form inverse, so GCJ-02 → WGS84 inverts the forward function by fixed-point iteration to below
1e-9° (about 0.1 mm). BD-09 is a small rotation and scaling of GCJ-02 around the origin plus a shift; its
inverse is also refined by iteration. Every function takes floats or numpy arrays (vectorised for batches).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Literal

Crs = Literal["wgs84", "gcj02", "bd09"]
CRS_NAMES: tuple[Crs, ...] = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, which the GCJ-02 formula is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323
# The BD-09 constant (π × 3000 / 180).
_X_PI = math.pi * 3000.0 / 180.0
# The GCJ-02 offset applies inside this box (mainland China, roughly); outside it coordinates are unchanged.
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)  # west, south, east, north
_TOLERANCE = 1e-10  # degrees: iterations stop when a round trip is this close (≈ 0.01 mm)
_MAX_ITERATIONS = 30

# Scalars go through ``math`` (several times faster than numpy on one number); numpy arrays through numpy,
# imported only when a caller hands arrays in (so a service converting single points never loads numpy).
_MATH = SimpleNamespace(sqrt=math.sqrt, sin=math.sin, cos=math.cos, atan2=math.atan2)


def _ops(*values: Any) -> SimpleNamespace:
    if all(isinstance(v, int | float) for v in values):
        return _MATH
    import numpy as np

    return SimpleNamespace(sqrt=np.sqrt, sin=np.sin, cos=np.cos, atan2=np.arctan2, np=np)


def _converged(*errors: Any) -> bool:
    return all(bool((abs(e) < _TOLERANCE).all()) if hasattr(e, "all") else abs(e) < _TOLERANCE for e in errors)


def in_china(lon: Any, lat: Any) -> Any:
    """Whether a point lies in the box where the GCJ-02 offset applies (elementwise for arrays)."""
    west, south, east, north = CHINA_BBOX
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _offset(lon: Any, lat: Any, m: SimpleNamespace) -> tuple[Any, Any]:
    """The GCJ-02 offset (Δlon, Δlat) in degrees at a WGS84 point, ignoring the China box."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = m.sqrt(abs(x))
    shared = (20.0 * m.sin(6.0 * x * math.pi) + 20.0 * m.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + shared
             + (20.0 * m.sin(y * math.pi) + 40.0 * m.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
             + (160.0 * m.sin(y / 12.0 * math.pi) + 320.0 * m.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + shared
             + (20.0 * m.sin(x * math.pi) + 40.0 * m.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
             + (150.0 * m.sin(x / 12.0 * math.pi) + 300.0 * m.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * m.sin(rad_lat) ** 2
    sqrt_magic = m.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * m.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS84 (or CGCS2000) → GCJ-02; points outside China are returned unchanged."""
    m = _ops(lon, lat)
    d_lon, d_lat = _offset(lon, lat, m)
    if m is _MATH:
        return (lon + d_lon, lat + d_lat) if in_china(lon, lat) else (float(lon), float(lat))
    inside = in_china(lon, lat)
    return m.np.where(inside, lon + d_lon, lon), m.np.where(inside, lat + d_lat, lat)


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → WGS84, inverting the forward offset by iteration (error below 1e-9°)."""
    wx, wy = lon, lat
    for _ in range(_MAX_ITERATIONS):
        fx, fy = wgs84_to_gcj02(wx, wy)
        ex, ey = fx - lon, fy - lat
        wx, wy = wx - ex, wy - ey
        if _converged(ex, ey):
            break
    return wx, wy


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → BD-09 (Baidu)."""
    m = _ops(lon, lat)
    z = m.sqrt(lon * lon + lat * lat) + 0.00002 * m.sin(lat * _X_PI)
    theta = m.atan2(lat, lon) + 0.000003 * m.cos(lon * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 → GCJ-02: the usual approximate inverse, refined by iteration against the forward function."""
    m = _ops(lon, lat)
    x, y = lon - 0.0065, lat - 0.006
    z = m.sqrt(x * x + y * y) - 0.00002 * m.sin(y * _X_PI)
    theta = m.atan2(y, x) - 0.000003 * m.cos(x * _X_PI)
    gx, gy = z * m.cos(theta), z * m.sin(theta)
    for _ in range(_MAX_ITERATIONS):
        fx, fy = gcj02_to_bd09(gx, gy)
        ex, ey = fx - lon, fy - lat
        gx, gy = gx - ex, gy - ey
        if _converged(ex, ey):
            break
    return gx, gy


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 → WGS84 (through GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: Any, lat: Any, crs: str) -> tuple[Any, Any]:
    """Coordinates in ``crs`` (wgs84, gcj02 or bd09) as WGS84; ValueError naming the system if unknown."""
    if crs == "wgs84":
        return lon, lat
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown coordinate system {crs!r}; one of {', '.join(CRS_NAMES)}")


def from_wgs84(lon: Any, lat: Any, crs: str) -> tuple[Any, Any]:
    """WGS84 coordinates expressed in ``crs`` (wgs84, gcj02 or bd09); ValueError if the system is unknown."""
    if crs == "wgs84":
        return lon, lat
    if crs == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        return wgs84_to_bd09(lon, lat)
    raise ValueError(f"unknown coordinate system {crs!r}; one of {', '.join(CRS_NAMES)}")


EARTH_RADIUS_M = 6371008.8  # mean Earth radius (IUGG)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude near ``lat`` (spherical; good to ~0.5% locally)."""
    per_degree = math.pi * EARTH_RADIUS_M / 180.0
    return per_degree * math.cos(math.radians(lat)), per_degree
