"""village_only (issue #17): a report placed from an address naming a village is routable — village and town rules
apply, grid rules do not, and a department type resolves to the town's branch as for town_only."""

from datetime import UTC, datetime

from gridgov_dispatch.rules.engine import (
    ROUTABLE_LOCATION_STATUSES,
    DepartmentInfo,
    ReportFacts,
    RoutingContext,
    decide,
)
from gridgov_dispatch.rules.parsing import parse_rule_set

TOWN, VILLAGE, GRID = "441900003", "441900003001", "441900003001001"
AT = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
CONTEXT = RoutingContext.of([
    DepartmentInfo("urban-management", "urban-management"),
    DepartmentInfo("urban-management-441900003", "urban-management", "town", TOWN),
    DepartmentInfo("housing", "housing"),
    DepartmentInfo("water", "water"),
])


def village_only(category="01002", village=VILLAGE) -> ReportFacts:
    return ReportFacts(category_code=category, channel="hotline", location_status="village_only", town_code=TOWN,
                       village_code=village, at=AT)


def rules(*items):
    return parse_rule_set({"rules": [{"id": i, "order": 100, "match": m, "outcome": o} for i, m, o in items]})


def test_village_only_is_routable():
    assert "village_only" in ROUTABLE_LOCATION_STATUSES


def test_village_only_report_resolves_type_to_town_branch():
    decision = decide(village_only(), rules(("major-01", {"category_prefix": "01"},
                                             {"department_type": "urban-management"})), CONTEXT)
    assert decision.department == "urban-management-441900003"
    assert "town branch" in decision.reason


def test_village_rule_applies_to_village_only_report_but_grid_rule_does_not():
    rule_set = rules(("major-01", {"category_prefix": "01"}, {"department_type": "urban-management"}),
                     ("village-special", {"villages": [VILLAGE]}, {"department": "water"}),
                     ("grid-special", {"grids": [GRID]}, {"department": "housing"}))
    assert decide(village_only(), rule_set, CONTEXT).rule_id == "village-special"
    assert decide(village_only(village="441900003002"), rule_set, CONTEXT).rule_id == "major-01"


def test_unlocated_still_goes_to_triage():
    facts = ReportFacts(category_code="01002", channel="hotline", location_status="unlocated", at=AT)
    assert decide(facts, rules(("major-01", {"category_prefix": "01"}, {"department": "housing"})),
                  CONTEXT).triage
