"""The history loader's memory of routing decisions (tickets/backfill.py ``Router``): for every report it answers
exactly what the rule engine answers — department, priority, reason, and the trace trimmed to the matching rules —
asking the engine only once per distinct set of facts the rules for that category read."""

import itertools
import json
from datetime import UTC, datetime, timedelta

from gridgov_dispatch.rules import engine
from gridgov_dispatch.rules.engine import DepartmentInfo, ReportFacts, RoutingContext
from gridgov_dispatch.rules.parsing import parse_rule_set
from gridgov_dispatch.rules.service import default_rules_data
from gridgov_dispatch.tickets import handlers
from gridgov_dispatch.tickets.backfill import Router

CONTEXT = RoutingContext.of([
    DepartmentInfo("urban-management", "urban-management"),
    DepartmentInfo("urban-management-441900006", "urban-management", "town", "441900006"),
    DepartmentInfo("housing", "housing"), DepartmentInfo("water", "water"), DepartmentInfo("traffic", "traffic"),
    DepartmentInfo("human-resources", "human-resources"), DepartmentInfo("public-security", "public-security"),
])
RULES = parse_rule_set(default_rules_data())
START = datetime(2026, 11, 2, 0, 7, tzinfo=UTC)


def test_router_answers_what_the_engine_answers_for_every_report_and_remembers_the_rest():
    router = Router(RULES, CONTEXT)
    asked = 0
    real = engine.decide

    def counting(*args):
        nonlocal asked
        asked += 1
        return real(*args)

    engine.decide = counting
    try:
        cases = itertools.product(
            ("01002", "03001", "04003", "04004", "05003", "27001", "12001"), ("patrol", "hotline"),
            ("441900006", "441900003"), (frozenset(), frozenset({"w-hanxi"})), ("路边垃圾", "燃气泄漏"),
            range(0, 24 * 60, 97))
        n = 0
        for category, channel, town, areas, text, minute in cases:
            facts = ReportFacts(category_code=category, channel=channel, description=text, location_status="located",
                                town_code=town, village_code=f"{town}001", grid_code=f"{town}001001",
                                department_areas=areas, at=START + timedelta(minutes=minute))
            decision, trace = router.decide(facts)
            expected = real(facts, RULES, CONTEXT)
            assert decision == expected, facts
            stored = json.loads(trace)
            assert stored["trace_trimmed"] and stored["rule_id"] == expected.rule_id
            assert stored["trace"] == [t for t in json.loads(handlers._trace_json(expected))["trace"] if t["matched"]]
            n += 1
    finally:
        engine.decide = real
    assert n == 7 * 2 * 2 * 2 * 2 * 15
    assert 0 < asked < n / 5  # remembered: only 03001 at night, the gas keyword, wage arrears and flooding differ
