"""Rule sets from JSON, pure: parsing (every error names the rule and the reason) and the checks a rule set must
pass before it is published (known, active departments; every category routable)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import time
from typing import Any

from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_dispatch.rules.engine import (
    CHANNELS,
    PRIORITIES,
    DepartmentInfo,
    HourWindow,
    Match,
    Outcome,
    RoutingContext,
    Rule,
    RuleSet,
)

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

MATCH_KEYS = ("category_prefix", "towns", "villages", "grids", "department_areas", "channels", "keywords", "hours",
              "priorities")
OUTCOME_KEYS = ("department", "department_type", "triage", "priority")
RULE_KEYS = ("id", "order", "match", "outcome", "note")


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
