import json
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from gridgov_common import categories
from gridgov_common.errors import ValidationFailed
from gridgov_dispatch.departments import seed as department_seed
from gridgov_dispatch.rules.engine import DepartmentInfo, ReportFacts, RoutingContext, decide
from gridgov_dispatch.rules.parsing import check_rule_set, parse_rule_set
from gridgov_dispatch.rules.replay import TRIAGE, ReplayCase, replay

TOWN = "441900003"
OTHER_TOWN = "441900004"
VILLAGE = "441900003001"
GRID = "441900003001001"
# 14:00 Asia/Shanghai is 06:00 UTC; 23:30 local is 15:30 UTC.
AFTERNOON = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
LATE_NIGHT = datetime(2026, 3, 3, 15, 30, tzinfo=UTC)

CONTEXT = RoutingContext.of([
    DepartmentInfo("urban-management", "urban-management"),
    DepartmentInfo("urban-management-441900003", "urban-management", "town", TOWN),
    DepartmentInfo("urban-management-441900004", "urban-management", "town", OTHER_TOWN, active=False),
    DepartmentInfo("housing", "housing"),
    DepartmentInfo("water", "water"),
    DepartmentInfo("traffic", "traffic"),
    DepartmentInfo("public-security", "public-security"),
    DepartmentInfo("fire-safety", "fire-safety", active=False),
])


def facts(category="01002", *, channel="patrol", description="路边垃圾堆积", status="located", town=TOWN,
          village=VILLAGE, grid=GRID, areas=(), priority="normal", at=AFTERNOON) -> ReportFacts:
    located = status == "located"
    return ReportFacts(category_code=category, channel=channel, description=description, location_status=status,
                       town_code=town if status != "unlocated" else None, village_code=village if located else None,
                       grid_code=grid if located else None, department_areas=frozenset(areas), priority=priority,
                       at=at)


def rules(*items: dict):
    return parse_rule_set({"rules": list(items)})


def rule(rule_id, outcome=None, order=100, **match):
    return {"id": rule_id, "order": order, "match": match, "outcome": outcome or {"department": "housing"}}


# --- precedence ---------------------------------------------------------------------------------------------------


def test_decide_grid_rule_beats_category_rule_and_says_why():
    rule_set = rules(rule("major-01", {"department_type": "urban-management"}, category_prefix="01"),
                     rule("grid-special", {"department": "water"}, grids=[GRID]))
    decision = decide(facts("01002"), rule_set, CONTEXT)
    assert (decision.department, decision.rule_id) == ("water", "grid-special")
    assert decision.reason == "grid-level rule grid-special beats category-only rule major-01"


@pytest.mark.parametrize(("finer", "coarser"), [
    ({"grids": [GRID]}, {"villages": [VILLAGE]}),
    ({"villages": [VILLAGE]}, {"towns": [TOWN]}),
    ({"towns": [TOWN]}, {"department_areas": ["um-centre"]}),
    ({"department_areas": ["um-centre"]}, {"category_prefix": "01002"}),
])
def test_decide_finer_location_level_wins_whatever_the_order(finer, coarser):
    rule_set = rules(rule("coarse", {"department": "housing"}, order=1, **coarser),
                     rule("fine", {"department": "water"}, order=999, **finer))
    assert decide(facts(areas={"um-centre"}), rule_set, CONTEXT).department == "water"


def test_decide_longer_category_prefix_wins():
    rule_set = rules(rule("major-04", {"department": "housing"}, order=1, category_prefix="04"),
                     rule("minor-04002", {"department": "water"}, order=2, category_prefix="04002"))
    decision = decide(facts("04002"), rule_set, CONTEXT)
    assert (decision.department, decision.rule_id) == ("water", "minor-04002")
    assert "longer category prefix 04002" in decision.reason
    assert decide(facts("04099"), rule_set, CONTEXT).department == "housing"


def test_decide_more_conditions_win_at_same_level_and_prefix():
    rule_set = rules(rule("plain", {"department": "housing"}, order=1, category_prefix="04"),
                     rule("hotline", {"department": "water"}, order=2, category_prefix="04", channels=["hotline"]))
    assert decide(facts("04002", channel="hotline"), rule_set, CONTEXT).department == "water"
    assert decide(facts("04002", channel="patrol"), rule_set, CONTEXT).department == "housing"


def test_decide_equal_specificity_falls_back_to_order_then_id():
    by_order = rules(rule("b-rule", {"department": "water"}, order=1, category_prefix="04"),
                     rule("a-rule", {"department": "housing"}, order=2, category_prefix="04"))
    decision = decide(facts("04002"), by_order, CONTEXT)
    assert (decision.rule_id, decision.reason) == (
        "b-rule", "rule b-rule (order 1) beats the equally specific rule a-rule (order 2)")
    by_id = rules(rule("b-rule", {"department": "water"}, order=5, category_prefix="04"),
                  rule("a-rule", {"department": "housing"}, order=5, category_prefix="04"))
    assert decide(facts("04002"), by_id, CONTEXT).rule_id == "a-rule"


# --- each condition kind ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("match", "report", "expected"), [
    ({"category_prefix": "01"}, facts("01002"), True),
    ({"category_prefix": "01"}, facts("02001"), False),
    ({"towns": [TOWN]}, facts(), True),
    ({"towns": [OTHER_TOWN]}, facts(), False),
    ({"villages": [VILLAGE]}, facts(), True),
    ({"villages": ["441900003002"]}, facts(), False),
    ({"grids": [GRID]}, facts(), True),
    ({"grids": [GRID]}, facts(status="town_only"), False),
    ({"department_areas": ["w-hanxi", "um-centre"]}, facts(areas={"um-centre"}), True),
    ({"department_areas": ["w-hanxi"]}, facts(areas={"um-centre"}), False),
    ({"channels": ["hotline", "open311"]}, facts(channel="open311"), True),
    ({"channels": ["hotline"]}, facts(channel="citizen"), False),
    ({"channels": ["video_ai", "iot"]}, facts(channel="iot"), True),  # issue #16: sensing's channels route too
    ({"channels": ["video_ai"]}, facts(channel="patrol"), False),
    ({"keywords": ["燃气", "煤气"]}, facts(description="楼道有煤气味"), True),
    ({"keywords": ["燃气"]}, facts(description="路面积水"), False),
    ({"priorities": ["urgent"]}, facts(priority="urgent"), True),
    ({"priorities": ["urgent"]}, facts(priority="normal"), False),
    ({"hours": "09:00-18:00"}, facts(at=AFTERNOON), True),
    ({"hours": "09:00-18:00"}, facts(at=LATE_NIGHT), False),
])
def test_decide_condition_kind_matches_only_when_it_holds(match, report, expected):
    rule_set = rules(rule("fallback", {"department": "housing"}), rule("special", {"department": "water"}, **match))
    assert (decide(report, rule_set, CONTEXT).department == "water") is expected


@pytest.mark.parametrize(("local_hour", "minute", "inside"), [
    (22, 0, True), (23, 30, True), (0, 0, True), (3, 15, True), (5, 59, True), (6, 0, False), (12, 0, False),
    (21, 59, False),
])
def test_decide_hours_wrap_midnight_in_shanghai_time(local_hour, minute, inside):
    rule_set = rules(rule("day", {"department_type": "housing"}, category_prefix="03001"),
                     rule("night", {"department_type": "housing", "priority": "urgent"}, category_prefix="03001",
                          hours="22:00-06:00"))
    # Shanghai is UTC+8 all year: local 22:00 is 14:00 UTC, local 03:15 is 19:15 UTC of the day before.
    at = datetime(2026, 7, 1, local_hour, minute, tzinfo=UTC) - timedelta(hours=8)
    decision = decide(facts("03001", at=at), rule_set, CONTEXT)
    assert decision.department == "housing"
    assert decision.priority == ("urgent" if inside else "normal")


def test_decide_keyword_rule_raises_priority():
    rule_set = parse_rule_set(_default_rules_data())
    gas = decide(facts("04099", description="小区燃气管道有异味"), rule_set, CONTEXT)
    assert (gas.department, gas.priority, gas.rule_id) == ("housing", "urgent", "gas-keyword")
    plain = decide(facts("04099", description="井盖松动"), rule_set, CONTEXT)
    assert (plain.department, plain.priority) == ("housing", "normal")


# --- triage and resolution ----------------------------------------------------------------------------------------


def test_decide_unlocated_report_goes_to_triage_with_reason():
    rule_set = rules(rule("anything", {"department": "water"}))
    decision = decide(facts("04002", status="unlocated"), rule_set, CONTEXT)
    assert decision.triage and decision.department is None
    assert "not located to a town" in decision.reason
    assert [t.matched for t in decision.trace] == [True]  # the trace still shows what would have matched


def test_decide_no_matching_rule_goes_to_triage():
    decision = decide(facts("99001"), rules(rule("major-01", category_prefix="01")), CONTEXT)
    assert decision.triage and decision.rule_id is None
    assert "no rule matches category 99001" in decision.reason


def test_decide_triage_outcome_sends_report_to_command_centre():
    rule_set = rules(rule("major-04", category_prefix="04"),
                     rule("unclear", {"triage": True, "priority": "urgent"}, category_prefix="04", keywords=["不明"]))
    decision = decide(facts("04099", description="来源不明的异响"), rule_set, CONTEXT)
    assert (decision.department, decision.priority, decision.rule_id) == (None, "urgent", "unclear")


def test_decide_department_type_resolves_to_active_town_branch():
    rule_set = rules(rule("major-01", {"department_type": "urban-management"}, category_prefix="01"))
    decision = decide(facts("01002", town=TOWN), rule_set, CONTEXT)
    assert decision.department == "urban-management-441900003"
    assert "town branch" in decision.reason


def test_decide_department_type_falls_back_to_city_bureau():
    rule_set = rules(rule("major-01", {"department_type": "urban-management"}, category_prefix="01"))
    # 441900004's branch is inactive; 441900005 has none.
    assert decide(facts("01002", town=OTHER_TOWN), rule_set, CONTEXT).department == "urban-management"
    assert decide(facts("01002", town="441900005"), rule_set, CONTEXT).department == "urban-management"


def test_decide_inactive_department_goes_to_triage_with_reason():
    rule_set = rules(rule("fire", {"department_type": "fire-safety"}, category_prefix="22"))
    decision = decide(facts("22001"), rule_set, CONTEXT)
    assert decision.triage
    assert "no active city bureau" in decision.reason


def test_decide_trace_names_failed_condition_and_held_conditions():
    rule_set = rules(rule("major-03", {"department": "housing"}, category_prefix="03"),
                     rule("night", {"department": "housing", "priority": "urgent"}, category_prefix="03001",
                          hours="22:00-06:00"),
                     rule("other-town", {"department": "water"}, towns=[OTHER_TOWN]))
    decision = decide(facts("03001", at=AFTERNOON), rule_set, CONTEXT)
    by_id = {t.rule_id: t for t in decision.trace}
    assert set(by_id) == {"major-03", "night", "other-town"}
    assert by_id["night"].matched is False
    assert by_id["night"].failed == "hours: 14:00 local is outside 22:00-06:00"
    assert by_id["other-town"].failed.startswith(f"towns: town {TOWN} is not one of {OTHER_TOWN}")
    assert by_id["major-03"].matched and by_id["major-03"].held == ("category prefix 03",)
    assert by_id["night"].specificity == (0, 5, 1)
    data = decision.to_data()
    assert json.loads(json.dumps(data, ensure_ascii=False))["trace"][0]["rule_id"] == "other-town"


def test_decide_naive_time_is_refused():
    with pytest.raises(ValueError, match="tz-aware"):
        decide(facts(at=datetime(2026, 3, 3, 9, 0)), rules(rule("x")), CONTEXT)


# --- parsing ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("bad", "field", "reason"), [
    ({"id": "r1", "match": {"colour": "red"}, "outcome": {"department": "water"}}, "rules[1].match.colour",
     "unknown key"),
    ({"id": "r1", "match": {"category_prefix": "0A"}, "outcome": {"department": "water"}},
     "rules[1].match.category_prefix", "not 2 to 5 digits"),
    ({"id": "r1", "match": {"hours": "25:00-06:00"}, "outcome": {"department": "water"}}, "rules[1].match.hours",
     "HH:MM-HH:MM"),
    ({"id": "r1", "match": {"hours": "08:00-08:00"}, "outcome": {"department": "water"}}, "rules[1].match.hours",
     "empty"),
    ({"id": "r1", "outcome": {"department": "water", "triage": True}}, "rules[1].outcome", "exactly one"),
    ({"id": "r1", "outcome": {}}, "rules[1].outcome", "exactly one"),
    ({"id": "r1", "outcome": {"department": "water", "priority": "asap"}}, "rules[1].outcome.priority",
     "not one of normal, urgent"),
    ({"id": "r1", "outcome": {"department": "water", "priority": ["urgent"]}}, "rules[1].outcome.priority",
     "not one of normal, urgent"),
    ({"id": "r1", "match": {"channels": ["fax"]}, "outcome": {"department": "water"}}, "rules[1].match.channels",
     "'fax' is not one of"),
    ({"id": "r1", "match": {"towns": ["4419"]}, "outcome": {"department": "water"}}, "rules[1].match.towns",
     "not a valid code"),
    ({"id": "r1", "match": {"keywords": []}, "outcome": {"department": "water"}}, "rules[1].match.keywords",
     "non-empty list"),
    ({"id": "r1", "order": "first", "outcome": {"department": "water"}}, "rules[1].order", "not an integer"),
    ({"id": "r1"}, "rules[1].outcome", "is required"),
])
def test_parse_rule_set_error_names_rule_and_reason(bad, field, reason):
    with pytest.raises(ValidationFailed) as caught:
        parse_rule_set({"rules": [rule("good"), bad]})
    details = {d.field: d.reason for d in caught.value.details}
    assert field in details, details
    assert reason in details[field]
    assert details[field].startswith("rule 'r1': ")


def test_parse_rule_set_duplicate_and_bad_ids_are_named():
    with pytest.raises(ValidationFailed) as caught:
        parse_rule_set({"rules": [rule("same"), rule("same"), rule("Bad Id")]})
    details = {d.field: d.reason for d in caught.value.details}
    assert details["rules[1].id"] == "rule 'same': duplicate id: rules[0] has it too"
    assert "is not an id" in details["rules[2].id"]


def test_parse_rule_set_rejects_empty_and_unknown_top_level():
    with pytest.raises(ValidationFailed):
        parse_rule_set({"rules": []})
    with pytest.raises(ValidationFailed) as caught:
        parse_rule_set({"rules": [rule("ok")], "extra": 1})
    assert any("extra" in d.field for d in caught.value.details)


def test_parse_rule_set_round_trips_through_json():
    rule_set = parse_rule_set(_default_rules_data())
    again = parse_rule_set(json.loads(json.dumps(rule_set.to_data(), ensure_ascii=False)))
    assert again == rule_set


# --- checking -----------------------------------------------------------------------------------------------------


def _seed_departments() -> list[DepartmentInfo]:
    # The catalog engineer's level/town columns may or may not be in the seed yet: read them defensively.
    return [DepartmentInfo(d.code, getattr(d, "department_type", None) or d.code, getattr(d, "level", None) or "city",
                           getattr(d, "town_code", None)) for d in department_seed.DEPARTMENTS]


def _default_rules_data() -> dict:
    text = resources.files("gridgov_dispatch.rules").joinpath("default_rules.json").read_text(encoding="utf-8")
    return json.loads(text)


def test_check_default_rules_route_every_shared_category():
    codes = [c.code for c in categories.seed_book()]  # the packaged first catalog version
    assert check_rule_set(parse_rule_set(_default_rules_data()), codes, _seed_departments()) == []


def test_check_rule_set_rejects_unroutable_category_naming_rules():
    rule_set = rules(rule("major-01", {"department": "housing"}, category_prefix="01"),
                     rule("night-03", {"department": "housing"}, category_prefix="03", hours="22:00-06:00"),
                     rule("triage-04", {"triage": True}, category_prefix="04"))
    details = check_rule_set(rule_set, ["01002", "03001", "04002", "99001"], CONTEXT.departments.values())
    reasons = [d.reason for d in details]
    assert reasons == [
        "category 03001 is unroutable: only conditional or triage rules match it (rules[1] 'night-03'); add a rule "
        "with only a category prefix that sends it to a department",
        "category 04002 is unroutable: only conditional or triage rules match it (rules[2] 'triage-04'); add a rule "
        "with only a category prefix that sends it to a department",
        "category 99001 is unroutable: no rule matches it; add a rule with only a category prefix that sends it to "
        "a department",
    ]


def test_check_rule_set_rejects_unknown_and_inactive_departments():
    rule_set = rules(rule("ghost", {"department": "ministry-of-magic"}),
                     rule("closed", {"department": "urban-management-441900004"}, towns=[OTHER_TOWN]),
                     rule("fire", {"department_type": "fire-safety"}, category_prefix="22"),
                     rule("nobody", {"department_type": "nobody"}, category_prefix="23"))
    details = {d.field: d.reason for d in check_rule_set(rule_set, [], CONTEXT.departments.values())}
    assert details == {
        "rules[0].outcome.department": "rule 'ghost': department ministry-of-magic is unknown",
        "rules[1].outcome.department": "rule 'closed': department urban-management-441900004 is inactive",
        "rules[2].outcome.department_type": "rule 'fire': department type fire-safety is inactive "
                                            "(no active city bureau)",
        "rules[3].outcome.department_type": "rule 'nobody': department type nobody is unknown (no active city bureau)",
    }


# --- default rules ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "department"), [
    ("04001", "traffic"), ("04002", "water"), ("04004", "water"), ("05003", "public-security"),
    ("04099", "housing"), ("01002", "urban-management-441900003"), ("03001", "housing"),
])
def test_decide_default_rules_keep_existing_overrides(code, department):
    decision = decide(facts(code, description="情况描述"), parse_rule_set(_default_rules_data()), CONTEXT)
    assert decision.department == department


def test_decide_default_rules_night_construction_is_urgent():
    rule_set = parse_rule_set(_default_rules_data())
    night = decide(facts("03001", at=LATE_NIGHT), rule_set, CONTEXT)
    assert (night.department, night.priority, night.rule_id) == ("housing", "urgent", "night-construction")
    assert decide(facts("03001", at=AFTERNOON), rule_set, CONTEXT).priority == "normal"


# --- replay -------------------------------------------------------------------------------------------------------


def test_replay_reports_changes_triage_moves_and_department_counts():
    current = rules(rule("major-04", {"department": "housing"}, category_prefix="04"))
    candidate = rules(rule("major-04", {"department": "housing"}, category_prefix="04"),
                      rule("minor-04002", {"department": "water"}, category_prefix="04002"),
                      rule("unclear", {"triage": True}, category_prefix="04", keywords=["不明"]))
    cases = [
        ReplayCase("t1", facts("04002"), "water"),
        ReplayCase("t2", facts("04099", description="来源不明"), "housing"),
        ReplayCase("t3", facts("04099"), "housing"),
        ReplayCase("t4", facts("04002", status="unlocated"), None),
    ]
    report = replay(cases, current, candidate, CONTEXT)
    assert (report.total, report.changed, report.department_changed) == (4, 2, 2)
    assert (report.to_triage, report.from_triage) == (1, 0)
    assert (report.agree_actual_before, report.agree_actual_after) == (2, 2)
    counts = {k: (v.before, v.after) for k, v in report.by_department.items()}
    assert counts == {"housing": (3, 1), "water": (0, 1), TRIAGE: (1, 2)}
    changed = {c.ticket_id: (c.before.department, c.after.department) for c in report.changed_cases}
    assert changed == {"t1": ("housing", "water"), "t2": ("housing", None)}
    assert not report.changed_cases_truncated


def test_replay_bounds_the_list_of_changed_cases():
    current = rules(rule("major-04", {"department": "housing"}, category_prefix="04"))
    candidate = rules(rule("major-04", {"department": "water"}, category_prefix="04"))
    cases = [ReplayCase(f"t{i}", facts("04002"), "water") for i in range(5)]
    report = replay(cases, current, candidate, CONTEXT, max_changed=2)
    assert report.changed == 5 and len(report.changed_cases) == 2 and report.changed_cases_truncated


def test_parse_rule_set_takes_the_sensing_channels():
    parsed = parse_rule_set({"rules": [rule("cams", channels=["video_ai", "iot"])]})
    assert parsed.rules[0].match.channels == frozenset({"video_ai", "iot"})
