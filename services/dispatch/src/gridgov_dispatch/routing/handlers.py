"""Use cases of rule sets: validate a candidate, publish it as the next version, replay it over past tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_dispatch.routing import service
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.rules.engine import ReportFacts, RuleSet, decide
from gridgov_dispatch.rules.models import RuleSetVersion
from gridgov_dispatch.rules.parsing import check_rule_set, parse_rule_set
from gridgov_dispatch.rules.replay import ReplayReport, replay

REPLAY_CHANGED_MAX = 200  # changed cases listed in a replay report; the counts cover them all


def checked(db: Database, data: dict[str, Any]) -> tuple[RuleSet, int]:
    """Parse and check a candidate against the departments and every category; 422 naming each rule and reason."""
    rule_set = parse_rule_set(data)
    codes = rule_sets.category_codes(db)
    with db.session() as session:
        infos = rule_sets.department_infos(session)
    details = check_rule_set(rule_set, codes, infos)
    if details:
        raise ValidationFailed("the rule set cannot be published", details)
    return rule_set, len(codes)


def publish(db: Database, data: dict[str, Any], published_by: str, note: str | None) -> RuleSetVersion:
    """Check a candidate and store it as the next version (nothing is stored when it fails)."""
    rule_set, _ = checked(db, data)
    return rule_sets.publish(db, rule_set.to_data(), published_by, note)


def preview(db: Database, category_codes: list[str], channel: str, town_code: str | None,
             village_code: str | None, grid_code: str | None, at: datetime) -> tuple[int | None, list[dict[str, Any]]]:
    """What the current rule set decides for each category at a place (the hotline seat's 派单 preview, issue #17).

    The place is taken as the registry would have located it: a grid code implies its village and town (codes are
    prefixes), a village its town; the finest one given sets the location status. Unknown categories are 422.
    """
    if grid_code:
        village_code, town_code = grid_code[:12], grid_code[:9]
    elif village_code:
        town_code = village_code[:9]
    status = ("located" if grid_code else "village_only" if village_code else "town_only" if town_code
              else "unlocated")
    known = set(rule_sets.category_codes(db))
    unknown = [c for c in category_codes if c not in known]
    if unknown:
        raise ValidationFailed("unknown category", [ErrorDetail(
            "category_codes", f"{', '.join(c[:12] for c in unknown)}: not a middle class of the current catalog")])
    current = rule_sets.current_rule_set(db)
    with db.session() as session:
        context = rule_sets.routing_context(session)
        names = rule_sets.department_names(session)
    out = []
    for code in dict.fromkeys(category_codes):
        decision = decide(ReportFacts(category_code=code, channel=channel, location_status=status,
                                      town_code=town_code, village_code=village_code, grid_code=grid_code, at=at),
                          current, context)
        out.append({"category_code": code, "department": decision.department,
                    "department_name": names.get(decision.department) if decision.department else None,
                    "rule_id": decision.rule_id, "reason": decision.reason})
    return current.version, out


def replay_candidate(db: Database, data: dict[str, Any], since: datetime | None,
                     limit: int) -> tuple[ReplayReport, int | None, list[ErrorDetail]]:
    """Replay a candidate (parsed; check problems come back as warnings) against the current version."""
    candidate = parse_rule_set(data)
    current = rule_sets.current_rule_set(db)
    with db.session() as session:
        context = rule_sets.routing_context(session)
        cases = service.past_cases(session, since, limit)
    warnings = check_rule_set(candidate, rule_sets.category_codes(db), context.departments.values())
    report = replay(cases, current, candidate, context, max_changed=REPLAY_CHANGED_MAX)
    return report, current.version, warnings
