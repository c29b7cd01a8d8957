"""HTTP routes of the dispatch rules (thin: parse, authorise, call a handler, shape)."""

import json
from datetime import UTC, datetime

from fastapi import APIRouter

from gridgov_common import i18n
from gridgov_common.deps import Admin, CityWide, OfficeStaff, Staff
from gridgov_dispatch.deps import Runtime
from gridgov_dispatch.routing import handlers
from gridgov_dispatch.routing.schemas import (
    ChangedCaseRead,
    DecisionRead,
    DepartmentShiftRead,
    PreviewBody,
    PreviewDecisionRead,
    PreviewRead,
    ReplayBody,
    ReplayReportRead,
    RuleSetBody,
    RuleSetRead,
    ValidationResult,
)
from gridgov_dispatch.rules import service
from gridgov_dispatch.rules.engine import Decision
from gridgov_dispatch.rules.models import RuleSetVersion

router = APIRouter(prefix="/v1/rules", tags=["rules"])


def _read(row: RuleSetVersion) -> RuleSetRead:
    return RuleSetRead(version=row.version, published_at=row.published_at, published_by=row.published_by,
                       note=row.note, rules=json.loads(row.body)["rules"])


def _decision(d: Decision) -> DecisionRead:
    return DecisionRead(department=d.department, priority=d.priority, rule_id=d.rule_id, reason=d.reason)


@router.get("", response_model=RuleSetRead)
def get_rules(runtime: Runtime, _principal: Staff) -> RuleSetRead:
    """The current rule set (派遣规则): version, publisher, note and rules. Who: any staff role."""
    with runtime.db.session() as session:
        row = service.latest_or_raise(session)
    return _read(row)


@router.post("/validate", response_model=ValidationResult)
def validate_rules(body: RuleSetBody, runtime: Runtime, _principal: CityWide) -> ValidationResult:
    """Check a candidate rule set without storing it: 422 naming each bad rule and why, or ok.
    Who: command_centre, admin."""
    rule_set, categories = handlers.checked(runtime.db, {"rules": body.rules})
    return ValidationResult(ok=True, rules=len(rule_set.rules), categories_checked=categories)


@router.post("", response_model=RuleSetRead, status_code=201)
def publish_rules(body: RuleSetBody, runtime: Runtime, principal: Admin) -> RuleSetRead:
    """Publish a candidate as the next version; 422 (nothing stored) when it does not parse or leaves a category
    unroutable or names an unknown department, 409 when another version was published at the same time.
    Who: admin."""
    row = handlers.publish(runtime.db, {"rules": body.rules}, principal.sub, body.note)
    return _read(row)


@router.post("/preview", response_model=PreviewRead)
def preview_rules(body: PreviewBody, runtime: Runtime, _principal: OfficeStaff) -> PreviewRead:
    """Where the current rules would send each category (≤ 5) at a place on a channel: department, name, rule and
    why (the hotline seat shows it beside each suggestion). Who: command_centre, admin, dept_dispatcher."""
    version, decisions = handlers.preview(runtime.db, body.category_codes, body.channel, body.town_code,
                                          body.village_code, body.grid_code, datetime.now(UTC))
    return PreviewRead(rule_set_version=version, decisions=[PreviewDecisionRead(**d) for d in decisions])


@router.post("/replay", response_model=ReplayReportRead)
def replay_rules(body: ReplayBody, runtime: Runtime, _principal: CityWide) -> ReplayReportRead:
    """Replay a candidate over past tickets against the current version: totals, changed decisions, moves to and
    from triage, per-department counts and the changed cases (at most 200 listed). Who: command_centre, admin."""
    report, version, warnings = handlers.replay_candidate(runtime.db, {"rules": body.rules}, body.since, body.limit)
    return ReplayReportRead(
        current_version=version, total=report.total, changed=report.changed,
        department_changed=report.department_changed, priority_changed=report.priority_changed,
        to_triage=report.to_triage, from_triage=report.from_triage,
        agree_actual_before=report.agree_actual_before, agree_actual_after=report.agree_actual_after,
        by_department={k: DepartmentShiftRead(before=v.before, after=v.after) for k, v in report.by_department.items()},
        changed_cases=[ChangedCaseRead(ticket_id=c.ticket_id, category_code=c.category_code,
                                       actual_department=c.actual_department, before=_decision(c.before),
                                       after=_decision(c.after))
                       for c in report.changed_cases],
        changed_cases_truncated=report.changed_cases_truncated,
        warnings=[{"field": w.field, "reason": i18n.as_asked(w.reason)} for w in warnings])
