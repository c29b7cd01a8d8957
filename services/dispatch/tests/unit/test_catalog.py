"""The event catalog, pure: parsing, validation, inheritance, lookup, the CSV round trip and the seed."""


import pytest

from gridgov_common.errors import NotFound
from gridgov_dispatch.catalog.items import (
    COLUMNS,
    Catalog,
    CatalogInvalid,
    StageLimits,
    TimeLimit,
    parent_of,
    parse_csv,
    to_csv,
)
from gridgov_dispatch.catalog.service import seed_csv
from gridgov_dispatch.departments.seed import DEPARTMENT_TYPES

SEED = seed_csv()
TYPES = DEPARTMENT_TYPES

HEADER = ",".join(COLUMNS)
MAJOR = "01,major,,市容环境,City appearance,urban-management,,,1,working_hours,1,working_days,1,working_days,条例"
MIDDLE = "01002,middle,01,暴露垃圾,Exposed garbage,,立案,结案,,,4,working_hours,,,"


def csv_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def problems_of(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(CatalogInvalid) as exc:
        parse_csv(text, TYPES)
    return [(p.row, p.code, p.field) for p in exc.value.problems]


def seed_catalog() -> Catalog:
    return Catalog(parse_csv(SEED, TYPES), version=1)


# --- parsing and inheritance ----------------------------------------------------------------------------------


def test_parse_catalog_middle_inherits_department_and_missing_limits_from_major():
    catalog = Catalog(parse_csv(csv_text(MAJOR, MIDDLE), TYPES))
    resolved = catalog.resolved("01002")
    assert resolved.department_type == "urban-management"
    assert resolved.limits == StageLimits(claim=TimeLimit(1, "working_hours"), handle=TimeLimit(4, "working_hours"),
                                          verify=TimeLimit(1, "working_days"))


def test_resolve_detail_code_uses_its_own_limit_over_the_ancestors():
    catalog = seed_catalog()
    assert catalog.resolved("010010101").limits.handle == TimeLimit(4, "working_hours")  # 责令停工
    assert catalog.resolved("010010102").limits.handle == TimeLimit(7, "working_days")  # 立案处罚
    assert catalog.resolved("010010103").limits.handle == TimeLimit(20, "working_days")  # 限期拆除
    assert catalog.resolved("010010101").department_type == "urban-management"


def test_resolve_unknown_deeper_code_falls_back_to_deepest_known_prefix():
    catalog = seed_catalog()
    assert catalog.resolved("0100199").code == "01001"
    assert catalog.resolved("010010199").code == "0100101"


def test_resolve_code_without_middle_class_is_not_found():
    catalog = seed_catalog()
    for code in ("01", "99001", "", "01098"):
        with pytest.raises(NotFound):
            catalog.resolved(code)


def test_list_codes_by_level_in_order():
    catalog = Catalog(parse_csv(csv_text(MAJOR, MIDDLE, MIDDLE.replace("01002", "01001", 1)), TYPES))
    assert catalog.codes("major") == ["01"]
    assert catalog.codes("middle") == ["01001", "01002"]
    assert catalog.item("01001").parent_code == "01"


def test_parent_of_code_follows_the_prefix_rule():
    assert [parent_of(c) for c in ("01", "01001", "0100101", "010010101")] == [None, "01", "01001", "0100101"]


def test_parse_catalog_accepts_bom_and_blank_lines():
    items = parse_csv("\ufeff" + csv_text(MAJOR, "", MIDDLE), TYPES)
    assert [i.code for i in items] == ["01", "01002"]


# --- validation: each kind names row, code and field ----------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("01X02,middle,01,暴露垃圾,x,,,,,,,,,,", (3, "01X02", "code")),  # malformed code
        ("010,middle,01,暴露垃圾,x,,,,,,,,,,", (3, "010", "code")),  # malformed length
        ("0100201,middle,01,暴露垃圾,x,,,,,,,,,,", (3, "0100201", "code")),  # code not matching its level
        ("01002,street,01,暴露垃圾,x,,,,,,,,,,", (3, "01002", "level")),  # unknown level
        ("01002,middle,02,暴露垃圾,x,,,,,,,,,,", (3, "01002", "parent_code")),  # parent is not the prefix
        ("01002,middle,01,暴露垃圾,x,,,,,,4,hours,,,", (3, "01002", "handle_unit")),  # unknown unit
        ("01002,middle,01,暴露垃圾,x,,,,0,working_hours,,,,,", (3, "01002", "claim_amount")),  # non-positive
        ("01002,middle,01,暴露垃圾,x,,,,-2,working_hours,,,,,", (3, "01002", "claim_amount")),  # non-positive
        ("01002,middle,01,暴露垃圾,x,,,,,,1.5,working_days,,,", (3, "01002", "handle_amount")),  # not whole
        ("01002,middle,01,暴露垃圾,x,,,,,,,working_days,,,", (3, "01002", "handle_amount")),  # unit without amount
        ("01002,middle,01,暴露垃圾,x,,,,,,3,,,,", (3, "01002", "handle_unit")),  # amount without unit
        ("01002,middle,01,暴露垃圾,x,police,,,,,,,,,", (3, "01002", "department_type")),  # unknown department
        ("01002,middle,01,,x,,,,,,,,,,", (3, "01002", "name_zh")),  # no name
    ],
)
def test_reject_catalog_row_naming_row_code_and_field(row, expected):
    assert expected in problems_of(csv_text(MAJOR, row))


def test_reject_catalog_duplicate_code_on_its_second_row():
    assert problems_of(csv_text(MAJOR, MIDDLE, MIDDLE)) == [(4, "01002", "code")]


def test_reject_catalog_item_with_missing_parent():
    assert problems_of(csv_text(MAJOR, "0100201,minor,01002,生活垃圾,x,,,,,,,,,,")) == [
        (3, "0100201", "parent_code")]


def test_reject_middle_item_left_without_limits_or_department_after_inheritance():
    major = "01,major,,市容环境,x,,,,,,1,working_days,,,"  # no department type, no claim or verify limit
    assert sorted(problems_of(csv_text(major, MIDDLE))) == [
        (3, "01002", "claim_amount"), (3, "01002", "department_type"), (3, "01002", "verify_amount")]


def test_reject_catalog_with_missing_or_unknown_column():
    text = "code,level,name_zh,colour\n01,major,市容环境,red\n"
    found = problems_of(text)
    assert (1, "", "parent_code") in found and (1, "", "colour") in found


def test_reject_catalog_row_with_wrong_cell_count():
    assert problems_of(csv_text(MAJOR, "01002,middle,01")) == [(3, "01002", "row")]


def test_reject_catalog_reports_every_problem_at_once():
    rows = ["01003,middle,01,积存垃圾,x,,,,,,4,days,,,", "01004,middle,01,道路不洁,x,,,,,,0,working_hours,,,"]
    assert problems_of(csv_text(MAJOR, *rows)) == [(3, "01003", "handle_unit"), (4, "01004", "handle_amount")]


def test_problem_detail_names_row_field_and_code():
    with pytest.raises(CatalogInvalid) as exc:
        parse_csv(csv_text(MAJOR, "01002,middle,01,暴露垃圾,x,,,,,,4,hours,,,"), TYPES)
    detail = exc.value.details[0]
    assert detail.field == "row 3: handle_unit"
    assert detail.reason.startswith("01002: unknown unit 'hours'")


# --- CSV round trip -------------------------------------------------------------------------------------------


def test_export_seed_catalog_reads_back_identical():
    items = parse_csv(SEED, TYPES)
    exported = to_csv(items)
    assert exported == SEED
    assert parse_csv(exported, TYPES) == items


def test_export_catalog_keeps_quotes_commas_and_newlines():
    tricky = ('01002,middle,01,暴露垃圾,"Garbage, ""exposed""",,"有照片\n有位置",结案,,,4,working_hours,,'
              ',"《条例》, 第3条"')
    items = parse_csv(csv_text(MAJOR, tricky), TYPES)
    assert items[1].name_en == 'Garbage, "exposed"' and items[1].filing_conditions == "有照片\n有位置"
    assert parse_csv(to_csv(items), TYPES) == items


# --- the seed --------------------------------------------------------------------------------------------------


def test_seed_catalog_has_at_least_100_items_and_every_level():
    catalog = seed_catalog()
    assert len(catalog) >= 100
    assert all(catalog.codes(level) for level in ("major", "middle", "minor", "detail"))


def test_seed_catalog_every_middle_code_resolves_to_a_department_and_three_limits():
    catalog = seed_catalog()
    for code in catalog.codes("middle"):
        resolved = catalog.resolved(code)
        assert resolved.department_type in DEPARTMENT_TYPES, code
        assert all(limit.amount > 0 for limit in (resolved.limits.claim, resolved.limits.handle,
                                                    resolved.limits.verify)), code


def test_seed_catalog_every_major_class_ends_with_an_other_class():
    catalog = seed_catalog()
    for major in catalog.codes("major"):
        assert f"{major}099" in catalog, f"{major} has no 99 其他 class"
        assert catalog.item(f"{major}099").name_zh.startswith("其他")


@pytest.mark.parametrize(
    ("code", "department", "handle"),
    [
        ("04001", "traffic", TimeLimit(2, "clock_hours")),  # 路面塌陷
        ("04002", "water", TimeLimit(2, "clock_hours")),  # 自来水管破裂
        ("04003", "housing", TimeLimit(1, "clock_hours")),  # 燃气管道破裂
        ("04004", "water", TimeLimit(2, "clock_hours")),  # 道路积水
        ("05003", "public-security", TimeLimit(2, "working_hours")),  # 机动车乱停放
        ("01002", "urban-management", TimeLimit(4, "working_hours")),  # 暴露垃圾 (FACTS.md)
        ("0100401", "urban-management", TimeLimit(2, "working_hours")),  # 道路清扫保洁 (FACTS.md)
        ("1100101", "urban-management", TimeLimit(2, "clock_hours")),  # 井盖丢失 (FACTS.md)
        ("1100102", "urban-management", TimeLimit(4, "working_hours")),  # 井盖破损 (FACTS.md)
        ("22001", "fire-safety", TimeLimit(4, "working_hours")),
        ("27001", "human-resources", TimeLimit(5, "working_days")),
    ],
)
def test_seed_catalog_keeps_agreed_departments_and_quoted_limits(code, department, handle):
    resolved = seed_catalog().resolved(code)
    assert (resolved.department_type, resolved.limits.handle) == (department, handle)


AGREED_MAJOR_DEPARTMENTS = {
    "01": "urban-management", "02": "urban-management", "05": "urban-management", "11": "urban-management",
    "13": "urban-management", "14": "urban-management", "03": "housing", "04": "housing", "25": "housing",
    "12": "traffic", "29": "traffic", "21": "emergency-management", "22": "fire-safety",
    "23": "market-regulation", "24": "ecology-environment", "26": "public-security", "27": "human-resources",
    "28": "water",
}


def test_seed_catalog_major_classes_follow_the_agreed_department_mapping():
    catalog = seed_catalog()
    assert {c: catalog.item(c).department_type for c in catalog.codes("major")} == AGREED_MAJOR_DEPARTMENTS

