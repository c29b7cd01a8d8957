"""HTTP routes of departments (thin: parse, authorise, call, shape)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from gridgov_common.auth import Principal, require
from gridgov_dispatch.departments import service
from gridgov_dispatch.departments.schemas import DepartmentRead

router = APIRouter(prefix="/v1/departments", tags=["departments"])

Staff = Annotated[Principal, Depends(require("grid_worker", "dept_dispatcher", "command_centre", "admin"))]


@router.get("", response_model=list[DepartmentRead])
def list_departments(request: Request, _principal: Staff) -> list[DepartmentRead]:
    """The departments tickets are dispatched to. Who: grid_worker, dept_dispatcher, command_centre, admin."""
    with request.app.state.runtime.db.session() as session:
        rows = service.list_all(session)
    return [DepartmentRead.model_validate(r, from_attributes=True) for r in rows]
