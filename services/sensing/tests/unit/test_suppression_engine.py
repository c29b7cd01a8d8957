from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov_sensing.suppression.engine import (
    TYPE_CONFIDENCE,
    Candidate,
    FlapDetector,
    Rule,
    evaluate,
    needs_sources,
    rule_matches,
    rule_problems,
)

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def alarm(**kw) -> Candidate:
    base = dict(alarm_type="exposed_garbage", device_id="44190000001320000001", grid_code="G1",
                village_code="V1", town_code="T1", confidence=0.9, occurred_at=T0, labels={})
    base.update(kw)
    return Candidate(**base)


def test_no_rules_no_suppression():
    assert evaluate(alarm(), [], [], None).suppressed_by is None


def test_type_threshold_suppresses_low_confidence_only():
    assert evaluate(alarm(confidence=0.5), [], [], 0.75).suppressed_by == TYPE_CONFIDENCE
    assert evaluate(alarm(confidence=0.75), [], [], 0.75).suppressed_by is None
    assert evaluate(alarm(confidence=None), [], [], 0.75).suppressed_by is None


def test_snooze_until_expiry_exclusive():
    rule = Rule("s1", "snooze", ends_at=T0 + timedelta(hours=2), device_ids=frozenset({"44190000001320000001"}))
    assert evaluate(alarm(), [rule], [], None).suppressed_by == "s1"
    assert evaluate(alarm(occurred_at=T0 + timedelta(hours=2)), [rule], [], None).suppressed_by is None


def test_snooze_of_one_type_leaves_other_types():
    rule = Rule("s1", "snooze", ends_at=T0 + timedelta(hours=1), alarm_types=frozenset({"illegal_parking"}))
    assert evaluate(alarm(), [rule], [], None).suppressed_by is None
    assert evaluate(alarm(alarm_type="illegal_parking"), [rule], [], None).suppressed_by == "s1"


@pytest.mark.parametrize(("area", "hit"), [("G1", True), ("V1", True), ("T1", True), ("G2", False)])
def test_maintenance_window_by_area(area, hit):
    rule = Rule("m1", "maintenance", starts_at=T0 - timedelta(hours=1), ends_at=T0 + timedelta(hours=1),
                area_codes=frozenset({area}))
    assert (evaluate(alarm(), [rule], [], None).suppressed_by == "m1") is hit


def test_maintenance_window_not_yet_started():
    rule = Rule("m1", "maintenance", starts_at=T0 + timedelta(minutes=1),
                device_ids=frozenset({"44190000001320000001"}))
    assert evaluate(alarm(), [rule], [], None).suppressed_by is None


def test_maintenance_of_other_device_leaves_alarm():
    rule = Rule("m1", "maintenance", device_ids=frozenset({"other"}))
    assert evaluate(alarm(), [rule], [], None).suppressed_by is None


def test_confidence_rule_per_camera():
    rule = Rule("c1", "confidence", device_ids=frozenset({"44190000001320000001"}), min_confidence=0.95)
    assert evaluate(alarm(confidence=0.9), [rule], [], 0.5).suppressed_by == "c1"
    assert evaluate(alarm(confidence=0.96), [rule], [], 0.5).suppressed_by is None
    assert evaluate(alarm(confidence=0.9, device_id="other"), [rule], [], 0.5).suppressed_by is None


INHIBIT = Rule("i1", "inhibit", alarm_types=frozenset({"camera_offline"}),
               source_types=frozenset({"power_cut"}), equal=("grid_code",))


def test_inhibit_when_equal_key_matches():
    source = alarm(alarm_type="power_cut", device_id="IOT-power-1")
    assert evaluate(alarm(alarm_type="camera_offline"), [INHIBIT], [source], None).suppressed_by == "i1"


def test_inhibit_not_when_equal_key_differs():
    source = alarm(alarm_type="power_cut", device_id="IOT-power-1", grid_code="G2")
    assert evaluate(alarm(alarm_type="camera_offline"), [INHIBIT], [source], None).suppressed_by is None


def test_inhibit_needs_an_active_source():
    assert evaluate(alarm(alarm_type="camera_offline"), [INHIBIT], [], None).suppressed_by is None
    other = alarm(alarm_type="exposed_garbage")
    assert evaluate(alarm(alarm_type="camera_offline"), [INHIBIT], [other], None).suppressed_by is None


def test_inhibit_missing_label_on_both_sides_never_inhibits():
    # prometheus/alertmanager#1727: the source and the target both lack the `equal` label; Alertmanager treated
    # the two absences as equal and inhibited. Here absence is never a match.
    rule = replace(INHIBIT, equal=("label.circuit",))
    source = alarm(alarm_type="power_cut", device_id="IOT-power-1")
    assert evaluate(alarm(alarm_type="camera_offline"), [rule], [source], None).suppressed_by is None


@pytest.mark.parametrize(("src", "dst"), [({"circuit": "c7"}, {}), ({}, {"circuit": "c7"}),
                                          ({"circuit": ""}, {"circuit": ""}), ({"circuit": "c7"}, {"circuit": "c8"})])
def test_inhibit_missing_or_empty_label_on_either_side_never_inhibits(src, dst):
    rule = replace(INHIBIT, equal=("grid_code", "circuit"))
    source = alarm(alarm_type="power_cut", device_id="IOT-power-1", labels=src)
    assert evaluate(alarm(alarm_type="camera_offline", labels=dst), [rule], [source], None).suppressed_by is None


def test_inhibit_with_label_present_on_both_sides():
    rule = replace(INHIBIT, equal=("grid_code", "label.circuit"))
    source = alarm(alarm_type="power_cut", device_id="IOT-power-1", labels={"circuit": "c7"})
    target = alarm(alarm_type="camera_offline", labels={"circuit": "c7"})
    assert evaluate(target, [rule], [source], None).suppressed_by == "i1"


def test_inhibit_missing_place_never_inhibits():
    rule = replace(INHIBIT, equal=("village_code",))
    source = alarm(alarm_type="power_cut", device_id="IOT-power-1", village_code=None)
    assert evaluate(alarm(alarm_type="camera_offline", village_code=None), [rule], [source], None).suppressed_by is None


def test_inhibit_never_silences_its_own_source_type():
    rule = Rule("i2", "inhibit", source_types=frozenset({"power_cut"}), equal=("grid_code",))
    a = alarm(alarm_type="power_cut", device_id="IOT-power-2")
    b = alarm(alarm_type="power_cut", device_id="IOT-power-1")
    assert evaluate(a, [rule], [b], None).suppressed_by is None


def test_monitor_rule_records_without_suppressing():
    rule = Rule("s1", "snooze", mode="monitor", ends_at=T0 + timedelta(hours=1))
    verdict = evaluate(alarm(), [rule], [], None)
    assert verdict.suppressed_by is None and verdict.monitored_by == ("s1",)


def test_monitor_recorded_even_when_enforced_rule_suppresses():
    rules = [Rule("m1", "maintenance", area_codes=frozenset({"G1"})),
             Rule("s1", "snooze", mode="monitor", ends_at=T0 + timedelta(hours=1)),
             Rule("s2", "snooze", ends_at=T0 + timedelta(hours=1))]
    verdict = evaluate(alarm(), rules, [], None)
    assert verdict.suppressed_by == "m1" and verdict.monitored_by == ("s1",)


def test_type_threshold_named_before_rules():
    rule = Rule("s1", "snooze", ends_at=T0 + timedelta(hours=1))
    assert evaluate(alarm(confidence=0.1), [rule], [], 0.5).suppressed_by == TYPE_CONFIDENCE


@pytest.mark.parametrize(("rule", "field"), [
    (Rule("x", "snooze"), "ends_at"),
    (Rule("x", "snooze", starts_at=T0, ends_at=T0), "ends_at"),
    (Rule("x", "maintenance"), "device_ids"),
    (Rule("x", "inhibit", equal=("grid_code",)), "source_types"),
    (Rule("x", "inhibit", source_types=frozenset({"a"})), "equal"),
    (Rule("x", "inhibit", source_types=frozenset({"a"}), alarm_types=frozenset({"a"}), equal=("grid_code",)),
     "alarm_types"),
    (Rule("x", "confidence", min_confidence=1.5), "min_confidence"),
    (Rule("x", "confidence"), "min_confidence"),
    (Rule("x", "mute"), "kind"),  # type: ignore[arg-type]
    (Rule("x", "snooze", mode="dry", ends_at=T0), "mode"),  # type: ignore[arg-type]
])
def test_rule_problems_name_the_field(rule, field):
    assert field in [f for f, _ in rule_problems(rule)]


def test_rule_problems_empty_for_good_rules():
    assert rule_problems(INHIBIT) == []
    assert rule_problems(Rule("s", "snooze", ends_at=T0)) == []


# property-style: the engine's invariants over generated alarms and rules
types_ = st.sampled_from(["exposed_garbage", "camera_offline", "power_cut", "smoke_fire"])
places = st.sampled_from(["G1", "G2", None])
labels_ = st.dictionaries(st.sampled_from(["circuit", "zone"]), st.sampled_from(["", "a", "b"]), max_size=2)
candidates = st.builds(lambda t, d, g, v, conf, dt, lab: alarm(
    alarm_type=t, device_id=d, grid_code=g, village_code=v, confidence=conf,
    occurred_at=T0 + timedelta(minutes=dt), labels=lab),
    types_, st.sampled_from(["D1", "D2"]), places, places, st.one_of(st.none(), st.floats(0, 1)),
    st.integers(-120, 120), labels_)
rules_ = st.builds(
    lambda i, kind, mode, start, length, devs, areas, ts, ss, eq, mc: Rule(
        f"r{i}", kind, mode, T0 + timedelta(minutes=start), T0 + timedelta(minutes=start + length),
        frozenset(devs), frozenset(areas), frozenset(ts), frozenset(ss), tuple(eq), mc),
    st.integers(0, 99), st.sampled_from(["snooze", "maintenance", "inhibit", "confidence"]),
    st.sampled_from(["enforce", "monitor"]), st.integers(-120, 60), st.integers(1, 180),
    st.sets(st.sampled_from(["D1", "D2"]), max_size=1), st.sets(st.sampled_from(["G1", "V1"]), max_size=1),
    st.sets(types_, max_size=2), st.sets(types_, max_size=2),
    st.lists(st.sampled_from(["grid_code", "village_code", "label.circuit", "zone"]), max_size=2),
    st.one_of(st.none(), st.floats(0.01, 1)))


@settings(max_examples=150, deadline=None)
@given(candidates, st.lists(rules_, max_size=4), st.lists(candidates, max_size=3))
def test_monitor_rules_never_suppress(c, rules, sources):
    monitored = [replace(r, mode="monitor") for r in rules]
    verdict = evaluate(c, monitored, sources, None)
    assert verdict.suppressed_by is None
    assert verdict.monitored_by == tuple(r.id for r in rules if rule_matches(r, c, sources))


@settings(max_examples=300, deadline=None)
@given(candidates, st.lists(rules_, max_size=4), st.lists(candidates, max_size=3))
def test_an_alarm_that_needs_no_sources_gets_the_same_verdict_without_them(c, rules, sources):
    """The grouping consumer skips the look-up of superior groups when ``needs_sources`` says no (a query per
    alarm); the verdict must not depend on them then."""
    if not needs_sources(rules, c):
        assert evaluate(c, rules, sources, 0.5) == evaluate(c, rules, [], 0.5)


def test_only_an_inhibit_rules_dependent_types_need_sources():
    assert needs_sources([INHIBIT], alarm(alarm_type="camera_offline"))  # the dependent type
    assert not needs_sources([INHIBIT], alarm())  # exposed_garbage: not the rule's
    assert not needs_sources([INHIBIT], alarm(alarm_type="power_cut"))  # the superior type itself
    assert not needs_sources([replace(INHIBIT, ends_at=T0)], alarm(alarm_type="camera_offline"))  # over
    assert not needs_sources([Rule("s1", "snooze", ends_at=T0 + timedelta(hours=1))], alarm())
    assert not needs_sources([], alarm())


@settings(max_examples=150, deadline=None)
@given(candidates, rules_, st.lists(candidates, max_size=3))
def test_enforcing_a_monitored_rule_suppresses_exactly_what_it_recorded(c, rule, sources):
    would = rule.id in evaluate(c, [replace(rule, mode="monitor")], sources, None).monitored_by
    assert (evaluate(c, [replace(rule, mode="enforce")], sources, None).suppressed_by == rule.id) is would


@settings(max_examples=150, deadline=None)
@given(candidates, rules_, st.lists(candidates, max_size=3))
def test_inhibit_requires_every_equal_key_present_and_equal(c, rule, sources):
    rule = replace(rule, kind="inhibit")
    if not rule_matches(rule, c, sources):
        return
    assert rule.equal
    def value(x, key):
        if key in ("grid_code", "village_code"):
            return getattr(x, key)
        return x.labels.get(key.removeprefix("label."))
    assert any(s.alarm_type in rule.source_types and all(value(s, k) and value(s, k) == value(c, k) for k in rule.equal)
               for s in sources)


@settings(max_examples=100, deadline=None)
@given(candidates, rules_)
def test_rule_out_of_force_never_matches(c, rule):
    if (rule.starts_at and c.occurred_at < rule.starts_at) or (rule.ends_at and c.occurred_at >= rule.ends_at):
        assert not rule_matches(rule, c, [c])


# flapping
def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_flapping_counts_changes_in_window():
    changes = [at(0), at(10), at(20), at(30)]
    assert FlapDetector.is_flapping(changes, at(30), 4, timedelta(hours=1))
    assert not FlapDetector.is_flapping(changes, at(30), 5, timedelta(hours=1))
    assert not FlapDetector.is_flapping(changes, at(61), 4, timedelta(hours=1))  # at(0) left the window


def test_flap_record_keeps_order_and_prunes():
    changes = FlapDetector.record((at(0), at(50)), at(30), timedelta(hours=1))
    assert changes == (at(0), at(30), at(50))
    assert FlapDetector.record(changes, at(100), timedelta(hours=1)) == (at(50), at(100))


def test_flap_record_is_bounded():
    changes: tuple = ()
    for i in range(200):
        changes = FlapDetector.record(changes, at(i / 100), timedelta(hours=1))
    assert len(changes) == FlapDetector.MAX_CHANGES and changes[-1] == at(1.99)


def test_flap_detector_observes_state_changes_per_fingerprint():
    d = FlapDetector()
    states = ["firing", "resolved", "firing", "resolved", "firing"]
    seen = [d.observe("fp1", s, at(i * 5), 4, timedelta(hours=1)) for i, s in enumerate(states)]
    assert seen == [False, False, False, False, True]
    assert not d.observe("fp2", "firing", at(20), 4, timedelta(hours=1))
    assert d.observe("fp1", "firing", at(21), 4, timedelta(hours=1))  # a repeat is no change, still flapping
    assert not d.observe("fp1", "firing", at(120), 4, timedelta(hours=1))  # quiet for an hour


def test_flap_detector_is_bounded_in_fingerprints():
    d = FlapDetector(max_keys=10)
    for i in range(50):
        d.observe(f"fp{i}", "firing", at(i), 4, timedelta(hours=1))
    assert len(d._state) == 10 and d.changes("fp0") == () and d.changes("fp49") == ()


def test_flap_threshold_must_be_positive():
    with pytest.raises(ValueError):
        FlapDetector.is_flapping([], T0, 0, timedelta(hours=1))


@given(st.lists(st.integers(0, 300), max_size=30), st.integers(0, 300), st.integers(1, 10), st.integers(1, 120))
def test_flapping_equals_brute_force_count(minutes, now, threshold, window):
    changes = sorted(at(m) for m in minutes)
    expected = len([m for m in minutes if now - window < m <= now]) >= threshold
    assert FlapDetector.is_flapping(changes, at(now), threshold, timedelta(minutes=window)) is expected


def test_flap_record_sorts_stored_times():
    assert FlapDetector.record((at(50), at(0)), at(30), timedelta(hours=1)) == (at(0), at(30), at(50))
