import csv
import io

import pytest

from gridgov_common.categories import seed_csv
from gridgov_sensing.alarms.durations import parse_duration
from gridgov_sensing.alarms.fingerprint import check_fields
from gridgov_sensing.types.seed import ALARM_TYPES, CASE_POLICIES, KINDS, seed_codes

CATALOG = {row["code"]: row for row in csv.DictReader(io.StringIO(seed_csv()))}
FIELDS = {"code", "name_zh", "kind", "catalog_code", "fingerprint_fields", "dedupe_window", "case_policy",
          "min_confidence", "resolved_verifies", "flap_threshold", "flap_window"}


@pytest.mark.parametrize("t", ALARM_TYPES, ids=lambda t: t["code"])
def test_seed_type_catalog_code_exists_below_major(t):
    row = CATALOG.get(t["catalog_code"])
    assert row is not None, f"{t['code']}: catalog code {t['catalog_code']} not in catalog_seed.csv"
    assert row["level"] in ("middle", "minor", "detail")


@pytest.mark.parametrize("t", ALARM_TYPES, ids=lambda t: t["code"])
def test_seed_type_fields_are_usable(t):
    assert set(t) == FIELDS
    assert t["kind"] in KINDS and t["case_policy"] in CASE_POLICIES
    assert check_fields(t["fingerprint_fields"]) == []
    parse_duration(t["dedupe_window"])
    parse_duration(t["flap_window"])
    assert t["flap_threshold"] >= 2
    assert t["min_confidence"] is None or 0 < t["min_confidence"] <= 1
    assert t["name_zh"] and isinstance(t["resolved_verifies"], bool)


def test_seed_codes_are_unique_codes():
    codes = seed_codes()
    assert len(codes) == len(set(codes))
    assert all(c.isascii() and c.replace("_", "").isalnum() for c in codes)


def test_seed_covers_the_issue_s_types_and_policies():
    by_code = {t["code"]: t for t in ALARM_TYPES}
    names = {t["name_zh"] for t in ALARM_TYPES}
    for name in ("占道经营", "暴露垃圾", "乱堆物料", "违停", "人员聚集", "烟火", "消防通道占用", "井盖位移", "烟感报警",
                 "电气火灾"):
        assert name in names
    assert by_code["crowd_gathering"]["case_policy"] == "record_only"
    assert by_code["fire_lane_blocked"]["catalog_code"] == "2200101"
    assert by_code["manhole_displaced"]["catalog_code"] == "1100302"
    assert {t["case_policy"] for t in ALARM_TYPES} == set(CASE_POLICIES)
    assert {t["kind"] for t in ALARM_TYPES} == set(KINDS)
    # sensors report readings, not guesses; fire alarms never close on a device alone
    assert all(t["min_confidence"] is None for t in ALARM_TYPES if t["kind"] == "iot")
    assert not any(t["resolved_verifies"] for t in ALARM_TYPES if t["catalog_code"].startswith("22"))
