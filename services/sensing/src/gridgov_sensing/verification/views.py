"""HTTP routes of 核实 tasks and the false-positive statistics (thin: parse, authorise, call a handler, shape)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from gridgov_common.auth import Principal
from gridgov_common.deps import CityWide, require
from gridgov_sensing.deps import Runtime
from gridgov_sensing.suppression.schemas import RuleTime
from gridgov_sensing.verification import handlers
from gridgov_sensing.verification.schemas import Decision, FalsePositiveStats, TaskPage, TaskRead

router = APIRouter(prefix="/v1", tags=["verification"])

TaskViewer = Annotated[Principal, Depends(require("grid_worker", "command_centre", "admin"))]
GridWorker = Annotated[Principal, Depends(require("grid_worker"))]
TaskId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$")]


@router.get("/verifications", response_model=TaskPage)
def list_verifications(
    runtime: Runtime, principal: TaskViewer,
    state: Annotated[str | None, Query(pattern="^(pending|confirmed|rejected|cancelled)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> TaskPage:
    """核实 tasks, the longest waiting first. Who: a grid worker (their grid), command_centre, admin."""
    items, total = handlers.list_tasks(runtime.db, principal, state, limit, offset)
    return TaskPage(items=items, total=total)


@router.post("/verifications/{task_id}/decision", response_model=TaskRead)
def decide_verification(runtime: Runtime, principal: GridWorker, task_id: TaskId, body: Decision) -> TaskRead:
    """Confirm the alarm (a case, reported with the worker as reporter) or reject it as a false positive; a second
    decision is 409. Who: the grid worker of the task's grid."""
    return handlers.decide(runtime.db, principal, task_id, body, datetime.now(UTC))


@router.get("/stats/false-positives", response_model=FalsePositiveStats)
def false_positive_stats(
    runtime: Runtime, _principal: CityWide,
    by: Annotated[str, Query(pattern="^(alarm_type|device)$")] = "alarm_type",
    since: Annotated[RuleTime | None, Query()] = None,
) -> FalsePositiveStats:
    """The false-positive rate per algorithm (alarm type) or per camera, from the 核实 outcomes. Who: command_centre,
    admin."""
    return handlers.false_positive_stats(runtime.db, by, since)
