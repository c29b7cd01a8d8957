"""HTTP routes of alarms and alarm groups (thin: parse, authorise, call a handler, shape)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from gridgov_common.auth import Principal
from gridgov_common.deps import Staff, require
from gridgov_common.limits import RouteLimit
from gridgov_common.web import parse_bbox
from gridgov_sensing.alarms import queries
from gridgov_sensing.alarms.schemas import AcceptResult, AlarmBatch, AlarmGroupDetail, AlarmGroupPage
from gridgov_sensing.alarms.service import accept_alarms
from gridgov_sensing.deps import Runtime

router = APIRouter(prefix="/v1", tags=["alarms"])

LIMIT_MAX = 1000
# A 10,000-alarm batch is a few MB of JSON: this route alone takes up to 16 MiB, and only from a caller whose
# token may post alarms (an anonymous client still meets the 1 MiB default before anything is read).
ALARMS_MAX_BODY = 16 * 1024 * 1024
ALARM_POSTERS = ("admin", "command_centre", "device_gateway")
ROUTE_LIMITS = (RouteLimit("POST", "/v1/alarms$", ALARMS_MAX_BODY, roles=ALARM_POSTERS),)
AlarmPoster = Annotated[Principal, Depends(require(*ALARM_POSTERS))]
GroupId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]{36}$")]
CodeQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
GROUP_STATES = "^(open|pending_verification|case|recorded|false_positive|resolved|closed)$"


@router.post("/alarms", status_code=202, response_model=AcceptResult)
def post_alarms(runtime: Runtime, body: AlarmBatch, _principal: AlarmPoster) -> AcceptResult:
    """Accept a batch of up to 10,000 alarms, all or none (422 naming each bad item). Who: admin, command_centre,
    device_gateway."""
    result = accept_alarms(runtime.db, body.alarms, "http", datetime.now(UTC))
    return AcceptResult(accepted=result.accepted)


def _filter(state: str | None, open_: bool | None, grid: str | None, report_id: str | None, bbox: str | None,
            alarm_type: str | None) -> queries.GroupFilter:
    return queries.GroupFilter(state=state, open=open_, grid=grid, report_id=report_id, bbox=parse_bbox(bbox),
                               alarm_type=alarm_type)


StateQuery = Annotated[str | None, Query(pattern=GROUP_STATES)]
OpenQuery = Annotated[bool | None, Query(alias="open", description="only open (true) or closed (false) groups")]
ReportQuery = Annotated[str | None, Query(max_length=100)]
BboxQuery = Annotated[str | None, Query(max_length=100, description="west,south,east,north")]


@router.get("/alarm-groups", response_model=AlarmGroupPage)
def list_alarm_groups(
    runtime: Runtime, principal: Staff, state: StateQuery = None, open_: OpenQuery = None, grid: CodeQuery = None,
    report_id: ReportQuery = None, bbox: BboxQuery = None, alarm_type: CodeQuery = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = 100, offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> AlarmGroupPage:
    """Alarm groups: those waiting on someone (a case, a 核实 task, still firing) first, then the record-only and
    the ended ones; the latest alarm first within each. Who: staff (a grid worker sees their grid, a department
    dispatcher their department's devices)."""
    items, total = queries.list_groups(runtime.db, principal, _filter(state, open_, grid, report_id, bbox,
                                                                      alarm_type), limit, offset)
    return AlarmGroupPage(items=items, total=total)


@router.get("/alarm-groups.geojson")
def alarm_groups_geojson(
    runtime: Runtime, principal: Staff, state: StateQuery = None, open_: OpenQuery = None, grid: CodeQuery = None,
    bbox: BboxQuery = None, alarm_type: CodeQuery = None,
) -> JSONResponse:
    """Alarm groups as GeoJSON points for the map (at most 5,000; ``total`` and ``truncated`` say if more). Who:
    staff, scoped as the list."""
    body = queries.groups_geojson(runtime.db, principal, _filter(state, open_, grid, None, bbox, alarm_type))
    return JSONResponse(body, media_type="application/geo+json")


@router.get("/alarm-groups/{group_id}", response_model=AlarmGroupDetail)
def get_alarm_group(runtime: Runtime, principal: Staff, group_id: GroupId) -> AlarmGroupDetail:
    """One alarm group with its latest 50 alarms and 20 evidences. Who: staff, scoped as the list."""
    return queries.group_detail(runtime.db, principal, group_id)
