"""The indexed rule engine (issue #18) decides exactly as testing every rule: the same department, priority, rule,
reason and whole trace, over random reports and the default rule set and over random rule sets with ties; and the
decision's JSON text is the one ``json.dumps`` writes."""

import json
from datetime import UTC, datetime, time, timedelta
from importlib import resources

from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov_common import categories
from gridgov_dispatch.departments import seed as department_seed
from gridgov_dispatch.rules import engine
from gridgov_dispatch.rules.engine import (
    ROUTABLE_LOCATION_STATUSES,
    Decision,
    DepartmentInfo,
    HourWindow,
    Match,
    Outcome,
    ReportFacts,
    RoutingContext,
    Rule,
    RuleSet,
    decide,
)
from gridgov_dispatch.rules.parsing import parse_rule_set

TOWNS = ("441900003", "441900004", "441900005", "441900006", "441900099")
GRID = "441900003001001"
VILLAGE = "441900003001"


def full_scan(report: ReportFacts, rules: RuleSet, context: RoutingContext) -> Decision:
    """The engine before the index: every rule tested, in precedence order; kept here as the reference."""
    local = report.at.astimezone(context.timezone).time().replace(second=0, microsecond=0)
    ordered = tuple(sorted(rules.rules, key=Rule.rank))
    trace = tuple(engine._evaluate(rule, report, local) for rule in ordered)
    if report.location_status not in ROUTABLE_LOCATION_STATUSES:
        return Decision(None, report.priority, None,
                        f"the report is not located to a town (location_status {report.location_status}): "
                        "triage by the command centre", trace)
    matched = [rule for rule, t in zip(ordered, trace, strict=True) if t.matched]
    if not matched:
        return Decision(None, report.priority, None,
                        f"no rule matches category {report.category_code}: triage by the command centre", trace)
    winner, runner_up = matched[0], (matched[1] if len(matched) > 1 else None)
    outcome = winner.outcome
    priority = outcome.priority or report.priority
    reason = engine._why(winner, runner_up)
    if outcome.triage:
        return Decision(None, priority, winner.id, f"{reason}; it sends the report to triage", trace)
    if outcome.department is not None:
        info = context.departments.get(outcome.department)
        if info is None or not info.active:
            state = "unknown" if info is None else "inactive"
            return Decision(None, priority, winner.id,
                            f"{reason}; its department {outcome.department} is {state}, so triage", trace)
        return Decision(outcome.department, priority, winner.id, reason, trace)
    department, how = context._resolve_type(outcome.department_type, report.town_code)
    if department is None:
        return Decision(None, priority, winner.id, f"{reason}; {how}, so triage", trace)
    return Decision(department, priority, winner.id, f"{reason}; {how}", trace)


def _default_rules() -> RuleSet:
    text = resources.files("gridgov_dispatch.rules").joinpath("default_rules.json").read_text(encoding="utf-8")
    return parse_rule_set(json.loads(text))


DEFAULT_RULES = _default_rules()
CATALOG_CODES = sorted(c.code for c in categories.seed_book())
SEED_DEPARTMENTS = [DepartmentInfo(d.code, getattr(d, "department_type", None) or d.code,
                                   getattr(d, "level", None) or "city", getattr(d, "town_code", None))
                    for d in department_seed.DEPARTMENTS]
SEED_CONTEXT = RoutingContext.of(SEED_DEPARTMENTS)
# One branch inactive and one bureau inactive, so the fallbacks and "so triage" reasons are drawn too.
PARTLY_INACTIVE = RoutingContext.of([
    DepartmentInfo(d.code, d.department_type, d.level, d.town_code,
                   active=d.code not in ("urban-management-441900004", "water")) for d in SEED_DEPARTMENTS])

category_codes = st.one_of(
    st.sampled_from(CATALOG_CODES),
    st.sampled_from(["03001", "04001", "04002", "04004", "05003", "27001", "99001", "0", "04"]),
    st.text("0123456789", min_size=0, max_size=6),
)
reports = st.builds(
    ReportFacts,
    category_code=category_codes,
    channel=st.sampled_from(sorted(engine.CHANNELS)),
    description=st.sampled_from(["", "燃气泄漏", "路面积水", "天然气味道很重", "工地夜间施工"]),
    location_status=st.sampled_from(["located", "village_only", "town_only", "unlocated", "outside"]),
    town_code=st.sampled_from([None, *TOWNS]),
    village_code=st.sampled_from([None, VILLAGE]),
    grid_code=st.sampled_from([None, GRID]),
    department_areas=st.sampled_from([frozenset(), frozenset({"w-hanxi"}), frozenset({"w-hanxi", "w-other"})]),
    priority=st.sampled_from(["normal", "urgent"]),
    at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)),
)


def _same(report: ReportFacts, rules: RuleSet, context: RoutingContext) -> Decision:
    expected = full_scan(report, rules, context)
    got = decide(report, rules, context)
    assert got == expected
    assert [t.to_data() for t in got.trace] == [t.to_data() for t in expected.trace]
    assert got.to_json() == json.dumps(got.to_data(), ensure_ascii=False)
    return got


@settings(max_examples=500, deadline=timedelta(seconds=1))
@given(report=reports, inactive=st.booleans())
def test_decide_indexed_equals_full_scan_on_default_rules(report, inactive):
    context = PARTLY_INACTIVE if inactive else SEED_CONTEXT
    got = _same(report, DEFAULT_RULES, context)
    assert len(got.trace) == len(DEFAULT_RULES.rules)  # the console shows every rule, matched or not
    again = decide(report, DEFAULT_RULES, context)  # the second time from the kept plan and answers
    assert again == got


matches = st.builds(
    Match,
    category_prefix=st.sampled_from([None, "0", "01", "04", "040", "04002", "27"]),
    towns=st.sampled_from([None, frozenset({TOWNS[0]}), frozenset({TOWNS[1], TOWNS[3]})]),
    villages=st.sampled_from([None, frozenset({VILLAGE})]),
    grids=st.sampled_from([None, frozenset({GRID})]),
    department_areas=st.sampled_from([None, frozenset({"w-hanxi"})]),
    channels=st.sampled_from([None, frozenset({"hotline"}), frozenset({"patrol", "citizen"})]),
    keywords=st.sampled_from([None, ("燃气",), ("积水", "天然气")]),
    hours=st.sampled_from([None, HourWindow(time(22, 0), time(6, 0)), HourWindow(time(9, 0), time(17, 30))]),
    priorities=st.sampled_from([None, frozenset({"urgent"})]),
)
outcomes = st.one_of(
    st.builds(Outcome, department=st.sampled_from(["water", "housing", "traffic", "nobody"]),
              priority=st.sampled_from([None, "urgent"])),
    st.builds(Outcome, department_type=st.sampled_from(["urban-management", "water", "no-such-type"]),
              priority=st.sampled_from([None, "normal"])),
    st.just(Outcome(triage=True)),
)
# Few distinct orders, so equal specificity and equal order (ties broken by id) are common.
rule_lists = st.lists(st.tuples(matches, outcomes, st.integers(0, 2)), min_size=1, max_size=12).map(
    lambda items: [Rule(id=f"r{i:02d}", order=order, match=m, outcome=o) for i, (m, o, order) in enumerate(items)])


@settings(max_examples=300, deadline=timedelta(seconds=1))
@given(rule_list=rule_lists, report_list=st.lists(reports, min_size=1, max_size=4), inactive=st.booleans())
def test_decide_indexed_equals_full_scan_on_random_rule_sets_with_ties(rule_list, report_list, inactive):
    rule_set = RuleSet(tuple(rule_list))
    context = PARTLY_INACTIVE if inactive else SEED_CONTEXT
    for report in report_list:  # several reports on one rule set: its kept plans serve the later ones
        _same(report, rule_set, context)


def test_decide_keeps_a_plan_per_category_code_and_no_more_than_its_limit(monkeypatch):
    rule_set = _default_rules()
    monkeypatch.setattr(engine, "PLAN_ENTRIES_KEPT", 3 * len(rule_set.rules))
    at = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    for code in ("01001", "04002", "05003", "27001", "99001"):
        report = ReportFacts(category_code=code, channel="hotline", location_status="located",
                             town_code=TOWNS[0], at=at)
        assert decide(report, rule_set, SEED_CONTEXT) == full_scan(report, rule_set, SEED_CONTEXT)
    assert sorted(rule_set._plans) == ["01001", "04002", "05003"]
    # A report of a code beyond the limit is planned each time, with the same answer.
    late = ReportFacts(category_code="27001", channel="hotline", location_status="located", town_code=TOWNS[0],
                       at=at)
    assert decide(late, rule_set, SEED_CONTEXT).rule_id == "hotline-wage-arrears"


def test_plan_tests_only_rules_whose_prefix_the_code_starts_with():
    plan = DEFAULT_RULES.plan("04004")
    assert sorted(rule.id for _, rule in plan.candidates) == ["area-w-hanxi-flooding", "class-04", "gas-keyword",
                                                               "minor-04004"]
    kept = [t for t in plan.template if t is not None]
    assert len(kept) == len(DEFAULT_RULES.rules) - 4
    assert all(t.failed and t.failed.startswith("category: 04004 does not start with ") for t in kept)


def test_resolve_type_answers_again_the_same_as_the_first_time():
    context = RoutingContext.of(PARTLY_INACTIVE.departments.values())
    first = [context.resolve_type(t, town) for t in ("urban-management", "water", "nope") for town in (None, *TOWNS)]
    again = [context.resolve_type(t, town) for t in ("urban-management", "water", "nope") for town in (None, *TOWNS)]
    assert first == again == [context._resolve_type(t, town) for t in ("urban-management", "water", "nope")
                              for town in (None, *TOWNS)]
    assert context.resolve_type("urban-management", TOWNS[0])[0] == "urban-management-441900003"
    assert context.resolve_type("urban-management", TOWNS[1])[0] == "urban-management"  # its branch is inactive
    assert context.resolve_type("water", None) == (None, "department type water has no active city bureau")
