"""Suppression (告警抑制), pure: whether an alarm opens or joins a group, or is held back, and by which rule.

Four kinds of rule, each scoped to alarm types (empty = any) and to devices or areas (grid, village or town
codes; both empty = the whole city), each in force from ``starts_at`` until ``ends_at`` (None = open):

- ``snooze``: silence matching alarms until the rule's expiry (``for: "2h"`` becomes ``ends_at``);
- ``maintenance``: a device or an area is being worked on, its alarms are expected;
- ``inhibit``: a superior alarm suppresses its dependents — while an alarm of one of ``source_types`` is firing
  (one of ``active_sources``), matching alarms whose ``equal`` keys carry the same values are held back (a power
  cut in a grid holds back that grid's "camera offline" alarms). A key missing, or empty, on either side never
  matches: Alertmanager treated "absent on both sides" as equal and inhibited alarms that had nothing to do with
  the source (prometheus/alertmanager#1727); here absence is never evidence. An alarm whose own type is one of
  the rule's source types is never inhibited by it (a rule cannot silence the alarms it depends on).
- ``confidence``: a stricter confidence floor for a scope (a noisy camera, an area with poor light).

Besides the rules, the alarm type's own ``min_confidence`` (one threshold per algorithm) always applies; its
verdict names ``TYPE_CONFIDENCE``. An alarm without a confidence (a sensor reading) is never held back for it.

Every rule runs in ``enforce`` or ``monitor`` mode: an enforced rule suppresses; a monitored rule only records
that it would have (``Verdict.monitored_by``), so its effect can be seen before it is enabled. Every matching
monitored rule is recorded even when an enforced one already suppressed, so each rule's count stands alone.
``rule_matches`` answers the same question for one rule regardless of its mode: what a replay counts.

``FlapDetector``: a device that keeps switching between firing and resolved (a loose cover rocking, a flickering
threshold) is flapping when it changed state ``threshold`` times within ``window``.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

RuleKind = Literal["snooze", "maintenance", "inhibit", "confidence"]
RuleMode = Literal["enforce", "monitor"]
RULE_KINDS: tuple[str, ...] = ("snooze", "maintenance", "inhibit", "confidence")
RULE_MODES: tuple[str, ...] = ("enforce", "monitor")
TYPE_CONFIDENCE = "alarm_type.min_confidence"  # the verdict's name for the alarm type's own threshold
PLACE_KEYS: tuple[str, ...] = ("device_id", "grid_code", "village_code", "town_code")
EQUAL_KEYS: frozenset[str] = frozenset(PLACE_KEYS)  # and any label: "label.<name>" or a bare label name
LABEL_PREFIX = "label."
MAX_EQUAL = 10


@dataclass(frozen=True)
class Rule:
    """One suppression rule as the engine reads it (lane A stores them as ``suppression_rule`` rows)."""

    id: str
    kind: RuleKind
    mode: RuleMode = "enforce"
    starts_at: datetime | None = None  # None: in force since always
    ends_at: datetime | None = None  # None: open; a snooze's expiry
    device_ids: frozenset[str] = frozenset()
    area_codes: frozenset[str] = frozenset()  # grid, village or town codes
    alarm_types: frozenset[str] = frozenset()  # empty: any type (inhibit: the dependent types)
    source_types: frozenset[str] = frozenset()  # inhibit: the superior alarm types
    equal: tuple[str, ...] = ()  # inhibit: keys whose values must be present and equal on both sides
    min_confidence: float | None = None  # confidence: the floor in this scope


@dataclass(frozen=True)
class Candidate:
    """An alarm as the engine sees it: its type, its device's place, confidence, time and labels.

    Also the shape of an active source (an open, firing alarm group) for inhibition.
    """

    alarm_type: str
    device_id: str
    grid_code: str | None
    village_code: str | None
    town_code: str | None
    confidence: float | None
    occurred_at: datetime
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The outcome: the enforced rule that suppressed the alarm (or None), and the monitored rules that would have."""

    suppressed_by: str | None = None
    monitored_by: tuple[str, ...] = ()

    @property
    def suppressed(self) -> bool:
        """Whether the alarm is held back."""
        return self.suppressed_by is not None


def in_force(rule: Rule, at: datetime) -> bool:
    """Whether the rule applies at ``at``: from ``starts_at`` (inclusive) until ``ends_at`` (exclusive)."""
    if rule.starts_at is not None and at < rule.starts_at:
        return False
    return rule.ends_at is None or at < rule.ends_at


def in_scope(rule: Rule, c: Candidate) -> bool:
    """Whether the alarm is of the rule's types and on one of its devices or in one of its areas."""
    if rule.alarm_types and c.alarm_type not in rule.alarm_types:
        return False
    if not rule.device_ids and not rule.area_codes:
        return True
    if c.device_id in rule.device_ids:
        return True
    return any(code is not None and code in rule.area_codes for code in (c.grid_code, c.village_code, c.town_code))


def key_value(c: Candidate, key: str) -> str | None:
    """The value of an ``equal`` key: a place field, ``label.<name>`` or a bare label name; None if absent."""
    if key in EQUAL_KEYS:
        value = getattr(c, key)
    elif key.startswith(LABEL_PREFIX):
        value = c.labels.get(key[len(LABEL_PREFIX):])
    else:
        value = c.labels.get(key)
    return value or None  # an empty value is as absent as a missing one: it can never make two alarms equal


def equal_on(keys: Sequence[str], a: Candidate, b: Candidate) -> bool:
    """Whether every key is present on both alarms with the same value (no keys: never equal)."""
    if not keys:
        return False
    for key in keys:
        va, vb = key_value(a, key), key_value(b, key)
        if va is None or vb is None or va != vb:
            return False
    return True


def inhibited(rule: Rule, c: Candidate, active_sources: Sequence[Candidate]) -> bool:
    """Whether a firing source of the rule's superior types shares every ``equal`` key with the alarm."""
    if c.alarm_type in rule.source_types:
        return False
    return any(s.alarm_type in rule.source_types and s is not c and equal_on(rule.equal, s, c)
               for s in active_sources)


def needs_sources(rules: Sequence[Rule], c: Candidate) -> bool:
    """Whether any rule could inhibit the alarm, so its verdict depends on the active sources: an inhibit rule in
    force, in scope, of which the alarm is not a superior type. When none is, ``evaluate`` gives the same verdict
    with no sources, and the caller need not look them up (a query per alarm)."""
    return any(r.kind == "inhibit" and c.alarm_type not in r.source_types and in_force(r, c.occurred_at)
               and in_scope(r, c) for r in rules)


def rule_matches(rule: Rule, c: Candidate, active_sources: Sequence[Candidate] = ()) -> bool:
    """Whether the rule, whatever its mode, would suppress the alarm: what a replay counts."""
    if not in_force(rule, c.occurred_at) or not in_scope(rule, c):
        return False
    if rule.kind in ("snooze", "maintenance"):
        return True
    if rule.kind == "inhibit":
        return inhibited(rule, c, active_sources)
    if rule.kind == "confidence":
        return below(c.confidence, rule.min_confidence)
    return False


def below(confidence: float | None, floor: float | None) -> bool:
    """Whether a confidence falls under a floor; no confidence or no floor is never under."""
    return confidence is not None and floor is not None and confidence < floor


def evaluate(c: Candidate, rules: Sequence[Rule], active_sources: Sequence[Candidate],
             type_min_confidence: float | None) -> Verdict:
    """The verdict on one alarm: the type's threshold first, then the rules in the order given.

    ``active_sources`` are the open, firing alarm groups an inhibit rule may name as superior — the caller passes
    those of the alarm's grid, village and town (what an ``equal`` on a place or a label can match) as Candidates
    with their last alarm's labels.
    """
    suppressed_by = TYPE_CONFIDENCE if below(c.confidence, type_min_confidence) else None
    monitored: list[str] = []
    for rule in rules:
        if not rule_matches(rule, c, active_sources):
            continue
        if rule.mode == "monitor":
            monitored.append(rule.id)
        elif suppressed_by is None:
            suppressed_by = rule.id
    return Verdict(suppressed_by, tuple(monitored))


def rule_problems(rule: Rule) -> list[tuple[str, str]]:
    """What is wrong with a rule as (field, reason) pairs; empty when the engine can use it."""
    problems: list[tuple[str, str]] = []
    if rule.kind not in RULE_KINDS:
        problems.append(("kind", f"one of {', '.join(RULE_KINDS)}"))
    if rule.mode not in RULE_MODES:
        problems.append(("mode", f"one of {', '.join(RULE_MODES)}"))
    if rule.starts_at is not None and rule.ends_at is not None and rule.ends_at <= rule.starts_at:
        problems.append(("ends_at", "must be after starts_at"))
    if rule.kind == "snooze" and rule.ends_at is None:
        problems.append(("ends_at", "a snooze needs an expiry (for or ends_at)"))
    if rule.kind == "maintenance" and not rule.device_ids and not rule.area_codes:
        problems.append(("device_ids", "a maintenance window names devices or areas"))
    if rule.kind == "inhibit":
        if not rule.source_types:
            problems.append(("source_types", "an inhibit rule names the superior alarm types"))
        if not rule.equal:
            problems.append(("equal", "an inhibit rule names at least one key both alarms must share"))
        if len(rule.equal) > MAX_EQUAL:
            problems.append(("equal", f"at most {MAX_EQUAL} keys"))
        if rule.alarm_types & rule.source_types:
            problems.append(("alarm_types", "a type cannot inhibit itself"))
    if rule.kind == "confidence" and (rule.min_confidence is None or not 0 < rule.min_confidence <= 1):
        problems.append(("min_confidence", "a confidence rule needs a floor in (0, 1]"))
    return problems


class FlapDetector:
    """Flapping (告警抖动): state changes of one fingerprint counted over a sliding window.

    The static methods are the rule, on a sorted tuple of change times the caller keeps (e.g. on the alarm group);
    an instance keeps that tuple and the last state per fingerprint in memory, bounded to ``max_keys``
    fingerprints (the least recently seen are forgotten first).
    """

    MAX_CHANGES = 64  # more than any sensible threshold; keeps a rocking sensor's history small

    def __init__(self, max_keys: int = 100_000):
        self.max_keys = max_keys
        self._state: OrderedDict[str, tuple[str, tuple[datetime, ...]]] = OrderedDict()

    @staticmethod
    def is_flapping(changes: Sequence[datetime], now: datetime, threshold: int, window: timedelta) -> bool:
        """Whether at least ``threshold`` state changes fall in ``(now - window, now]``."""
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        start = now - window
        return sum(1 for t in changes if start < t <= now) >= threshold

    @staticmethod
    def record(changes: Sequence[datetime], at: datetime, window: timedelta,
               limit: int = MAX_CHANGES) -> tuple[datetime, ...]:
        """The change times with ``at`` added in order, dropping those older than ``window`` before the latest."""
        out = sorted(changes)  # a stored list may come back unsorted; cheap at this size
        bisect.insort(out, at)
        horizon = out[-1] - window
        out = [t for t in out if t > horizon]
        return tuple(out[-limit:])

    def observe(self, key: str, state: str, at: datetime, threshold: int, window: timedelta) -> bool:
        """Record an alarm's state for a fingerprint; whether the fingerprint is flapping after it."""
        last, changes = self._state.pop(key, (None, ()))
        if last is not None and state != last:
            changes = self.record(changes, at, window)
        self._state[key] = (state, changes)
        while len(self._state) > self.max_keys:
            self._state.popitem(last=False)
        return self.is_flapping(changes, at, threshold, window)

    def changes(self, key: str) -> tuple[datetime, ...]:
        """The change times kept for a fingerprint (empty when unknown)."""
        return self._state.get(key, (None, ()))[1]
