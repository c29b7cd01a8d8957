import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgov_sensing.alarms.fingerprint import (
    DEFAULT_FIELDS,
    MissingFingerprintField,
    check_fields,
    fingerprint,
    label_api_field,
    values_of,
)

BASE = {"catalog_code": "01002", "alarm_type": "exposed_garbage", "device_id": "44190000001320000001",
        "grid_code": "G001", "village_code": "V01", "town_code": "T1"}


def test_fingerprint_is_32_hex_and_stable():
    fp = fingerprint(DEFAULT_FIELDS, BASE)
    assert re.fullmatch(r"[0-9a-f]{32}", fp)
    assert fp == fingerprint(DEFAULT_FIELDS, dict(BASE))


def test_fingerprint_ignores_fields_not_declared():
    other = dict(BASE, alarm_type="something_else", village_code="V99")
    assert fingerprint(DEFAULT_FIELDS, BASE) == fingerprint(DEFAULT_FIELDS, other)


def test_fingerprint_changes_with_a_declared_field():
    assert fingerprint(DEFAULT_FIELDS, BASE) != fingerprint(DEFAULT_FIELDS, dict(BASE, grid_code="G002"))


def test_fingerprint_concatenation_is_unambiguous():
    a = {"x": None, "label.a": "ab", "label.b": "c"}
    b = {"label.a": "a", "label.b": "bc"}
    assert fingerprint(("label.a", "label.b"), a) != fingerprint(("label.a", "label.b"), b)


def test_fingerprint_tells_null_from_empty_and_from_tilde():
    fields = ("village_code",)
    fps = {fingerprint(fields, {"village_code": v}) for v in (None, "", "~", "0:")}
    assert len(fps) == 4


def test_fingerprint_depends_on_the_field_list():
    vals = dict(BASE, town_code="G001")
    assert fingerprint(("grid_code",), vals) != fingerprint(("town_code",), vals)


def test_missing_label_names_the_labels_field():
    with pytest.raises(MissingFingerprintField) as err:
        fingerprint(("device_id", "label.zone"), BASE)
    assert err.value.field == "label.zone"
    assert err.value.api_field == "labels.zone"
    assert err.value.details[0].field == "labels.zone"


def test_values_of_puts_labels_under_label_prefix():
    v = values_of("01002", "exposed_garbage", "D1", "G1", None, "T1", {"zone": "north"})
    assert v["label.zone"] == "north" and v["village_code"] is None
    assert fingerprint(("label.zone",), v) == fingerprint(("label.zone",), {"label.zone": "north"})


def test_label_api_field_leaves_base_fields():
    assert label_api_field("grid_code") == "grid_code"


def test_check_fields_accepts_defaults_and_labels():
    assert check_fields(DEFAULT_FIELDS) == []
    assert check_fields(("catalog_code", "label.lane")) == []


@pytest.mark.parametrize("fields", [(), ("grid_code", "grid_code"), ("colour",), ("label.",), ("label.a b",)])
def test_check_fields_refuses_bad_lists(fields):
    assert check_fields(fields)


@given(st.lists(st.text(max_size=8), min_size=2, max_size=2), st.lists(st.text(max_size=8), min_size=2, max_size=2))
def test_fingerprint_differs_for_different_values(a, b):
    fields = ("label.a", "label.b")
    fa = fingerprint(fields, {"label.a": a[0], "label.b": a[1]})
    fb = fingerprint(fields, {"label.a": b[0], "label.b": b[1]})
    assert (fa == fb) == (a == b)
