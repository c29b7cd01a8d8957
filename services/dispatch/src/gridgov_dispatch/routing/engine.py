"""The dispatch rule engine (派遣规则引擎), pure: which department a report goes to, and why.

A rule set is data (JSON): each rule has a match (all of its conditions must hold) and an outcome (a department,
a department type resolved to the town branch or the city bureau, or triage 人工分拨). The most specific matching
rule wins — by location level, then category-prefix length, then the number of other conditions — then the
rule's explicit ``order``, then its id, so a decision never depends on the order of the list. Every decision
carries a trace of every rule (matched or the first condition that failed) for the dispatcher who reads the
ticket, and ``replay`` shows what a candidate rule set would have changed over past cases before it is published.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from gridgov_common.errors import ErrorDetail, ValidationFailed

CHANNELS = frozenset({"patrol", "hotline", "citizen", "open311"})
PRIORITIES = frozenset({"normal", "urgent"})
ROUTABLE_LOCATION_STATUSES = frozenset({"located", "town_only"})
CITY_TIMEZONE = ZoneInfo("Asia/Shanghai")

MAX_RULES = 1000
MAX_VALUES = 500  # codes or keywords in one condition
RULE_ID = re.compile(r"^[a-z0-9-]{1,64}$")
DEPARTMENT_CODE = re.compile(r"^[a-z0-9_-]{1,50}$")
AREA_CODE = re.compile(r"^[a-z0-9_-]{1,50}$")
PREFIX = re.compile(r"^[0-9]{2,5}$")  # a major class (2 digits) up to a full minor-class code (5)
HOURS = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$")
CODE_PATTERNS = {
    "towns": re.compile(r"^[0-9]{9}$"),
    "villages": re.compile(r"^[0-9]{12}$"),
    "grids": re.compile(r"^[0-9]{14,15}$"),
}

# Location levels of a rule's finest location condition: a grid beats a village beats a town beats an area.
LEVEL_NONE, LEVEL_AREA, LEVEL_TOWN, LEVEL_VILLAGE, LEVEL_GRID = range(5)
LEVEL_NAMES = {LEVEL_GRID: "grid", LEVEL_VILLAGE: "village", LEVEL_TOWN: "town", LEVEL_AREA: "department-area",
               LEVEL_NONE: "none"}

MATCH_KEYS = ("category_prefix", "towns", "villages", "grids", "department_areas", "channels", "keywords", "hours",
              "priorities")
OUTCOME_KEYS = ("department", "department_type", "triage", "priority")
RULE_KEYS = ("id", "order", "match", "outcome", "note")


@dataclass(frozen=True, kw_only=True)
class ReportFacts:
    """What routing knows of a report: its category, channel, text, where it is and when it came in."""

    category_code: str
    channel: str
    description: str = ""
    location_status: str
    town_code: str | None = None
    village_code: str | None = None
    grid_code: str | None = None
    department_areas: frozenset[str] = frozenset()
    priority: str = "normal"
    at: datetime


@dataclass(frozen=True)
class HourWindow:
    """Local clock hours ``start``–``end`` (end excluded); a window whose end is before its start wraps midnight."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """Whether a local time of day falls in the window."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, kw_only=True)
class Match:
    """A rule's conditions; None means "no condition", and every condition given must hold."""

    category_prefix: str | None = None
    towns: frozenset[str] | None = None
    villages: frozenset[str] | None = None
    grids: frozenset[str] | None = None
    department_areas: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    keywords: tuple[str, ...] | None = None
    hours: HourWindow | None = None
    priorities: frozenset[str] | None = None

    @property
    def location_level(self) -> int:
        """The level of the finest location condition (grid > village > town > department area > none)."""
        if self.grids is not None:
            return LEVEL_GRID
        if self.villages is not None:
            return LEVEL_VILLAGE
        if self.towns is not None:
            return LEVEL_TOWN
        if self.department_areas is not None:
            return LEVEL_AREA
        return LEVEL_NONE

    @property
    def other_conditions(self) -> int:
        """How many of the conditions other than location and category are given."""
        return sum(c is not None for c in (self.channels, self.keywords, self.hours, self.priorities))

    @property
    def unconditional(self) -> bool:
        """Whether the rule asks for nothing but (at most) a category prefix."""
        return self.location_level == LEVEL_NONE and self.other_conditions == 0


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """Where a matching rule sends the report: exactly one of department, department_type or triage."""

    department: str | None = None
    department_type: str | None = None
    triage: bool = False
    priority: str | None = None

    def describe(self) -> str:
        """The outcome in a few words."""
        target = ("triage" if self.triage else f"department {self.department}" if self.department
                  else f"department type {self.department_type}")
        return target + (f", priority {self.priority}" if self.priority else "")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One dispatch rule: id, explicit tie-break order (lower first), match, outcome and a note for readers."""

    id: str
    order: int = 0
    match: Match = field(default_factory=Match)
    outcome: Outcome
    note: str = ""

    @property
    def specificity(self) -> tuple[int, int, int]:
        """(location level, category-prefix length, number of other conditions): greater is more specific."""
        prefix = self.match.category_prefix
        return (self.match.location_level, len(prefix) if prefix else 0, self.match.other_conditions)

    def rank(self) -> tuple[int, int, int, int, str]:
        """The sort key of precedence: most specific first, then lower order, then id."""
        level, prefix, others = self.specificity
        return (-level, -prefix, -others, self.order, self.id)


@dataclass(frozen=True)
class RuleSet:
    """A parsed, valid set of rules; ``version`` is the stored version it came from, if any."""

    rules: tuple[Rule, ...]
    version: int | None = None

    def to_data(self) -> dict[str, Any]:
        """The JSON form that ``parse_rule_set`` reads back."""
        return {"rules": [rule_to_data(r) for r in self.rules]}


@dataclass(frozen=True)
class DepartmentInfo:
    """What routing needs of a department: its type (the city bureau's code), level, town and whether active."""

    code: str
    department_type: str
    level: str = "city"  # city | town
    town_code: str | None = None
    active: bool = True


@dataclass(frozen=True)
class RoutingContext:
    """The departments rules resolve to, and the time zone their hours are read in."""

    departments: Mapping[str, DepartmentInfo]
    timezone: ZoneInfo = CITY_TIMEZONE

    @classmethod
    def of(cls, departments: Iterable[DepartmentInfo], timezone: ZoneInfo = CITY_TIMEZONE) -> RoutingContext:
        """A context from a list of departments."""
        return cls({d.code: d for d in departments}, timezone)

    def city_bureau(self, department_type: str) -> DepartmentInfo | None:
        """The city bureau of a department type (the one whose code is the type, else any city-level one)."""
        bureau = self.departments.get(department_type)
        if bureau is not None and bureau.level == "city" and bureau.department_type == department_type:
            return bureau
        candidates = sorted((d for d in self.departments.values()
                             if d.level == "city" and d.department_type == department_type), key=lambda d: d.code)
        return candidates[0] if candidates else None

    def resolve_type(self, department_type: str, town_code: str | None) -> tuple[str | None, str]:
        """The department of a type for a town: its active town branch, else the active city bureau; and why."""
        if town_code:
            branches = sorted((d for d in self.departments.values()
                               if d.level == "town" and d.department_type == department_type
                               and d.town_code == town_code and d.active), key=lambda d: d.code)
            if branches:
                return branches[0].code, f"town branch of {department_type} in town {town_code}"
        bureau = self.city_bureau(department_type)
        if bureau is None or not bureau.active:
            return None, f"department type {department_type} has no active city bureau"
        return bureau.code, f"city bureau of {department_type} (no active town branch in town {town_code})" \
            if town_code else f"city bureau of {department_type}"


@dataclass(frozen=True)
class RuleTrace:
    """How one rule fared: matched or not, the first condition that failed or the conditions that held."""

    rule_id: str
    matched: bool
    specificity: tuple[int, int, int]
    failed: str | None = None
    held: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """The JSON form (kept in the ticket for the dispatcher)."""
        data: dict[str, Any] = {"rule_id": self.rule_id, "matched": self.matched,
                                "specificity": list(self.specificity)}
        if self.failed is not None:
            data["failed"] = self.failed
        else:
            data["held"] = list(self.held)
        return data


@dataclass(frozen=True)
class Decision:
    """Where a report goes (None = triage 人工分拨), at what priority, by which rule, why, and the whole trace."""

    department: str | None
    priority: str
    rule_id: str | None
    reason: str
    trace: tuple[RuleTrace, ...] = ()

    @property
    def triage(self) -> bool:
        """Whether the command centre must decide (人工分拨)."""
        return self.department is None

    def to_data(self) -> dict[str, Any]:
        """The JSON form."""
        return {"department": self.department, "priority": self.priority, "rule_id": self.rule_id,
                "reason": self.reason, "trace": [t.to_data() for t in self.trace]}


# --- deciding -------------------------------------------------------------------------------------------------


def _evaluate(rule: Rule, report: ReportFacts, local: time) -> RuleTrace:
    """Check a rule's conditions in a fixed order; stop at the first that fails."""
    m, held = rule.match, []

    def fail(text: str) -> RuleTrace:
        return RuleTrace(rule.id, False, rule.specificity, failed=text)

    if m.category_prefix is not None:
        if not report.category_code.startswith(m.category_prefix):
            return fail(f"category: {report.category_code} does not start with {m.category_prefix}")
        held.append(f"category prefix {m.category_prefix}")
    for name, value, label in (("grids", report.grid_code, "grid"), ("villages", report.village_code, "village"),
                               ("towns", report.town_code, "town")):
        codes = getattr(m, name)
        if codes is not None:
            if value not in codes:
                return fail(f"{name}: {label} {value or 'unknown'} is not one of {', '.join(sorted(codes))}")
            held.append(f"{label} {value}")
    if m.department_areas is not None:
        inside = sorted(m.department_areas & report.department_areas)
        if not inside:
            return fail(f"department_areas: the point is in none of {', '.join(sorted(m.department_areas))}")
        held.append(f"department area {inside[0]}")
    if m.channels is not None:
        if report.channel not in m.channels:
            return fail(f"channels: channel {report.channel} is not one of {', '.join(sorted(m.channels))}")
        held.append(f"channel {report.channel}")
    if m.keywords is not None:
        found = next((k for k in m.keywords if k in report.description), None)
        if found is None:
            return fail(f"keywords: the description contains none of {', '.join(m.keywords)}")
        held.append(f"keyword {found}")
    if m.hours is not None:
        if not m.hours.contains(local):
            return fail(f"hours: {local:%H:%M} local is outside {m.hours}")
        held.append(f"hours {m.hours} ({local:%H:%M} local)")
    if m.priorities is not None:
        if report.priority not in m.priorities:
            return fail(f"priorities: priority {report.priority} is not one of {', '.join(sorted(m.priorities))}")
        held.append(f"priority {report.priority}")
    if not held:
        held.append("no conditions")
    return RuleTrace(rule.id, True, rule.specificity, held=tuple(held))


def _kind(rule: Rule) -> str:
    """A rule's specificity in words: "grid-level rule", "category-only rule", "unconditional rule"."""
    level = rule.match.location_level
    if level != LEVEL_NONE:
        return f"{LEVEL_NAMES[level]}-level rule"
    if rule.match.other_conditions:
        return "conditional rule"
    return "category-only rule" if rule.match.category_prefix else "unconditional rule"


def _why(winner: Rule, runner_up: Rule | None) -> str:
    """One sentence: why the winner beat the best of the other matching rules."""
    if runner_up is None:
        return f"{_kind(winner)} {winner.id} is the only rule that matches"
    (wl, wp, wo), (rl, rp, ro) = winner.specificity, runner_up.specificity
    if wl != rl:
        return f"{_kind(winner)} {winner.id} beats {_kind(runner_up)} {runner_up.id}"
    if wp != rp:
        theirs = f"prefix {runner_up.match.category_prefix}" if rp else "no category prefix"
        return (f"rule {winner.id} with the longer category prefix {winner.match.category_prefix} beats rule "
                f"{runner_up.id} with {theirs}")
    if wo != ro:
        return (f"rule {winner.id} with {wo} further condition(s) beats rule {runner_up.id} with {ro} at the same "
                f"location level and prefix")
    if winner.order != runner_up.order:
        return (f"rule {winner.id} (order {winner.order}) beats the equally specific rule {runner_up.id} "
                f"(order {runner_up.order})")
    return f"rule {winner.id} beats the equally specific rule {runner_up.id} of the same order by id"


def decide(report: ReportFacts, rules: RuleSet, context: RoutingContext) -> Decision:
    """Route a report with a rule set: the most specific matching rule wins; unlocated reports go to triage."""
    if report.at.tzinfo is None:
        raise ValueError("report.at must be tz-aware")
    local = report.at.astimezone(context.timezone).time().replace(second=0, microsecond=0)
    ordered = sorted(rules.rules, key=Rule.rank)
    trace = tuple(_evaluate(rule, report, local) for rule in ordered)
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
    reason = _why(winner, runner_up)
    if outcome.triage:
        return Decision(None, priority, winner.id, f"{reason}; it sends the report to triage", trace)
    if outcome.department is not None:
        info = context.departments.get(outcome.department)
        if info is None or not info.active:
            state = "unknown" if info is None else "inactive"
            return Decision(None, priority, winner.id,
                            f"{reason}; its department {outcome.department} is {state}, so triage", trace)
        return Decision(outcome.department, priority, winner.id, reason, trace)
    assert outcome.department_type is not None
    department, how = context.resolve_type(outcome.department_type, report.town_code)
    if department is None:
        return Decision(None, priority, winner.id, f"{reason}; {how}, so triage", trace)
    return Decision(department, priority, winner.id, f"{reason}; {how}", trace)


# --- parsing --------------------------------------------------------------------------------------------------


class _Errors:
    """Collects every error of a rule set, each naming the rule by position and id."""

    def __init__(self) -> None:
        self.details: list[ErrorDetail] = []

    def add(self, path: str, rule_id: str | None, reason: str) -> None:
        who = f"rule {rule_id!r}: " if rule_id else ""
        self.details.append(ErrorDetail(path, who + reason))


def _strings(value: Any, path: str, rule_id: str | None, errors: _Errors, pattern: re.Pattern[str] | None = None,
             allowed: frozenset[str] | None = None) -> list[str] | None:
    """A non-empty list of strings (each matching ``pattern`` or in ``allowed``), or None after an error."""
    if not isinstance(value, list) or not value or len(value) > MAX_VALUES:
        errors.add(path, rule_id, f"must be a non-empty list of at most {MAX_VALUES} strings")
        return None
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > 100:
            errors.add(path, rule_id, f"{item!r} is not a non-empty string of at most 100 characters")
            return None
        if pattern is not None and not pattern.match(item):
            errors.add(path, rule_id, f"{item!r} is not a valid code")
            return None
        if allowed is not None and item not in allowed:
            errors.add(path, rule_id, f"{item!r} is not one of {', '.join(sorted(allowed))}")
            return None
        out.append(item)
    return out


def _parse_hours(value: Any, path: str, rule_id: str | None, errors: _Errors) -> HourWindow | None:
    m = HOURS.match(value) if isinstance(value, str) else None
    if m is None:
        errors.add(path, rule_id, f"{value!r} is not HH:MM-HH:MM (24-hour local time, e.g. 22:00-06:00)")
        return None
    window = HourWindow(time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4])))
    if window.start == window.end:
        errors.add(path, rule_id, f"{value!r} is empty: start and end are the same (leave hours out for all day)")
        return None
    return window


def _unknown_keys(data: dict, known: Sequence[str], path: str, rule_id: str | None, errors: _Errors) -> None:
    for key in data:
        if key not in known:
            errors.add(f"{path}.{key}", rule_id, f"unknown key {key!r}; known: {', '.join(known)}")


def _parse_match(data: Any, path: str, rule_id: str | None, errors: _Errors) -> Match | None:
    if not isinstance(data, dict):
        errors.add(path, rule_id, "must be an object")
        return None
    before = len(errors.details)
    _unknown_keys(data, MATCH_KEYS, path, rule_id, errors)
    fields: dict[str, Any] = {}
    prefix = data.get("category_prefix")
    if "category_prefix" in data:
        if not isinstance(prefix, str) or not PREFIX.match(prefix):
            errors.add(f"{path}.category_prefix", rule_id, f"{prefix!r} is not 2 to 5 digits")
        else:
            fields["category_prefix"] = prefix
    for key, pattern in (*CODE_PATTERNS.items(), ("department_areas", AREA_CODE)):
        if key in data and (codes := _strings(data[key], f"{path}.{key}", rule_id, errors, pattern)) is not None:
            fields[key] = frozenset(codes)
    if "channels" in data and (v := _strings(data["channels"], f"{path}.channels", rule_id, errors,
                                             allowed=CHANNELS)) is not None:
        fields["channels"] = frozenset(v)
    if "priorities" in data and (v := _strings(data["priorities"], f"{path}.priorities", rule_id, errors,
                                               allowed=PRIORITIES)) is not None:
        fields["priorities"] = frozenset(v)
    if "keywords" in data and (v := _strings(data["keywords"], f"{path}.keywords", rule_id, errors)) is not None:
        fields["keywords"] = tuple(dict.fromkeys(v))
    if "hours" in data and (window := _parse_hours(data["hours"], f"{path}.hours", rule_id, errors)):
        fields["hours"] = window
    return Match(**fields) if len(errors.details) == before else None


def _parse_outcome(data: Any, path: str, rule_id: str | None, errors: _Errors) -> Outcome | None:
    if not isinstance(data, dict):
        errors.add(path, rule_id, "must be an object")
        return None
    before = len(errors.details)
    _unknown_keys(data, OUTCOME_KEYS, path, rule_id, errors)
    department, department_type, triage = data.get("department"), data.get("department_type"), data.get("triage")
    if triage is not None and not isinstance(triage, bool):
        errors.add(f"{path}.triage", rule_id, "must be true or false")
    targets = [k for k, v in (("department", department), ("department_type", department_type),
                              ("triage", triage)) if v not in (None, False)]
    if len(targets) != 1:
        errors.add(path, rule_id, "must have exactly one of department, department_type or triage: true"
                   + (f" (has {', '.join(targets)})" if targets else " (has none)"))
    for key, value in (("department", department), ("department_type", department_type)):
        if value is not None and (not isinstance(value, str) or not DEPARTMENT_CODE.match(value)):
            errors.add(f"{path}.{key}", rule_id, f"{value!r} is not a department code")
    priority = data.get("priority")
    if priority is not None and (not isinstance(priority, str) or priority not in PRIORITIES):
        errors.add(f"{path}.priority", rule_id, f"{priority!r} is not one of {', '.join(sorted(PRIORITIES))}")
    if len(errors.details) != before:
        return None
    return Outcome(department=department, department_type=department_type, triage=bool(triage), priority=priority)


def parse_rule_set(data: dict) -> RuleSet:
    """A rule set from its JSON form ``{"rules": [...]}``; ValidationFailed naming each bad rule and why."""
    errors = _Errors()
    if not isinstance(data, dict):
        raise ValidationFailed("a rule set must be an object", [ErrorDetail("rules", "must be an object")])
    _unknown_keys(data, ("rules",), "$", None, errors)
    items = data.get("rules")
    if not isinstance(items, list) or not items or len(items) > MAX_RULES:
        errors.add("rules", None, f"must be a non-empty list of at most {MAX_RULES} rules")
        raise ValidationFailed("the rule set is invalid", errors.details)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        path = f"rules[{i}]"
        if not isinstance(item, dict):
            errors.add(path, None, "must be an object")
            continue
        raw_id = item.get("id")
        rule_id = raw_id if isinstance(raw_id, str) and RULE_ID.match(raw_id) else None
        before = len(errors.details)
        _unknown_keys(item, RULE_KEYS, path, rule_id, errors)
        if rule_id is None:
            errors.add(f"{path}.id", None, f"{raw_id!r} is not an id of 1 to 64 characters a-z, 0-9 and -")
        elif rule_id in seen:
            errors.add(f"{path}.id", rule_id, f"duplicate id: rules[{seen[rule_id]}] has it too")
        else:
            seen[rule_id] = i
        order = item.get("order", 0)
        if isinstance(order, bool) or not isinstance(order, int) or abs(order) > 10**9:
            errors.add(f"{path}.order", rule_id, f"{order!r} is not an integer")
        note = item.get("note", "")
        if not isinstance(note, str) or len(note) > 500:
            errors.add(f"{path}.note", rule_id, "must be a string of at most 500 characters")
        match = _parse_match(item.get("match", {}), f"{path}.match", rule_id, errors)
        if "outcome" not in item:
            errors.add(f"{path}.outcome", rule_id, "is required")
            continue
        outcome = _parse_outcome(item["outcome"], f"{path}.outcome", rule_id, errors)
        if len(errors.details) == before and match is not None and outcome is not None and rule_id is not None:
            rules.append(Rule(id=rule_id, order=order, match=match, outcome=outcome, note=note))
    if errors.details:
        raise ValidationFailed("the rule set is invalid", errors.details)
    return RuleSet(tuple(rules))


def rule_to_data(rule: Rule) -> dict[str, Any]:
    """A rule's JSON form (sets sorted, absent conditions left out)."""
    m, o = rule.match, rule.outcome
    match: dict[str, Any] = {}
    if m.category_prefix is not None:
        match["category_prefix"] = m.category_prefix
    for key in ("towns", "villages", "grids", "department_areas", "channels"):
        if (values := getattr(m, key)) is not None:
            match[key] = sorted(values)
    if m.keywords is not None:
        match["keywords"] = list(m.keywords)
    if m.hours is not None:
        match["hours"] = str(m.hours)
    if m.priorities is not None:
        match["priorities"] = sorted(m.priorities)
    outcome: dict[str, Any] = ({"triage": True} if o.triage else {"department": o.department} if o.department
                               else {"department_type": o.department_type})
    if o.priority is not None:
        outcome["priority"] = o.priority
    return {"id": rule.id, "order": rule.order, "match": match, "outcome": outcome, "note": rule.note}


# --- checking against the departments and the categories ---------------------------------------------------------


def check_rule_set(rules: RuleSet, category_codes: Iterable[str],
                   departments: Iterable[DepartmentInfo]) -> list[ErrorDetail]:
    """What makes a parsed rule set unfit to publish: unknown or inactive departments, unroutable categories."""
    context = RoutingContext.of(departments)
    details: list[ErrorDetail] = []
    position = {r.id: i for i, r in enumerate(rules.rules)}
    for i, rule in enumerate(rules.rules):
        o = rule.outcome
        if o.department is not None:
            info = context.departments.get(o.department)
            if info is None or not info.active:
                state = "unknown" if info is None else "inactive"
                details.append(ErrorDetail(f"rules[{i}].outcome.department",
                                           f"rule {rule.id!r}: department {o.department} is {state}"))
        if o.department_type is not None:
            bureau = context.city_bureau(o.department_type)
            if bureau is None or not bureau.active:
                state = "unknown" if bureau is None else "inactive"
                details.append(ErrorDetail(f"rules[{i}].outcome.department_type",
                                           f"rule {rule.id!r}: department type {o.department_type} is {state} "
                                           "(no active city bureau)"))
    for code in sorted(set(category_codes)):
        covering = [r for r in rules.rules
                    if r.match.category_prefix is None or code.startswith(r.match.category_prefix)]
        if any(r.match.unconditional and not r.outcome.triage for r in covering):
            continue
        named = ", ".join(f"rules[{position[r.id]}] {r.id!r}" for r in covering[:5])
        why = f"only conditional or triage rules match it ({named})" if covering else "no rule matches it"
        details.append(ErrorDetail("rules", f"category {code} is unroutable: {why}; add a rule with only a "
                                            "category prefix that sends it to a department"))
    return details


# --- replay ------------------------------------------------------------------------------------------------------

TRIAGE = "triage"  # the key of triage in per-department counts


@dataclass(frozen=True)
class ReplayCase:
    """A past case: what routing knew, its ticket, and the department it actually went to."""

    ticket_id: str
    facts: ReportFacts
    actual_department: str | None = None


@dataclass(frozen=True)
class ChangedCase:
    """A case whose decision differs between the current and the candidate rule set."""

    ticket_id: str
    category_code: str
    actual_department: str | None
    before: Decision
    after: Decision


@dataclass(frozen=True)
class DepartmentShift:
    """How many cases a department (or triage) gets before and after."""

    before: int
    after: int


@dataclass(frozen=True)
class ReplayReport:
    """What a candidate rule set would have changed over past cases."""

    total: int
    changed: int
    department_changed: int
    priority_changed: int
    to_triage: int
    from_triage: int
    agree_actual_before: int  # decisions that name the department the case actually went to
    agree_actual_after: int
    by_department: dict[str, DepartmentShift]
    changed_cases: tuple[ChangedCase, ...]
    changed_cases_truncated: bool


def replay(cases: Iterable[ReplayCase], current: RuleSet, candidate: RuleSet, context: RoutingContext,
           max_changed: int = 200) -> ReplayReport:
    """Run both rule sets over past cases: totals, changes, moves to and from triage, per-department counts."""
    total = changed = dep_changed = pri_changed = to_triage = from_triage = agree_before = agree_after = 0
    before_counts: Counter[str] = Counter()
    after_counts: Counter[str] = Counter()
    changed_cases: list[ChangedCase] = []
    for case in cases:
        total += 1
        before, after = decide(case.facts, current, context), decide(case.facts, candidate, context)
        before_counts[before.department or TRIAGE] += 1
        after_counts[after.department or TRIAGE] += 1
        if case.actual_department is not None:
            agree_before += before.department == case.actual_department
            agree_after += after.department == case.actual_department
        moved, reprioritised = before.department != after.department, before.priority != after.priority
        if not (moved or reprioritised):
            continue
        changed += 1
        dep_changed += moved
        pri_changed += reprioritised
        to_triage += moved and after.triage
        from_triage += moved and before.triage
        if len(changed_cases) < max_changed:
            changed_cases.append(ChangedCase(case.ticket_id, case.facts.category_code, case.actual_department,
                                             before, after))
    by_department = {code: DepartmentShift(before_counts[code], after_counts[code])
                     for code in sorted(set(before_counts) | set(after_counts))}
    return ReplayReport(total, changed, dep_changed, pri_changed, to_triage, from_triage, agree_before, agree_after,
                        by_department, tuple(changed_cases), changed > len(changed_cases))
