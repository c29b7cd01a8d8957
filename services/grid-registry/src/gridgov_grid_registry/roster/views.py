"""HTTP routes of the roster (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from gridgov_common.auth import Principal, require
from gridgov_grid_registry.grids.areas import CODE_PATTERN
from gridgov_grid_registry.roster import handlers, service
from gridgov_grid_registry.roster.schemas import DutyChange, GridRoster, WorkerAssign, WorkerRead

router = APIRouter(prefix="/v1", tags=["roster"])

Staff = Annotated[Principal, Depends(require("grid_worker", "dept_dispatcher", "command_centre", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]
WorkerId = Annotated[str, Path(min_length=1, max_length=64, description="the subject of the worker's token")]


def _read(worker) -> WorkerRead:
    return WorkerRead.model_validate(worker, from_attributes=True)


@router.get("/grids/{code}/workers", response_model=GridRoster)
def get_grid_workers(request: Request, code: Annotated[str, Path(pattern=CODE_PATTERN)], _principal: Staff,
                     on_duty: Annotated[bool | None, Query(description="only those on (or off) duty")] = None
                     ) -> GridRoster:
    """The grid workers assigned to a grid. Who: staff (not citizens)."""
    with request.app.state.runtime.db.session() as session:
        workers = service.of_grids(session, [code], on_duty)
    return GridRoster(grid_code=code, workers=[_read(w) for w in workers])


@router.get("/workers/{worker_id}", response_model=WorkerRead)
def get_worker(request: Request, worker_id: WorkerId, _principal: Staff) -> WorkerRead:
    """One grid worker of the roster. Who: staff (not citizens)."""
    with request.app.state.runtime.db.session() as session:
        return _read(service.get_or_raise(session, worker_id))


@router.put("/workers/{worker_id}", response_model=WorkerRead)
def put_worker(request: Request, worker_id: WorkerId, body: WorkerAssign, _principal: Admin) -> WorkerRead:
    """Put a grid worker on a grid's roster, or move them to another grid. Who: admin."""
    runtime = request.app.state.runtime
    return _read(handlers.assign(runtime.db, runtime.locator.answers, worker_id, body.name, body.grid_code,
                                 body.on_duty))


@router.post("/workers/{worker_id}/duty", response_model=WorkerRead)
def post_duty(request: Request, worker_id: WorkerId, body: DutyChange, principal: Staff) -> WorkerRead:
    """Go on or off duty. Who: the grid worker themselves, the command centre or an admin."""
    return _read(handlers.set_duty(request.app.state.runtime.db, principal, worker_id, body.on_duty))
