from datetime import UTC, datetime, timedelta

import pytest

from gridgov_common.categories import CATEGORIES
from gridgov_dispatch.departments.seed import DEPARTMENT_CODES, DEPARTMENTS
from gridgov_dispatch.routing.rules import (
    DEFAULT_RULES,
    RoutingRule,
    RoutingTable,
    TimeLimit,
    route,
)

AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("category", CATEGORIES, ids=lambda c: c.code)
def test_route_every_shared_category_to_a_seeded_department(category):
    decision = route(category.code, "located", AT)
    assert decision is not None, f"{category.code} {category.name_zh} is not routable"
    assert decision.department in DEPARTMENT_CODES
    assert decision.deadline > AT
    assert decision.deadline.tzinfo is not None


@pytest.mark.parametrize(
    ("code", "department", "hours"),
    [
        ("04002", "water", 2),  # 自来水管破裂: its own rule beats the 04 major class
        ("04004", "water", 2),
        ("04003", "housing", 1),
        ("04001", "traffic", 2),
        ("04099", "housing", 4),  # 04 突发事件, other: the major-class rule
        ("01002", "urban-management", 4),  # 暴露垃圾 4 h
        ("01004", "urban-management", 2),  # 道路不洁 2 h
        ("01099", "urban-management", 24),
        ("05003", "public-security", 2),
        ("05001", "urban-management", 4),
        ("03001", "housing", 24),
    ],
)
def test_route_category_longest_prefix_wins(code, department, hours):
    decision = route(code, "located", AT)
    assert decision is not None
    assert (decision.department, decision.deadline) == (department, AT + timedelta(hours=hours))


def test_route_unknown_major_class_needs_triage():
    assert route("99001", "located", AT) is None
    assert route("", "located", AT) is None


def test_route_unlocated_report_needs_triage():
    assert route("04002", "unlocated", AT) is None


def test_route_town_only_report_is_dispatched():
    decision = route("04002", "town_only", AT)
    assert decision is not None and decision.department == "water"


def test_route_deadline_keeps_utc_from_other_zone():
    from zoneinfo import ZoneInfo

    start = datetime(2025, 3, 3, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    decision = route("04002", "located", start)
    assert decision.deadline == datetime(2025, 3, 3, 11, 30, tzinfo=UTC)


def test_route_naive_start_is_refused():
    with pytest.raises(ValueError, match="tz-aware"):
        route("04002", "located", datetime(2025, 3, 3, 9, 30))


def test_routing_table_duplicate_prefix_is_refused():
    rule = RoutingRule("04", "water", TimeLimit(2))
    with pytest.raises(ValueError, match="two rules"):
        RoutingTable([rule, rule])


def test_routing_table_bad_rule_is_refused():
    with pytest.raises(ValueError, match="not digits"):
        RoutingTable([RoutingRule("0a", "water", TimeLimit(2))])
    with pytest.raises(ValueError, match="non-positive"):
        RoutingTable([RoutingRule("04", "water", TimeLimit(0))])


def test_default_rules_name_only_seeded_departments():
    assert {r.department for r in DEFAULT_RULES} <= DEPARTMENT_CODES


def test_seeded_departments_have_unique_codes_and_chinese_names():
    codes = [d.code for d in DEPARTMENTS]
    assert len(codes) == len(set(codes))
    assert all(d.name_zh.endswith("局") for d in DEPARTMENTS)
