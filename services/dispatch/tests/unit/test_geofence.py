"""The geofence verdict (verification/geofence.py): pure, on a 1 km square grid near Dongguan's centre."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from gridgov_dispatch.verification import geofence
from gridgov_dispatch.verification.geofence import PhotoFacts, Thresholds

LON0, LAT0 = 113.75, 23.02  # the square's south-west corner
KX, KY = geofence.metres_per_degree(LAT0)
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def at(x_m: float, y_m: float) -> tuple[float, float]:
    """lon, lat of a point x metres east and y metres north of the corner."""
    return LON0 + x_m / KX, LAT0 + y_m / KY


def square(side_m: float = 1000.0) -> dict:
    ring = [at(0, 0), at(side_m, 0), at(side_m, side_m), at(0, side_m), at(0, 0)]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


GRID = geofence.boundary_from_geojson("441900004003002", square())


@dataclass
class Fix:
    lat: float
    lon: float
    accuracy_m: float = 10.0
    fixed_at: datetime = NOW - timedelta(seconds=20)
    mocked: bool | None = False


def fix_at(x_m: float, y_m: float, **kw) -> Fix:
    lon, lat = at(x_m, y_m)
    return Fix(lat=lat, lon=lon, **kw)


def photo(x_m: float = 500, y_m: float = 500, *, phash: str | None = "0f0f0f0f0f0f0f0f",
          taken: datetime | None = NOW - timedelta(seconds=30)) -> PhotoFacts:
    lon, lat = at(x_m, y_m)
    return PhotoFacts("m-1", True, phash, lat, lon, taken)


def judge(fix, photos=(), **kw):
    return geofence.verdict(fix, kw.pop("boundary", GRID), list(photos), now=NOW, **kw)


def codes(v) -> list[str]:
    return [r.code for r in v.reasons]


def test_signed_distance_measures_metres_on_the_local_projection():
    assert geofence.signed_distance_m(GRID, *at(500, 500)) == pytest.approx(500, abs=0.5)
    assert geofence.signed_distance_m(GRID, *at(1100, 500)) == pytest.approx(-100, abs=0.5)
    assert geofence.signed_distance_m(GRID, *at(1030, 1040)) == pytest.approx(-50, abs=0.5)  # off the corner


def test_verdict_inside_when_fix_inside_by_more_than_accuracy():
    v = judge(fix_at(500, 500), [photo()])
    assert (v.verdict, v.refused, codes(v)) == ("inside", False, ["fix_inside"])
    assert v.to_data() == {"verdict": "inside", "reasons": [{"code": "fix_inside", "message": v.reasons[0].message}],
                           "checked_at": NOW.isoformat()}
    assert "网格内" in v.reasons[0].message


def test_verdict_boundary_when_fix_inside_by_less_than_accuracy():
    v = judge(fix_at(8, 500, accuracy_m=20))
    assert (v.verdict, v.refused, codes(v)) == ("boundary", False, ["fix_near_boundary"])


def test_verdict_boundary_when_fix_outside_within_tolerance():
    v = judge(fix_at(-25, 500, accuracy_m=10))
    assert (v.verdict, v.refused) == ("boundary", False)
    assert "网格外 25 米" in v.reasons[0].message


def test_verdict_outside_refuses_fix_beyond_tolerance_naming_fix():
    v = judge(fix_at(-35, 500, accuracy_m=10))
    assert (v.verdict, v.refused) == ("outside", True)
    assert [(r.code, r.field) for r in v.refusals] == [("fix_outside", "fix")]


def test_boundary_tolerance_widens_to_accuracy_unless_turned_off():
    fix = fix_at(-40, 500, accuracy_m=45)
    assert judge(fix).verdict == "boundary"
    assert judge(fix, thresholds=Thresholds(accuracy_widens_boundary=0)).verdict == "outside"


def test_verdict_refuses_accuracy_worse_than_threshold():
    v = judge(fix_at(500, 500, accuracy_m=76))
    assert (v.verdict, v.refused) == ("unverifiable", True)
    assert [(r.code, r.field) for r in v.refusals] == [("accuracy_too_low", "fix.accuracy_m")]
    assert judge(fix_at(500, 500, accuracy_m=75)).verdict == "inside"  # at the limit: still judged


def test_verdict_refuses_fix_older_than_max_age():
    v = judge(fix_at(500, 500, fixed_at=NOW - timedelta(minutes=10, seconds=1)))
    assert [(r.code, r.field) for r in v.refusals] == [("fix_stale", "fix.fixed_at")]
    assert not judge(fix_at(500, 500, fixed_at=NOW - timedelta(minutes=9, seconds=59))).refused


def test_verdict_refuses_fix_from_the_future_beyond_skew():
    v = judge(fix_at(500, 500, fixed_at=NOW + timedelta(seconds=61)))
    assert [(r.code, r.field) for r in v.refusals] == [("fix_in_future", "fix.fixed_at")]
    assert not judge(fix_at(500, 500, fixed_at=NOW + timedelta(seconds=59))).refused


def test_verdict_refuses_mocked_fix_but_not_unknown_mock_flag():
    v = judge(fix_at(500, 500, mocked=True), [photo()])
    assert (v.verdict, v.refused) == ("unverifiable", True)
    assert [(r.code, r.field) for r in v.refusals] == [("fix_mocked", "fix.mocked")]
    assert judge(fix_at(500, 500, mocked=None), [photo()]).verdict == "inside"


def test_verdict_names_every_refusing_field_at_once():
    v = judge(fix_at(-500, 500, mocked=True, accuracy_m=90, fixed_at=NOW - timedelta(hours=1)))
    assert v.verdict == "outside"
    assert sorted(r.field for r in v.refusals) == ["fix", "fix.accuracy_m", "fix.fixed_at", "fix.mocked"]


def test_verdict_unverifiable_without_fix_is_accepted():
    v = judge(None, [photo()])
    assert (v.verdict, v.refused, codes(v)) == ("unverifiable", False, ["no_fix"])


def test_verdict_unverifiable_when_grid_boundary_unknown():
    v = judge(fix_at(500, 500), boundary=None)
    assert (v.verdict, v.refused, codes(v)) == ("unverifiable", False, ["grid_unknown"])


def test_photo_without_exif_is_never_inside():
    bare = PhotoFacts("m-2", True, "0f0f0f0f0f0f0f0f", None, None, None)
    v = judge(fix_at(500, 500), [photo(), bare])
    assert (v.verdict, v.refused) == ("unverifiable", False)
    assert codes(v) == ["fix_inside", "photo_no_exif"] and "第 2 张照片" in v.reasons[1].message


def test_photo_not_learned_is_never_inside():
    v = judge(fix_at(500, 500), [PhotoFacts("m-9", known=False)])
    assert (v.verdict, codes(v)) == ("unverifiable", ["fix_inside", "photo_unknown"])


def test_photo_exif_more_than_50_m_from_fix_is_flagged():
    assert judge(fix_at(500, 500), [photo(545, 500)]).verdict == "inside"
    v = judge(fix_at(500, 500), [photo(555, 500)])
    assert (v.verdict, codes(v)) == ("unverifiable", ["fix_inside", "photo_far_from_fix"])


def test_photo_taken_long_before_fix_is_flagged():
    v = judge(fix_at(500, 500), [photo(taken=NOW - timedelta(hours=2))])
    assert codes(v) == ["fix_inside", "photo_time_mismatch"] and v.verdict == "unverifiable"


def test_photo_matching_an_earlier_case_photo_is_flagged_as_reused():
    near = "0f0f0f0f0f0f0f0f"
    v = judge(fix_at(500, 500), [photo(phash=near)], case_hashes={"0f0f0f0f0f0f00ff"})  # 8 bits apart
    assert (v.verdict, codes(v)) == ("unverifiable", ["fix_inside", "photo_reused_in_case"])


def test_photo_matching_the_grids_recent_photo_is_flagged_as_reused():
    v = judge(fix_at(500, 500), [photo()], grid_hashes={"0f0f0f0f0f0f0f0e"})
    assert codes(v) == ["fix_inside", "photo_reused_in_grid"]


def test_different_photo_hash_is_not_reuse():
    v = judge(fix_at(500, 500), [photo()], case_hashes={"0f0f0f0f0f0ff0ff"}, grid_hashes={"f0f0f0f0f0f0f0f0"})
    assert v.verdict == "inside"  # 12 and 64 bits apart: different pictures


def test_boundary_verdict_stays_boundary_with_photo_flags():
    v = judge(fix_at(-10, 500), [PhotoFacts("m-9", known=False)])
    assert v.verdict == "boundary" and codes(v) == ["fix_near_boundary", "photo_unknown"]


def test_multipolygon_grid_is_judged_by_its_nearest_part():
    other = [[list(at(3000, 0)), list(at(3500, 0)), list(at(3500, 500)), list(at(3000, 0))]]
    multi = geofence.boundary_from_geojson("g", {"type": "MultiPolygon",
                                                 "coordinates": [square()["coordinates"], other]})
    assert judge(fix_at(3400, 100), boundary=multi).verdict == "inside"
    assert judge(fix_at(2000, 500), boundary=multi).verdict == "outside"
