"""Replay (回放), pure: what a candidate rule set would have changed over past cases before it is published."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from gridgov_dispatch.rules.engine import Decision, ReportFacts, RoutingContext, RuleSet, decide

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
