"""Benchmark: the geofence verdict (dispatch ``verification/geofence.py``) on synthetic fixes around the demo city's
grids, and the perceptual hash that catches a reused photo (event-intake ``media/phash.py``).

Fixes (issue #14's measured goals): for each noise σ (5, 15, 30 m) 10,000 fixes, each for a random grid of the demo
grid set (the 2,930 grids ``gridgov up`` loads, ``grids/demo.py``):
- 80 % honest fixes whose true position is uniform inside the grid,
- 20 % whose true position is uniform in the 300 m ring around the grid (outside it),
- on top, 500 mocked and 500 stale fixes (true position inside), and 200 from the future.
A fix is the true position plus an isotropic Gaussian error of σ per axis; the phone reports as its accuracy the
68 % radius of that error (1.51 σ, as Android defines accuracy). A sensitivity run repeats σ = 30 m with the
reported accuracy off by a log-normal factor (σ_log 0.25: phones misjudge their own accuracy). Each submission
carries one photo whose EXIF GPS is the fix plus 3 m (the camera writes the same GPS fix), and the case and the grid
hold 25 unrelated hashes each to compare it with.

Measured per σ: false rejects (true position inside, verdict refused), accepted fixes whose true position is
≥ 50 m outside the grid (split into ``inside`` — the clean verdict — and ``boundary`` — accepted, flagged), every
mocked / stale / future fix refused, and the time of one verdict (parsing the stored GeoJSON boundary included,
as the service does). Then the trade-off: false rejects and accepted-≥ 50 m-outside for other refusal limits on the
same fixes.

Photos: generated pictures (shapes, gradients, texture), each hashed as a JPEG at quality 90 (the original), after a
re-encode at quality 70, after a 50 % resize, and both; copies of one picture must match (Hamming distance at or
below dispatch's ``geofence_phash_distance_max``), different pictures must not.

Run:  uv run --frozen python bench/geofence.py [--fixes 10000] [--photos 200]
Results: bench/results/geofence.json.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridgov_dispatch.settings import DispatchSettings  # noqa: E402
from gridgov_dispatch.tickets.evidence import thresholds  # noqa: E402
from gridgov_dispatch.verification import geofence  # noqa: E402
from gridgov_grid_registry.grids.demo import demo_grid_set  # noqa: E402

try:  # H1a's hash (issue #14); the photo part reports its absence instead of failing
    from gridgov_event_intake.media.phash import hamming, phash_of_bytes  # noqa: E402
except ImportError:  # pragma: no cover - reported in the results
    hamming = phash_of_bytes = None

SIGMAS = (5.0, 15.0, 30.0)
CHOICE = (
    "The two fix goals conflict once the noise is a sizeable share of 50 m: keeping every fix whose true position "
    "is >= 50 m outside from being accepted needs a refusal limit of about 50 m - 3.7 sigma, which refuses 4 % of "
    "honest fixes at sigma 15 m and 28 % at sigma 30 m (see trade_off). Chosen: refuse a fix outside the grid by "
    "more than max(30 m, its accuracy). It keeps false rejects <= 0.5 % at every sigma; no fix >= 50 m outside is "
    "ever given the clean verdict 'inside'; the few accepted ones (sigma 15: about 0.2 %, sigma 30: about 3 % of "
    "the >= 50 m-outside fixes) are all 'boundary', i.e. on the command centre's flagged list "
    "(GET /v1/tickets?geofence=boundary,...). A refused honest worker cannot finish the task; a flagged fake is "
    "seen by a person. At sigma 5 m both goals hold outright.")
ACCURACY_PER_SIGMA = math.sqrt(-2 * math.log(1 - 0.68))  # the 68 % radius of a 2-D Gaussian, in σ
RING_M = 300.0
OUTSIDE_SHARE = 0.2
FAR_M = 50.0
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


class Grid:
    """One demo grid in local metres around its centroid, with its stored GeoJSON text."""

    def __init__(self, code: str, geometry) -> None:
        self.code = code
        c = geometry.centroid
        self.lon0, self.lat0 = c.x, c.y
        self.kx, self.ky = geofence.metres_per_degree(self.lat0)
        origin, scale = np.array([self.lon0, self.lat0]), np.array([self.kx, self.ky])
        self.local = shapely.transform(geometry, lambda xy: (xy - origin) * scale)
        self.ring = self.local.buffer(RING_M).difference(self.local)
        shapely.prepare(self.local)
        shapely.prepare(self.ring)
        self.geojson = json.dumps(shapely.geometry.mapping(geometry))

    def sample(self, rng: np.random.Generator, n: int, outside: bool) -> np.ndarray:
        """n points uniform inside the grid, or in the ring around it (local metres)."""
        area = self.ring if outside else self.local
        x0, y0, x1, y1 = area.bounds
        out: list[np.ndarray] = []
        while sum(len(o) for o in out) < n:
            xy = rng.uniform((x0, y0), (x1, y1), size=(4 * n + 8, 2))
            out.append(xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])])
        return np.concatenate(out)[:n]

    def truth(self, xy: np.ndarray) -> np.ndarray:
        """Signed distance (m, positive inside) of local points."""
        points = shapely.points(xy)
        d = shapely.distance(self.local.boundary, points)
        return np.where(shapely.contains_xy(self.local, xy[:, 0], xy[:, 1]), d, -d)

    def wgs84(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack([self.lon0 + xy[:, 0] / self.kx, self.lat0 + xy[:, 1] / self.ky])


class Fix:
    """A device fix as the verdict reads it."""

    __slots__ = ("lat", "lon", "accuracy_m", "fixed_at", "mocked")

    def __init__(self, lon, lat, accuracy_m, fixed_at, mocked=False):
        self.lon, self.lat, self.accuracy_m, self.fixed_at, self.mocked = lon, lat, accuracy_m, fixed_at, mocked


def _hex(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2)):016x}"


def run_sigma(grids: list[Grid], sigma: float, n: int, rng: np.random.Generator, t: geofence.Thresholds,
              jitter: float = 0.0) -> dict:
    """All fixes of one σ: the goals' counts, the verdict mix, the timings, and the fixes' raw facts for the
    trade-off table."""
    kinds = (["inside"] * round(n * (1 - OUTSIDE_SHARE)) + ["outside"] * round(n * OUTSIDE_SHARE)
             + ["mocked"] * 500 + ["stale"] * 500 + ["future"] * 200)
    case_hashes = {_hex(rng) for _ in range(25)}
    grid_hashes = {_hex(rng) for _ in range(25)}
    times: list[float] = []
    rows = []
    for kind in kinds:
        grid = grids[int(rng.integers(len(grids)))]
        true_xy = grid.sample(rng, 1, outside=kind == "outside")
        true_d = float(grid.truth(true_xy)[0])
        fix_xy = true_xy + rng.normal(0.0, sigma, size=2)
        lon, lat = grid.wgs84(fix_xy)[0]
        accuracy = max(1.0, ACCURACY_PER_SIGMA * sigma * math.exp(rng.normal(0.0, jitter)))
        age = {"stale": timedelta(minutes=float(rng.uniform(10.5, 120))),
               "future": -timedelta(minutes=float(rng.uniform(2, 60)))}.get(kind, timedelta(seconds=20))
        fix = Fix(lon, lat, accuracy, NOW - age, mocked=kind == "mocked")
        exif_lon, exif_lat = grid.wgs84(fix_xy + rng.normal(0.0, 3.0, size=2))[0]
        photo = geofence.PhotoFacts("m", True, _hex(rng), exif_lat, exif_lon, fix.fixed_at)
        started = time.perf_counter()
        boundary = geofence.boundary_from_geojson(grid.code, grid.geojson)  # as the service reads its row
        v = geofence.verdict(fix, boundary, [photo], case_hashes=case_hashes, grid_hashes=grid_hashes, now=NOW,
                             thresholds=t)
        times.append((time.perf_counter() - started) * 1000)
        rows.append((kind, true_d, v.distance_m, accuracy, v.verdict, v.refused))
    honest = [r for r in rows if r[0] == "inside"]
    far = [r for r in rows if r[0] == "outside" and r[1] <= -FAR_M]
    false_rejects = sum(r[5] for r in honest)
    ordered = sorted(times)
    return {
        "sigma_m": sigma,
        "accuracy_jitter_sigma_log": jitter,
        "fixes": len(rows),
        "true_inside": len(honest),
        "false_rejects": false_rejects,
        "false_reject_pct": round(100 * false_rejects / len(honest), 3),
        "false_reject_causes": _causes([r for r in honest if r[5]]),
        "true_outside": sum(r[0] == "outside" for r in rows),
        "true_outside_50m_or_more": len(far),
        "accepted_50m_or_more_outside": sum(not r[5] for r in far),
        "accepted_50m_or_more_outside_as_inside": sum(r[4] == "inside" for r in far),
        "accepted_50m_or_more_outside_as_boundary": sum(r[4] == "boundary" for r in far),
        "mocked_refused": f"{sum(r[5] for r in rows if r[0] == 'mocked')}/500",
        "stale_refused": f"{sum(r[5] for r in rows if r[0] == 'stale')}/500",
        "future_refused": f"{sum(r[5] for r in rows if r[0] == 'future')}/200",
        "verdicts_of_true_inside": {k: sum(r[4] == k for r in honest) for k in geofence.VERDICTS},
        "reported_accuracy_m_median": round(statistics.median(r[3] for r in rows), 1),
        "ms_per_verdict": {"p50": round(ordered[len(ordered) // 2], 3),
                           "p95": round(ordered[int(len(ordered) * 0.95)], 3),
                           "max": round(ordered[-1], 3)},
        "_rows": rows,
    }


def _causes(rows) -> dict:
    return {"outside_by_fix": sum(1 for r in rows if r[4] == "outside"),
            "accuracy_or_other": sum(1 for r in rows if r[4] != "outside")}


def trade_off(results: list[dict], t: geofence.Thresholds) -> list[dict]:
    """For other refusal limits (how far outside a fix may be before it is refused), on the same fixes: false
    rejects and accepted fixes ≥ 50 m outside, per σ."""
    accuracy_max = t.accuracy_max_m
    rules = {
        f"max({t.boundary_tolerance_m:g} m, {t.accuracy_widens_boundary:g} × accuracy) [settings in effect]":
            t.outside_limit_m,
        "fixed 30 m (accuracy ignored)": lambda a: 30.0,
        "max(30 m, accuracy)": lambda a: max(30.0, a),
        "max(30 m, 1.25 × accuracy)": lambda a: max(30.0, 1.25 * a),
        "max(30 m, 1.5 × accuracy)": lambda a: max(30.0, 1.5 * a),
        "fixed 0 m (must be inside)": lambda a: 0.0,
        "50 m − 2.5 σ̂ (σ̂ = accuracy / 1.51)": lambda a: 50.0 - 2.5 * a / ACCURACY_PER_SIGMA,
        "50 m − 3.7 σ̂ (0 in 10,000 expected)": lambda a: 50.0 - 3.7 * a / ACCURACY_PER_SIGMA,
    }
    table = []
    for name, limit in rules.items():
        row = {"refuse_when_outside_by_more_than": name}
        for res in results:
            honest = [r for r in res["_rows"] if r[0] == "inside"]
            far = [r for r in res["_rows"] if r[0] == "outside" and r[1] <= -FAR_M]
            def refused(r, limit=limit):
                return r[3] > accuracy_max or r[2] < -limit(r[3])

            row[f"sigma_{res['sigma_m']:g}"] = {
                "false_reject_pct": round(100 * sum(refused(r) for r in honest) / len(honest), 3),
                "accepted_50m_or_more_outside": sum(not refused(r) for r in far),
            }
        table.append(row)
    return table


def picture(rng: np.random.Generator, width: int = 1024, height: int = 768) -> Image.Image:
    """A generated 'photo': a sky/ground gradient, shapes of many sizes, a blur and sensor noise."""
    base = np.zeros((height, width, 3), dtype=np.float32)
    top, bottom = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    ramp = np.linspace(0, 1, height)[:, None, None]
    base += top * (1 - ramp) + bottom * ramp
    image = Image.fromarray(base.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(8, 30))):
        x0, y0 = rng.uniform(-100, width), rng.uniform(-100, height)
        w, h = rng.uniform(20, 500), rng.uniform(20, 400)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        box = [x0, y0, x0 + w, y0 + h]
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


def jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def photo_reuse(count: int, rng: np.random.Generator, limit: int) -> dict:
    """Copies of one picture (re-encoded at q70, resized 50 %, both) against the original, and different
    pictures against each other."""
    if phash_of_bytes is None:
        return {"error": "gridgov_event_intake.media.phash is not importable: the hash is not written yet"}
    originals, copies, times = [], [], []
    for _ in range(count):
        original = jpeg(picture(rng), 90)
        started = time.perf_counter()
        h0 = phash_of_bytes(original)
        times.append((time.perf_counter() - started) * 1000)
        decoded = Image.open(io.BytesIO(original))
        half = decoded.resize((decoded.width // 2, decoded.height // 2), Image.Resampling.LANCZOS)
        variants = {"q70": jpeg(decoded, 70), "half": jpeg(half, 90), "half_q70": jpeg(half, 70)}
        originals.append(h0)
        copies.append({k: hamming(h0, phash_of_bytes(v)) for k, v in variants.items()})
    same = [d for c in copies for d in c.values()]
    different = [hamming(a, b) for i, a in enumerate(originals) for b in originals[i + 1:]]
    return {
        "pictures": count,
        "phash_distance_max": limit,
        "copies_compared": len(same),
        "copies_caught": sum(d <= limit for d in same),
        "copy_distance": {"max": max(same), "mean": round(statistics.mean(same), 2),
                          "by_transform_max": {k: max(c[k] for c in copies) for k in copies[0]}},
        "different_pairs": len(different),
        "different_pairs_matched": sum(d <= limit for d in different),
        "different_distance": {"min": min(different), "p1": sorted(different)[len(different) // 100],
                               "mean": round(statistics.mean(different), 2)},
        "ms_per_hash_of_1024x768_jpeg": {"p50": round(sorted(times)[len(times) // 2], 2),
                                         "p95": round(sorted(times)[int(len(times) * 0.95)], 2)},
    }


def main() -> None:
    """Run both parts and write bench/results/geofence.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fixes", type=int, default=10_000)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    settings = DispatchSettings()
    t = thresholds(settings)
    started = time.perf_counter()
    grids = [Grid(a.code, a.geometry) for a in demo_grid_set().areas if a.level == "grid"]
    load_s = time.perf_counter() - started
    results = [run_sigma(grids, s, args.fixes, rng, t) for s in SIGMAS]
    table = trade_off(results, t)
    sensitivity = run_sigma(grids, 30.0, args.fixes, rng, t, jitter=0.25)
    sensitivity_table = trade_off([sensitivity], t)
    photos = photo_reuse(args.photos, rng, t.phash_distance_max)
    for r in (*results, sensitivity):
        r.pop("_rows")
    goals = {
        "false_rejects_at_most_0.5_pct": {f"sigma_{r['sigma_m']:g}": r["false_reject_pct"] <= 0.5 for r in results},
        "none_accepted_50m_or_more_outside": {f"sigma_{r['sigma_m']:g}": r["accepted_50m_or_more_outside"] == 0
                                              for r in results},
        "none_accepted_as_inside_50m_or_more_outside": {
            f"sigma_{r['sigma_m']:g}": r["accepted_50m_or_more_outside_as_inside"] == 0 for r in results},
        "every_mocked_stale_future_refused": all(
            r[k].split("/")[0] == r[k].split("/")[1] for r in results
            for k in ("mocked_refused", "stale_refused", "future_refused")),
        "p95_ms_per_verdict_at_most_50": all(r["ms_per_verdict"]["p95"] <= 50 for r in results),
        "every_reused_photo_caught": photos.get("copies_caught") == photos.get("copies_compared"),
        "no_different_photos_matched": photos.get("different_pairs_matched") == 0,
    }
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "grids": len(grids), "grid_load_s": round(load_s, 1),
        "thresholds": {"boundary_tolerance_m": t.boundary_tolerance_m,
                       "accuracy_widens_boundary": t.accuracy_widens_boundary,
                       "accuracy_max_m": t.accuracy_max_m, "fix_max_age_s": t.fix_max_age.total_seconds(),
                       "fix_future_skew_s": t.fix_future_skew.total_seconds(),
                       "exif_distance_max_m": t.exif_distance_max_m, "phash_distance_max": t.phash_distance_max},
        "model": {"noise": "isotropic Gaussian, σ per axis", "reported_accuracy": "1.51 σ × lognormal(0, 0.25)",
                  "true_positions": f"{1 - OUTSIDE_SHARE:.0%} uniform inside a random grid, {OUTSIDE_SHARE:.0%} "
                                    f"uniform in the {RING_M:g} m ring outside it; + 500 mocked, 500 stale, "
                                    "200 future (true position inside)"},
        "choice": CHOICE,
        "fixes": results,
        "trade_off": table,
        "sensitivity_accuracy_jitter": {"fixes": sensitivity, "trade_off": sensitivity_table},
        "photos": photos,
        "goals": goals,
    }
    out = ROOT / "bench" / "results" / "geofence.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({"fixes": results, "trade_off": table, "photos": photos, "goals": goals}, indent=1,
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
