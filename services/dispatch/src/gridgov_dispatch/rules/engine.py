"""The dispatch rules (派遣规则), pure: what a rule is, and which department a report goes to, and why.

A rule set is data (JSON): each rule has a match (all of its conditions must hold) and an outcome (a department,
a department type resolved to the town branch or the city bureau, or triage 人工分拨). The most specific matching
rule wins — by location level, then category-prefix length, then the number of other conditions — then the
rule's explicit ``order``, then its id, so a decision never depends on the order of the list. Every decision
carries a trace of every rule (matched or the first condition that failed) for the dispatcher who reads the
ticket. Reading a rule set from JSON and checking it is ``rules.parsing``; comparing two rule sets over past cases
is ``rules.replay``.

A report is tested only against the rules its category can match (issue #18): a rule set keeps, per category code
it has seen, the rules whose category prefix the code starts with (or that have none) and the trace entries of
all the others, which fail on the category whatever else the report says. The decision and its trace are the
same as testing every rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cached_property
from json import dumps
from typing import Any
from zoneinfo import ZoneInfo

CHANNELS = frozenset({"patrol", "hotline", "citizen", "open311", "video_ai", "iot"})  # video_ai, iot: sensing
PRIORITIES = frozenset({"normal", "urgent"})
# village_only (issue #17): placed from an address naming a village; village and town rules apply, and a department
# type resolves to the town's branch exactly as for town_only.
ROUTABLE_LOCATION_STATUSES = frozenset({"located", "village_only", "town_only"})
CITY_TIMEZONE = ZoneInfo("Asia/Shanghai")

# Location levels of a rule's finest location condition: a grid beats a village beats a town beats an area.
LEVEL_NONE, LEVEL_AREA, LEVEL_TOWN, LEVEL_VILLAGE, LEVEL_GRID = range(5)
LEVEL_NAMES = {LEVEL_GRID: "grid", LEVEL_VILLAGE: "village", LEVEL_TOWN: "town", LEVEL_AREA: "department-area",
               LEVEL_NONE: "none"}


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

    @cached_property
    def specificity(self) -> tuple[int, int, int]:
        """(location level, category-prefix length, number of other conditions): greater is more specific
        (computed once: a rule is immutable, and every decision's trace names it for each rule)."""
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

    @cached_property
    def ordered(self) -> tuple[Rule, ...]:
        """The rules in precedence order (sorted once per rule set, not once per report)."""
        return tuple(sorted(self.rules, key=Rule.rank))

    def plan(self, category_code: str) -> CategoryPlan:
        """The rules a report of ``category_code`` is tested against, and the trace entries of the rules it
        cannot match (built once per category code and rule set; kept while the kept plans hold at most
        ``PLAN_ENTRIES_KEPT`` trace entries in all)."""
        plans = self._plans
        found = plans.get(category_code)
        if found is None:
            found = CategoryPlan.of(self.ordered, category_code)
            # Codes come from the catalog (a few hundred); past the budget (a flood of unknown codes, a rule set
            # of a thousand rules) a plan is built for the report and not kept, so memory stays bounded.
            if (len(plans) + 1) * len(self.rules) <= PLAN_ENTRIES_KEPT:
                plans[category_code] = found
        return found

    @cached_property
    def _plans(self) -> dict[str, CategoryPlan]:
        # A plain dict: two threads planning the same code store equal plans, and a lost store is only planned again.
        return {}


# Trace entries a rule set keeps in its plans, ~300 bytes each: 3,700 category codes of the 27 default rules.
PLAN_ENTRIES_KEPT = 100_000


@dataclass(frozen=True)
class CategoryPlan:
    """How a rule set tests a report of one category code.

    ``template`` is the trace in precedence order with None where a candidate's entry goes; ``candidates`` are
    the rules whose category prefix the code starts with (or that have none), with their places in the template.
    Every other rule fails on the category first, so its entry depends only on the code and is built once here.
    """

    template: tuple[RuleTrace | None, ...]
    candidates: tuple[tuple[int, Rule], ...]

    @classmethod
    def of(cls, ordered: tuple[Rule, ...], category_code: str) -> CategoryPlan:
        """The plan of ``category_code`` over rules in precedence order."""
        template: list[RuleTrace | None] = []
        candidates: list[tuple[int, Rule]] = []
        for position, rule in enumerate(ordered):
            prefix = rule.match.category_prefix
            if prefix is None or category_code.startswith(prefix):
                template.append(None)
                candidates.append((position, rule))
            else:
                template.append(RuleTrace(rule.id, False, rule.specificity,
                                          failed=_category_failed(category_code, prefix)))
        return cls(tuple(template), tuple(candidates))


@dataclass(frozen=True)
class DepartmentInfo:
    """What routing needs of a department: its type (the city bureau's code), level, town and whether active."""

    code: str
    department_type: str
    level: str = "city"  # city | town
    town_code: str | None = None
    active: bool = True


RESOLVED_KEPT = 65536  # (department type, town) answers a routing context keeps


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
        """The department of a type for a town: its active town branch, else the active city bureau; and why
        (looked up once per type and town: a context is immutable and kept while the department rows are)."""
        key = (department_type, town_code)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve_type(department_type, town_code)
            if len(self._resolved) < RESOLVED_KEPT:
                self._resolved[key] = found
        return found

    @cached_property
    def _resolved(self) -> dict[tuple[str, str | None], tuple[str | None, str]]:
        return {}

    def _resolve_type(self, department_type: str, town_code: str | None) -> tuple[str | None, str]:
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

    @cached_property
    def json(self) -> str:
        """``to_data`` as JSON text, as ``json.dumps(..., ensure_ascii=False)`` writes it (built once per entry:
        the entries of the rules a category cannot match are shared by every report of that category)."""
        return dumps(self.to_data(), ensure_ascii=False)


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

    def to_json(self) -> str:
        """``to_data`` as JSON text, the same as ``json.dumps(self.to_data(), ensure_ascii=False)``, with each trace
        entry's text reused from the entry."""
        head = dumps({"department": self.department, "priority": self.priority, "rule_id": self.rule_id,
                      "reason": self.reason}, ensure_ascii=False)
        return f'{head[:-1]}, "trace": [{", ".join(t.json for t in self.trace)}]}}'


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


# --- deciding -------------------------------------------------------------------------------------------------


def _category_failed(category_code: str, prefix: str) -> str:
    """Why a rule with category prefix ``prefix`` does not match a report of ``category_code``."""
    return f"category: {category_code} does not start with {prefix}"


def _evaluate(rule: Rule, report: ReportFacts, local: time) -> RuleTrace:
    """Check a rule's conditions in a fixed order; stop at the first that fails."""
    m, held = rule.match, []

    def fail(text: str) -> RuleTrace:
        return RuleTrace(rule.id, False, rule.specificity, failed=text)

    if m.category_prefix is not None:
        if not report.category_code.startswith(m.category_prefix):
            return fail(_category_failed(report.category_code, m.category_prefix))
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
    plan = rules.plan(report.category_code)
    entries = list(plan.template)
    matched: list[Rule] = []  # in precedence order, as the candidates are
    for position, rule in plan.candidates:
        entry = entries[position] = _evaluate(rule, report, local)
        if entry.matched:
            matched.append(rule)
    trace: tuple[RuleTrace, ...] = tuple(entries)  # type: ignore[arg-type]  # every None was a candidate's place
    if report.location_status not in ROUTABLE_LOCATION_STATUSES:
        return Decision(None, report.priority, None,
                        f"the report is not located to a town (location_status {report.location_status}): "
                        "triage by the command centre", trace)
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
