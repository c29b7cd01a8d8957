"""HTTP routes of suppression rules (thin: parse, authorise, call a handler, shape)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gridgov_common.deps import CityWide
from gridgov_sensing.deps import Runtime
from gridgov_sensing.suppression import handlers
from gridgov_sensing.suppression.schemas import ReplayResult, RulePage, RuleRead, RuleTime, RuleWrite

router = APIRouter(prefix="/v1/suppression-rules", tags=["suppression"])
RuleId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$")]


@router.get("", response_model=RulePage)
def list_rules(runtime: Runtime, _principal: CityWide) -> RulePage:
    """Every suppression rule, in the order they apply, with whether each is in force now. Who: command_centre,
    admin."""
    items = handlers.list_rules(runtime.db, handlers.utcnow())
    return RulePage(items=items, total=len(items))


@router.post("", response_model=RuleRead, status_code=201)
def create_rule(runtime: Runtime, principal: CityWide, body: RuleWrite) -> RuleRead:
    """Add a snooze (``for: "2h"``), maintenance window, inhibition or confidence floor, enforced or monitored.
    Who: command_centre, admin."""
    return handlers.create_rule(runtime.db, principal, body, handlers.utcnow())


@router.put("/{rule_id}", response_model=RuleRead)
def update_rule(runtime: Runtime, _principal: CityWide, rule_id: RuleId, body: RuleWrite) -> RuleRead:
    """Change a rule: switch monitor → enforce, move its expiry, change its scope. Who: command_centre, admin."""
    return handlers.update_rule(runtime.db, rule_id, body, handlers.utcnow())


@router.post("/{rule_id}/replay", response_model=ReplayResult)
def replay_rule(runtime: Runtime, _principal: CityWide, rule_id: RuleId,
                since: Annotated[RuleTime | None, Query()] = None,
                until: Annotated[RuleTime | None, Query()] = None) -> ReplayResult:
    """What the rule would have suppressed among the stored alarms of a period (default the last 7 days). Who:
    command_centre, admin."""
    return handlers.replay_rule(runtime.db, rule_id, since, until, handlers.utcnow())
