import copy

import pytest

from gridgov_grid_registry.grids.geojson import read_features
from gridgov_grid_registry.grids.validation import ValidationOptions, parse_geometry, validate


def rect(w, s, e, n):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def feature(code, name, geometry, **props):
    return {"type": "Feature", "properties": {"code": code, "name": name, **props}, "geometry": geometry}


BASE = {"type": "FeatureCollection", "features": [
    feature("441900101", "石碣镇", rect(113.80, 23.00, 113.82, 23.02)),                      # 0
    feature("441900101001", "东社区", rect(113.80, 23.00, 113.81, 23.02)),                   # 1
    feature("441900101002", "西村", rect(113.81, 23.00, 113.82, 23.02)),                     # 2
    feature("441900101001001", "东社区第1网格", rect(113.80, 23.01, 113.81, 23.02)),          # 3
    feature("441900101001002", "东社区第2网格", rect(113.80, 23.00, 113.81, 23.01)),          # 4
    feature("441900101002001", "西村第1网格", rect(113.81, 23.00, 113.82, 23.02)),            # 5
]}


def check(collection, options=None, mapping=None):
    candidates, problems = read_features(collection, mapping) if mapping else read_features(collection)
    return validate(candidates, options, problems)


def with_feature(index, **changes):
    doc = copy.deepcopy(BASE)
    f = doc["features"][index]
    if "geometry" in changes:
        f["geometry"] = changes.pop("geometry")
    f["properties"].update(changes)
    return doc


def rules(report):
    return {(i.index, i.code, i.rule) for i in report.issues}


def test_validate_clean_set_passes_with_parents_first():
    report = check(BASE)
    assert report.ok and report.issues == []
    assert report.counts == {"town": 1, "village": 2, "grid": 3}
    assert [a.code for a in report.areas] == ["441900101", "441900101001", "441900101002", "441900101001001",
                                              "441900101001002", "441900101002001"]
    assert report.areas[3].parent_code == "441900101001"


def test_validate_self_intersecting_polygon_names_feature_and_rule():
    bowtie = {"type": "Polygon", "coordinates": [[[113.80, 23.01], [113.81, 23.015], [113.81, 23.01],
                                                  [113.80, 23.02], [113.80, 23.01]]]}
    report = check(with_feature(3, geometry=bowtie))
    assert (3, "441900101001001", "self_intersection") in rules(report)
    assert not report.ok and report.areas == ()


def test_validate_unclosed_ring_is_refused():
    open_ring = {"type": "Polygon", "coordinates": [[[113.80, 23.01], [113.81, 23.01], [113.81, 23.02],
                                                     [113.80, 23.02]]]}
    report = check(with_feature(3, geometry=open_ring))
    [issue] = [i for i in report.issues if i.index == 3]
    assert issue.rule == "ring_unclosed" and "not closed" in issue.message


@pytest.mark.parametrize("ring", [
    [[113.80, 23.01], [113.81, 23.01], [113.80, 23.01]],  # too few positions
    [[113.80, 23.01], [113.805, 23.01], [113.81, 23.01], [113.80, 23.01]],  # collinear: no area
])
def test_validate_degenerate_ring_is_refused(ring):
    report = check(with_feature(3, geometry={"type": "Polygon", "coordinates": [ring]}))
    assert (3, "441900101001001", "ring_degenerate") in rules(report)


def test_validate_overlapping_grids_names_both():
    report = check(with_feature(4, geometry=rect(113.80, 23.00, 113.81, 23.0105)))
    overlaps = {(i.index, i.code) for i in report.issues if i.rule == "overlap"}
    assert overlaps == {(3, "441900101001001"), (4, "441900101001002")}
    assert "m²" in next(i.message for i in report.issues if i.rule == "overlap")


def test_validate_sliver_overlap_within_tolerance_passes():
    report = check(with_feature(4, geometry=rect(113.80, 23.00, 113.81, 23.01 + 1e-9)))
    assert report.ok, [i.describe() for i in report.issues]


def test_validate_gap_inside_parent_names_parent_and_allow_gaps_makes_it_a_warning():
    doc = copy.deepcopy(BASE)
    del doc["features"][4]  # a village loses one of its two grids
    report = check(doc)
    assert (1, "441900101001", "gap") in rules(report) and not report.ok
    relaxed = check(doc, ValidationOptions(allow_gaps=True))
    assert relaxed.ok and [i.rule for i in relaxed.warnings] == ["gap"]


def test_validate_child_outside_parent_is_refused():
    report = check(with_feature(5, geometry=rect(113.81, 23.00, 113.83, 23.02)))
    assert (5, "441900101002001", "outside_parent") in rules(report)


def test_validate_duplicate_code_names_the_second_and_the_first():
    doc = copy.deepcopy(BASE)
    doc["features"].append(feature("441900101001001", "重复", rect(113.80, 23.01, 113.81, 23.02)))
    [dup] = [i for i in check(doc).issues if i.rule == "code_duplicate"]
    assert dup.index == 6 and "features[3]" in dup.message


@pytest.mark.parametrize("code", ["44190010100100", "441800101001001", "441900101000001", "44190010100100x"])
def test_validate_malformed_code_is_refused(code):
    assert (3, code, "code_malformed") in rules(check(with_feature(3, code=code)))


def test_validate_level_and_parent_that_disagree_with_code_are_refused():
    report = check(with_feature(3, level="village", parent="441900101002"))
    assert {(3, "level_mismatch"), (3, "parent_mismatch")} <= {(i.index, i.rule) for i in report.issues}


def test_validate_child_whose_parent_is_absent_is_refused():
    doc = copy.deepcopy(BASE)
    del doc["features"][2]
    assert (4, "441900101002001", "parent_missing") in rules(check(doc))


def test_validate_swapped_coordinates_are_named_as_wrong_order():
    swapped = {"type": "Polygon", "coordinates": [[[y, x] for x, y in ring] for ring in rect(
        113.80, 23.01, 113.81, 23.02)["coordinates"]]}
    [issue] = [i for i in check(with_feature(3, geometry=swapped)).issues if i.index == 3]
    assert issue.rule == "coordinate_order" and "[lon, lat]" in issue.message


@pytest.mark.parametrize(("geometry", "rule"), [
    (rect(2.30, 48.80, 2.40, 48.90), "outside_region"),
    ({"type": "Polygon", "coordinates": [[[113.8, 23.0], ["east", 23.0], [113.9, 23.1], [113.8, 23.0]]]},
     "coordinate_invalid"),
    ({"type": "Point", "coordinates": [113.8, 23.0]}, "geometry_type"),
    (None, "geometry_missing"),
])
def test_validate_bad_geometry_names_rule(geometry, rule):
    assert (3, "441900101001001", rule) in rules(check(with_feature(3, geometry=geometry)))


def test_validate_missing_name_is_refused():
    assert (3, "441900101001001", "name_missing") in rules(check(with_feature(3, name="")))


def test_validate_non_feature_and_non_collection_are_refused():
    doc = copy.deepcopy(BASE)
    doc["features"].append({"type": "Point"})
    assert (6, None, "feature_malformed") in rules(check(doc))
    assert (None, None, "not_a_feature_collection") in rules(check({"type": "Feature"}))


def test_validate_set_without_grids_is_incomplete():
    doc = {"type": "FeatureCollection", "features": BASE["features"][:1]}
    assert (None, None, "incomplete") in rules(check(doc))


def test_validate_reads_properties_through_mapping():
    doc = copy.deepcopy(BASE)
    for f in doc["features"]:
        p = f["properties"]
        f["properties"] = {"WGBM": int(p["code"]), "WGMC": p["name"]}
    assert check(doc, mapping={"code": "WGBM", "name": "WGMC", "level": "level", "parent": "parent"}).ok


def test_parse_geometry_multipolygon_with_hole_is_accepted():
    geom, problems = parse_geometry({"type": "MultiPolygon", "coordinates": [[
        [[113.8, 23.0], [113.9, 23.0], [113.9, 23.1], [113.8, 23.1], [113.8, 23.0]],
        [[113.82, 23.02], [113.82, 23.04], [113.84, 23.04], [113.84, 23.02], [113.82, 23.02]]]]})
    assert problems == [] and geom.geom_type == "MultiPolygon" and len(geom.geoms[0].interiors) == 1


def test_issue_describe_names_index_code_and_rule():
    [issue] = [i for i in check(with_feature(3, name="")).issues]
    assert issue.describe() == "features[3] 441900101001001 name_missing: the feature has no name"
