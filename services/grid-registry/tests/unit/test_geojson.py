import json

import pytest

from gridgov_grid_registry.grids.demo import DEMO_VERSION, demo_grid_set
from gridgov_grid_registry.grids.geojson import DEFAULT_MAPPING, feature_collection, parse_mapping, read_features


def test_parse_mapping_overrides_named_fields_only():
    assert parse_mapping("code=WGBM, name=WGMC") == {**DEFAULT_MAPPING, "code": "WGBM", "name": "WGMC"}
    assert parse_mapping(None) == DEFAULT_MAPPING


@pytest.mark.parametrize(("text", "reason"), [("code", "FIELD=PROPERTY"), ("colour=X", "unknown field"),
                                              ("code=", "FIELD=PROPERTY")])
def test_parse_mapping_bad_entry_is_refused(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_mapping(text)


def test_read_features_takes_numeric_codes_as_text():
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": 441900101001001, "name": "x"}, "geometry": None}]}
    [candidate], problems = read_features(doc)
    assert candidate.code == "441900101001001" and problems == []


def test_export_then_read_round_trips_every_area():
    areas = demo_grid_set().areas[:50]
    doc = json.loads(json.dumps(feature_collection(areas, DEMO_VERSION)))
    assert doc["type"] == "FeatureCollection" and doc["grid_set_version"] == DEMO_VERSION
    first = doc["features"][0]
    assert first["id"] == first["properties"]["code"] == areas[0].code
    candidates, problems = read_features(doc)
    assert problems == []
    assert [(c.code, c.name, c.level, c.parent) for c in candidates] == \
        [(a.code, a.name, a.level, a.parent_code) for a in areas]
