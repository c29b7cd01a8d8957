"""The packaged defaults together — rule set, catalog and seeded departments — route every reportable category,
each with three stage limits: what a city gets on its first start (pure: no database)."""

from datetime import UTC, datetime

import pytest

from gridgov_common.categories import seed_book
from gridgov_dispatch.catalog.items import Catalog, TimeLimit, parse_csv
from gridgov_dispatch.catalog.service import seed_csv
from gridgov_dispatch.departments.seed import DEPARTMENT_TYPES, DEPARTMENTS
from gridgov_dispatch.rules import engine
from gridgov_dispatch.rules.parsing import parse_rule_set
from gridgov_dispatch.rules.service import default_rules_data

AT = datetime(2026, 3, 3, 1, 30, tzinfo=UTC)  # 09:30 in Dongguan, a Tuesday
RULES = parse_rule_set(default_rules_data())
CATALOG = Catalog(parse_csv(seed_csv(), DEPARTMENT_TYPES), version=1)
CONTEXT = engine.RoutingContext.of(
    engine.DepartmentInfo(code=d.code, department_type=d.department_type, level=d.level, town_code=d.town_code)
    for d in DEPARTMENTS)


def facts(code: str, *, status: str = "located", town: str | None = "441900101", **more) -> engine.ReportFacts:
    return engine.ReportFacts(category_code=code, channel=more.pop("channel", "patrol"),
                              description=more.pop("description", ""), location_status=status, town_code=town,
                              at=AT, **more)


@pytest.mark.parametrize("category", list(seed_book()), ids=lambda c: c.code)
def test_route_every_shared_category_to_a_seeded_department_with_three_limits(category):
    decision = engine.decide(facts(category.code), RULES, CONTEXT)
    assert decision.department is not None, f"{category.code} {category.name_zh} is not routable: {decision.reason}"
    assert decision.department in {d.code for d in DEPARTMENTS}
    limits = CATALOG.resolved(category.code).limits
    assert all(limit.amount > 0 for limit in (limits.claim, limits.handle, limits.verify))


@pytest.mark.parametrize(
    ("code", "department"),
    [("04002", "water"), ("04004", "water"), ("04003", "housing"), ("04001", "traffic"), ("05003", "public-security"),
     ("01002", "urban-management"), ("22001", "fire-safety"), ("27001", "human-resources")],
)
def test_route_category_to_its_department_as_before(code, department):
    assert engine.decide(facts(code), RULES, CONTEXT).department == department


def test_route_to_town_branch_where_the_town_has_one():
    # 东城街道 (441900003) has its own urban-management branch; 石碣镇 (441900101) has none.
    assert engine.decide(facts("01002", town="441900003"), RULES, CONTEXT).department == \
        "urban-management-441900003"
    assert engine.decide(facts("01002"), RULES, CONTEXT).department == "urban-management"


def test_route_unlocated_report_goes_to_triage_and_says_why():
    decision = engine.decide(facts("04002", status="unlocated", town=None), RULES, CONTEXT)
    assert decision.department is None and "unlocated" in decision.reason


def test_catalog_limits_quote_the_city_rules():
    # FACTS.md: exposed garbage 4 working hours; street cleaning 2 working hours.
    assert CATALOG.resolved("01002").limits.handle == TimeLimit(4, "working_hours")
    assert CATALOG.resolved("01004").limits.handle == TimeLimit(2, "working_hours")


def test_seeded_departments_have_unique_codes_and_chinese_names():
    codes = [d.code for d in DEPARTMENTS]
    assert len(codes) == len(set(codes))
    assert all(d.name_zh and not d.name_zh.isascii() for d in DEPARTMENTS)
    assert {d.parent_code for d in DEPARTMENTS if d.level == "town"} <= DEPARTMENT_TYPES
