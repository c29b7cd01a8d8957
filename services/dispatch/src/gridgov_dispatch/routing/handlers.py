"""Use cases of rule sets: validate a candidate, publish it as the next version, replay it over past tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_dispatch.routing import service
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.rules.engine import RuleSet
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
