from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov_dispatch.rules.engine import (
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

TOWN, OTHER_TOWN = "441900003", "441900004"
GRID = "441900003001001"
CONTEXT = RoutingContext.of([DepartmentInfo(code, code) for code in ("water", "housing", "traffic")])


def _maybe(value):
    return st.one_of(st.none(), st.just(value))


matches = st.builds(
    Match,
    category_prefix=st.sampled_from([None, "01", "04", "04002"]),
    towns=st.sampled_from([None, frozenset({TOWN}), frozenset({OTHER_TOWN})]),
    grids=_maybe(frozenset({GRID})),
    department_areas=_maybe(frozenset({"w-hanxi"})),
    channels=_maybe(frozenset({"hotline"})),
    keywords=_maybe(("燃气",)),
    hours=_maybe(HourWindow(time(22, 0), time(6, 0))),
    priorities=_maybe(frozenset({"urgent"})),
)
outcomes = st.one_of(
    st.builds(Outcome, department=st.sampled_from(["water", "housing", "traffic"]),
              priority=st.sampled_from([None, "urgent"])),
    st.just(Outcome(triage=True)),
)
reports = st.builds(
    ReportFacts,
    category_code=st.sampled_from(["01002", "04002", "04099"]),
    channel=st.sampled_from(["patrol", "hotline"]),
    description=st.sampled_from(["燃气泄漏", "路面积水"]),
    location_status=st.sampled_from(["located", "town_only", "unlocated"]),
    town_code=st.sampled_from([TOWN, OTHER_TOWN]),
    grid_code=st.sampled_from([None, GRID]),
    department_areas=st.sampled_from([frozenset(), frozenset({"w-hanxi"})]),
    priority=st.sampled_from(["normal", "urgent"]),
    at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)),
)


def _rule_sets(unique_specificity: bool):
    parts = st.tuples(matches, outcomes, st.integers(-5, 5))
    key = (lambda p: Rule(id="x", match=p[0], outcome=p[1]).specificity) if unique_specificity else None
    return st.lists(parts, min_size=1, max_size=8, unique_by=key).map(
        lambda items: [Rule(id=f"r{i}", order=order, match=m, outcome=o) for i, (m, o, order) in enumerate(items)])


@settings(max_examples=300, deadline=timedelta(seconds=1))
@given(rule_list=_rule_sets(False), report=reports, data=st.data())
def test_decide_is_deterministic_and_independent_of_list_order(rule_list, report, data):
    shuffled = data.draw(st.permutations(rule_list))
    first = decide(report, RuleSet(tuple(rule_list)), CONTEXT)
    assert decide(report, RuleSet(tuple(rule_list)), CONTEXT) == first
    assert decide(report, RuleSet(tuple(shuffled)), CONTEXT) == first


@settings(max_examples=300, deadline=timedelta(seconds=1))
@given(rule_list=_rule_sets(True), report=reports, data=st.data())
def test_decide_ignores_explicit_order_when_specificities_differ(rule_list, report, data):
    orders = data.draw(st.permutations([r.order for r in rule_list]))
    reordered = [Rule(id=r.id, order=o, match=r.match, outcome=r.outcome) for r, o in zip(rule_list, orders,
                                                                                         strict=True)]
    before = decide(report, RuleSet(tuple(rule_list)), CONTEXT)
    after = decide(report, RuleSet(tuple(reordered[::-1])), CONTEXT)
    assert (after.department, after.priority, after.rule_id) == (before.department, before.priority, before.rule_id)
