"""Routing (派遣规则), pure: which department a category goes to and how long it has.

A rule matches a category code by prefix and the longest matching prefix wins, so a major class
(``"04"`` 突发事件) can have a default department while a minor class (``"04002"`` 自来水管破裂) overrides it.
The walking skeleton counts time limits in clock hours (紧急工作时); working hours and working days come with
the SLA calendar, and the full versioned event catalog will build a ``RoutingTable`` from its own rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

TimeUnit = Literal["clock_hours"]

# Only a report placed at least in a town can go straight to a department; the rest await triage.
ROUTABLE_LOCATION_STATUSES = frozenset({"located", "town_only"})


@dataclass(frozen=True)
class TimeLimit:
    """A handling time limit (处置时限): an amount of a unit."""

    amount: int
    unit: TimeUnit = "clock_hours"

    def deadline_from(self, start: datetime) -> datetime:
        """The deadline of work that starts at ``start`` (tz-aware)."""
        if start.tzinfo is None:
            raise ValueError("start must be tz-aware")
        if self.unit == "clock_hours":
            return start + timedelta(hours=self.amount)
        raise ValueError(f"unsupported time unit {self.unit!r}")


@dataclass(frozen=True)
class RoutingRule:
    """Categories whose code starts with ``prefix`` go to ``department`` within ``time_limit``."""

    prefix: str
    department: str
    time_limit: TimeLimit
    covers: str = ""


@dataclass(frozen=True)
class RoutingDecision:
    """Where a ticket goes (派遣) and when it is due."""

    department: str
    deadline: datetime
    rule: RoutingRule


class RoutingTable:
    """A set of prefix rules; the longest prefix that matches a category code wins."""

    def __init__(self, rules: Iterable[RoutingRule]):
        self.rules: tuple[RoutingRule, ...] = tuple(rules)
        by_prefix: dict[str, RoutingRule] = {}
        for rule in self.rules:
            if not rule.prefix.isdigit():
                raise ValueError(f"rule prefix {rule.prefix!r} is not digits")
            if rule.prefix in by_prefix:
                raise ValueError(f"two rules for prefix {rule.prefix!r}")
            if rule.time_limit.amount <= 0:
                raise ValueError(f"rule {rule.prefix!r} has a non-positive time limit")
            by_prefix[rule.prefix] = rule
        self._by_prefix = by_prefix
        self._lengths = sorted({len(p) for p in by_prefix}, reverse=True)

    def rule_for(self, category_code: str) -> RoutingRule | None:
        """The rule with the longest prefix of ``category_code``, or None."""
        for length in self._lengths:
            if len(category_code) >= length and (rule := self._by_prefix.get(category_code[:length])):
                return rule
        return None

    def route(self, category_code: str, location_status: str, at: datetime) -> RoutingDecision | None:
        """The department and deadline for a located report, or None for manual triage (人工分拨)."""
        if location_status not in ROUTABLE_LOCATION_STATUSES:
            return None
        rule = self.rule_for(category_code)
        if rule is None:
            return None
        return RoutingDecision(rule.department, rule.time_limit.deadline_from(at), rule)


def _h(hours: int) -> TimeLimit:
    return TimeLimit(hours, "clock_hours")


# The skeleton's table. Time limits follow city rules where FACTS.md quotes one (exposed garbage 4 h,
# street cleaning 2 h, illegal construction stop-work 4 h), counted in clock hours until the SLA calendar.
DEFAULT_RULES: tuple[RoutingRule, ...] = (
    RoutingRule("01", "urban-management", _h(24), "市容环境"),
    RoutingRule("01001", "urban-management", _h(4), "私搭乱建: stop work"),
    RoutingRule("01002", "urban-management", _h(4), "暴露垃圾"),
    RoutingRule("01003", "urban-management", _h(8), "积存垃圾渣土"),
    RoutingRule("01004", "urban-management", _h(2), "道路不洁"),
    RoutingRule("02", "urban-management", _h(24), "宣传广告"),
    RoutingRule("03", "housing", _h(24), "施工管理"),
    RoutingRule("04", "housing", _h(4), "突发事件"),
    RoutingRule("04001", "traffic", _h(2), "路面塌陷"),
    RoutingRule("04002", "water", _h(2), "自来水管破裂"),
    RoutingRule("04003", "housing", _h(1), "燃气管道破裂"),
    RoutingRule("04004", "water", _h(2), "道路积水"),
    RoutingRule("05", "urban-management", _h(4), "街面秩序"),
    RoutingRule("05003", "public-security", _h(2), "机动车乱停放"),
)

DEFAULT_TABLE = RoutingTable(DEFAULT_RULES)


def route(category_code: str, location_status: str, at: datetime,
          table: RoutingTable = DEFAULT_TABLE) -> RoutingDecision | None:
    """Route with the default table: a decision (department, deadline), or None for manual triage."""
    return table.route(category_code, location_status, at)
