"""HTTP routes of alarm types (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Path

from gridgov_common.deps import Admin, Staff
from gridgov_sensing.deps import Runtime
from gridgov_sensing.types import handlers
from gridgov_sensing.types.schemas import AlarmTypeList, AlarmTypeRead, AlarmTypeUpdate

router = APIRouter(prefix="/v1", tags=["alarm types"])

TypeCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="an alarm type's code")]


@router.get("/alarm-types", response_model=AlarmTypeList)
def list_alarm_types(runtime: Runtime, _principal: Staff) -> AlarmTypeList:
    """Every alarm type: its catalog item, fingerprint fields, windows and case policy. Who: staff."""
    return AlarmTypeList(items=handlers.list_alarm_types(runtime.db))


@router.put("/alarm-types/{code}", response_model=AlarmTypeRead)
def put_alarm_type(runtime: Runtime, code: TypeCode, change: AlarmTypeUpdate, _principal: Admin) -> AlarmTypeRead:
    """Change an alarm type (every field, windows as durations like "30m"); the ingest uses it within a batch.
    Who: admin."""
    return handlers.update_alarm_type(runtime.db, code, change)
