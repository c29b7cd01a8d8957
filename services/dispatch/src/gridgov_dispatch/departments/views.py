"""HTTP routes of departments (thin: parse, authorise, call, shape)."""

from fastapi import APIRouter

from gridgov_common.deps import Staff
from gridgov_dispatch.departments import service
from gridgov_dispatch.departments.schemas import DepartmentRead
from gridgov_dispatch.deps import Runtime

router = APIRouter(prefix="/v1/departments", tags=["departments"])


@router.get("", response_model=list[DepartmentRead])
def list_departments(runtime: Runtime, _principal: Staff) -> list[DepartmentRead]:
    """The departments tickets are dispatched to. Who: grid_worker, dept_dispatcher, command_centre, admin."""
    with runtime.db.session() as session:
        rows = service.list_all(session)
    return [DepartmentRead.model_validate(r, from_attributes=True) for r in rows]
