"""Geofenced verification (核查地理围栏): was on-site evidence taken in the ticket's grid? Pure: no I/O.

``verdict`` judges one submission — the device fix, the ticket's grid boundary, the facts the photos' originals
carried (EXIF GPS and time, perceptual hash), and the hashes seen earlier in the case and in the grid's recent
cases — into one of four verdicts, each with its reasons (a code and a Chinese message):

- ``inside``: the fix is inside the grid by more than its own accuracy, every photo carries EXIF GPS near the
  fix, and nothing is reused. The only clean verdict.
- ``boundary``: the fix is within the tolerance of the grid's edge (inside by less than its accuracy, or outside
  by at most the tolerance, widened to the fix's accuracy when that is larger): accepted, flagged for the
  command centre.
- ``outside``: the fix is outside the grid by more than that: refused.
- ``unverifiable``: nothing to judge the place by (no fix, the grid's boundary not known), or the evidence does not
  hold together (a photo with no EXIF GPS, EXIF far from the fix, a reused photo, a photo not known): accepted,
  flagged. A fix that cannot be trusted (mocked, accuracy worse than the limit, stale or from the future) is
  ``unverifiable`` too, and refused.

Whether a verdict refuses is ``Verdict.refused``: a refusing reason (outside, accuracy, stale, future, mocked)
names the request field it refuses (``fix``, ``fix.accuracy_m``, ``fix.fixed_at``, ``fix.mocked``). The caller
decides what a refusal means (a 422 for verification and handling; only a flag for 自行处置).

Distances are in metres on a local projection centred on the fix (the WGS84 ellipsoid's radii of curvature
there): over a grid's few kilometres the error is far below a metre.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from gridgov_common.phash import hamming

VerdictName = Literal["inside", "boundary", "outside", "unverifiable"]
VERDICTS: tuple[VerdictName, ...] = ("inside", "boundary", "outside", "unverifiable")
FLAGGED: tuple[VerdictName, ...] = ("boundary", "outside", "unverifiable")  # what the command centre looks at

_A = 6378137.0  # WGS84 semi-major axis (m)
_E2 = 0.00669437999014  # WGS84 first eccentricity squared


@dataclass(frozen=True)
class Thresholds:
    """The limits a verdict applies (dispatch's settings ``geofence_*``; the defaults are the issue's)."""

    boundary_tolerance_m: float = 30.0  # outside the grid by at most this: boundary (accepted, flagged)
    # The tolerance widens to the fix's accuracy times this when that is larger: an honest worker standing just
    # inside the grid with a 45 m fix is not refused (bench/geofence.py measures the trade-off; 0 turns it off).
    accuracy_widens_boundary: float = 1.0
    accuracy_max_m: float = 75.0  # a fix less accurate than this is refused
    fix_max_age: timedelta = timedelta(minutes=10)  # a fix older than this is refused
    fix_future_skew: timedelta = timedelta(minutes=1)  # a fix this far in the future is refused (clock skew)
    exif_distance_max_m: float = 50.0  # a photo's EXIF GPS farther than this from the fix is flagged
    photo_time_max: timedelta = timedelta(minutes=30)  # a photo's EXIF time this far from the fix is flagged
    phash_distance_max: int = 8  # Hamming distance at or below which two photos are the same picture

    def outside_limit_m(self, accuracy_m: float) -> float:
        """How far outside the grid a fix may be and still be a boundary case."""
        return max(self.boundary_tolerance_m, accuracy_m * self.accuracy_widens_boundary)


class FixLike(Protocol):
    """The device fix (``gridgov_common.events.media.DeviceFix`` has this shape)."""

    lat: float
    lon: float
    accuracy_m: float
    fixed_at: datetime
    mocked: bool | None


@dataclass(frozen=True)
class PhotoFacts:
    """What dispatch learned of one submitted photo (``media.stored``); ``known=False`` when nothing was."""

    media_id: str
    known: bool = True
    phash: str | None = None
    exif_lat: float | None = None
    exif_lon: float | None = None
    exif_taken_at: datetime | None = None


@dataclass(frozen=True)
class Reason:
    """Why a verdict is what it is: a code, the Chinese message users read, the English one logs and API
    clients read, and for a refusing reason the request field it refuses."""

    code: str
    message: str
    message_en: str
    refuses: bool = False
    field: str | None = None

    def to_data(self) -> dict[str, str]:
        """The stored and published shape: ``{code, message}``."""
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Verdict:
    """A verdict, its reasons, when it was made, and the fix's signed distance to the grid's edge (metres,
    positive inside; None when not measured)."""

    verdict: VerdictName
    reasons: tuple[Reason, ...]
    checked_at: datetime
    distance_m: float | None = None

    @property
    def refused(self) -> bool:
        """Whether any reason refuses the submission."""
        return any(r.refuses for r in self.reasons)

    @property
    def refusals(self) -> tuple[Reason, ...]:
        """The refusing reasons."""
        return tuple(r for r in self.reasons if r.refuses)

    def to_data(self) -> dict[str, Any]:
        """``{verdict, reasons: [{code, message}], checked_at}`` as the ticket, its audit row and its event keep it."""
        return {"verdict": self.verdict, "reasons": [r.to_data() for r in self.reasons],
                "checked_at": self.checked_at.isoformat()}


@dataclass(frozen=True)
class Boundary:
    """A grid's boundary ready to be judged against (shapely, WGS84)."""

    grid_code: str
    geometry: Any = field(repr=False)


def boundary_from_geojson(grid_code: str, geojson: str | Mapping[str, Any]) -> Boundary:
    """A grid boundary from a GeoJSON Polygon or MultiPolygon (text or mapping)."""
    from shapely.geometry import shape  # at first use: numpy + shapely cost ~20 MB per process (#18)

    data = json.loads(geojson) if isinstance(geojson, str) else geojson
    return Boundary(grid_code, shape(data))


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at a latitude (WGS84 radii of curvature)."""
    phi = math.radians(lat)
    w = 1.0 - _E2 * math.sin(phi) ** 2
    meridian = _A * (1.0 - _E2) / w ** 1.5
    prime_vertical = _A / math.sqrt(w)
    return math.radians(1.0) * prime_vertical * math.cos(phi), math.radians(1.0) * meridian


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two nearby WGS84 points (local projection at the first)."""
    kx, ky = metres_per_degree(lat1)
    return math.hypot((lon2 - lon1) * kx, (lat2 - lat1) * ky)


def signed_distance_m(boundary: Boundary, lon: float, lat: float) -> float:
    """How far a point is inside the boundary (positive) or outside it (negative), in metres."""
    import numpy as np
    import shapely
    from shapely.geometry import Point

    kx, ky = metres_per_degree(lat)
    origin, scale = np.array([lon, lat]), np.array([kx, ky])
    local = shapely.transform(boundary.geometry, lambda xy: (xy - origin) * scale)
    here = Point(0.0, 0.0)
    edge = float(local.boundary.distance(here))
    return edge if local.covers(here) else -edge


def verdict(fix: FixLike | None, boundary: Boundary | None, photos: Sequence[PhotoFacts], *,
            case_hashes: Iterable[str] = (), grid_hashes: Iterable[str] = (), now: datetime,
            thresholds: Thresholds = Thresholds()) -> Verdict:
    """Judge one submission of on-site evidence (see the module's docstring for the rules)."""
    reasons: list[Reason] = []
    place: VerdictName = "unverifiable"
    signed: float | None = None
    if fix is None:
        reasons.append(Reason("no_fix", "未提供设备定位，无法核对是否在网格内", "no device fix was sent"))
    else:
        trusted = _fix_trust(fix, now, thresholds, reasons)
        if boundary is None:
            reasons.append(Reason("grid_unknown", "尚未获知本网格的边界，无法核对位置",
                                  "the grid's boundary is not known here yet"))
        else:
            signed = signed_distance_m(boundary, fix.lon, fix.lat)
            place = _place(signed, fix.accuracy_m, thresholds, reasons)
            if not trusted and place != "outside":
                place = "unverifiable"
    photo_flags = _photo_reasons(fix, photos, set(case_hashes), set(grid_hashes), thresholds)
    reasons.extend(photo_flags)
    if place == "inside" and photo_flags:
        place = "unverifiable"  # a photo that does not hold together never passes as inside
    return Verdict(place, tuple(reasons), now, None if signed is None else round(signed, 1))


def _fix_trust(fix: FixLike, now: datetime, t: Thresholds, reasons: list[Reason]) -> bool:
    """Add the refusing reasons of a fix that cannot be trusted; True when there is none."""
    before = len(reasons)
    if fix.mocked:
        reasons.append(Reason("fix_mocked", "设备报告此定位为模拟位置", "the device reports a mocked location",
                              refuses=True, field="fix.mocked"))
    if fix.accuracy_m > t.accuracy_max_m:
        reasons.append(Reason(
            "accuracy_too_low", f"定位精度 {fix.accuracy_m:.0f} 米，低于要求（不超过 {t.accuracy_max_m:.0f} 米），"
                                "请到开阔处重新定位",
            f"accuracy {fix.accuracy_m:.0f} m is worse than the {t.accuracy_max_m:.0f} m allowed",
            refuses=True, field="fix.accuracy_m"))
    age = now - fix.fixed_at
    if age > t.fix_max_age:
        minutes = age.total_seconds() / 60
        reasons.append(Reason(
            "fix_stale", f"定位时间已过去 {minutes:.0f} 分钟（不超过 {_minutes(t.fix_max_age)} 分钟），请重新定位",
            f"the fix is {minutes:.0f} min old; at most {_minutes(t.fix_max_age)} min allowed",
            refuses=True, field="fix.fixed_at"))
    elif -age > t.fix_future_skew:
        seconds = -age.total_seconds()
        reasons.append(Reason(
            "fix_in_future", f"定位时间比服务器时间晚 {seconds:.0f} 秒，请校准手机时间后重新定位",
            f"the fix is {seconds:.0f} s in the future; check the phone's clock",
            refuses=True, field="fix.fixed_at"))
    return len(reasons) == before


def _place(signed: float, accuracy_m: float, t: Thresholds, reasons: list[Reason]) -> VerdictName:
    """inside, boundary or outside from the fix's signed distance to the grid's edge and its accuracy."""
    if signed > accuracy_m:
        reasons.append(Reason("fix_inside", f"定位在网格内，距边界 {signed:.0f} 米（精度 {accuracy_m:.0f} 米）",
                              f"the fix is {signed:.0f} m inside the grid (accuracy {accuracy_m:.0f} m)"))
        return "inside"
    limit = t.outside_limit_m(accuracy_m)
    if signed >= -limit:
        where = f"网格内 {signed:.0f} 米" if signed >= 0 else f"网格外 {-signed:.0f} 米"
        where_en = f"{signed:.0f} m inside" if signed >= 0 else f"{-signed:.0f} m outside"
        reasons.append(Reason("fix_near_boundary", f"定位在网格边界附近（{where}，精度 {accuracy_m:.0f} 米），"
                                                   "请指挥中心留意",
                              f"the fix is near the grid's edge ({where_en}, accuracy {accuracy_m:.0f} m)"))
        return "boundary"
    reasons.append(Reason("fix_outside", f"定位在网格外 {-signed:.0f} 米（允许 {limit:.0f} 米），请在网格内核查",
                          f"the fix is {-signed:.0f} m outside the grid; at most {limit:.0f} m allowed",
                          refuses=True, field="fix"))
    return "outside"


def _photo_reasons(fix: FixLike | None, photos: Sequence[PhotoFacts], case_hashes: set[str],
                   grid_hashes: set[str], t: Thresholds) -> list[Reason]:
    """The flags the photos raise: unknown, no EXIF GPS, EXIF far from the fix or at another time, reused."""
    out: list[Reason] = []
    for n, photo in enumerate(photos, start=1):
        label = f"第 {n} 张照片"
        if not photo.known:
            out.append(Reason("photo_unknown", f"{label}未在本平台登记（或尚未处理完），无法核对拍摄位置",
                              f"photo {photo.media_id} is not known here (not uploaded, or not processed yet)"))
            continue
        if photo.exif_lat is None or photo.exif_lon is None:
            out.append(Reason("photo_no_exif", f"{label}没有 GPS 信息，无法核对拍摄位置",
                              f"photo {photo.media_id} carries no EXIF GPS"))
        elif fix is not None:
            apart = distance_m(fix.lon, fix.lat, photo.exif_lon, photo.exif_lat)
            if apart > t.exif_distance_max_m:
                out.append(Reason("photo_far_from_fix", f"{label}的拍摄位置距设备定位 {apart:.0f} 米"
                                                        f"（超过 {t.exif_distance_max_m:.0f} 米）",
                                  f"photo {photo.media_id} was taken {apart:.0f} m from the fix"))
        if photo.exif_taken_at is not None and fix is not None:
            gap = abs(photo.exif_taken_at - fix.fixed_at)
            if gap > t.photo_time_max:
                out.append(Reason("photo_time_mismatch", f"{label}的拍摄时间与定位时间相差 "
                                                         f"{gap.total_seconds() / 60:.0f} 分钟",
                                  f"photo {photo.media_id} was taken {gap.total_seconds() / 60:.0f} min from the fix"))
        if photo.phash is not None:
            if _matches(photo.phash, case_hashes, t.phash_distance_max):
                out.append(Reason("photo_reused_in_case", f"{label}与本案此前的照片相同或高度相似",
                                  f"photo {photo.media_id} matches a photo earlier in this case"))
            elif _matches(photo.phash, grid_hashes, t.phash_distance_max):
                out.append(Reason("photo_reused_in_grid", f"{label}与本网格近期其他案件的照片相同或高度相似",
                                  f"photo {photo.media_id} matches a photo of another recent case in this grid"))
    return out


def _matches(phash: str, hashes: set[str], limit: int) -> bool:
    return any(hamming(phash, other) <= limit for other in hashes)


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:g}"
