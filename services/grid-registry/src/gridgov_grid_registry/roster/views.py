"""HTTP routes of the roster (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gridgov_common.deps import Admin, AnyRole, Staff
from gridgov_grid_registry.deps import Runtime
from gridgov_grid_registry.grids import handlers as grid_handlers
from gridgov_grid_registry.grids.areas import CODE_PATTERN
from gridgov_grid_registry.grids.schemas import NearbyGrid, NearbyResult, WorkerRef
from gridgov_grid_registry.grids.views import CrsQuery, Lat, Lon
from gridgov_grid_registry.roster import handlers, service
from gridgov_grid_registry.roster.schemas import DutyChange, GridRoster, WorkerAssign, WorkerRead

router = APIRouter(prefix="/v1", tags=["roster"])
# Grids near a point with their workers on duty: documented with the grids, as before; served here because it
# reads the roster (roster builds on grids, so grids never import roster).
nearby_router = APIRouter(prefix="/v1", tags=["grids"])

WorkerId = Annotated[str, Path(min_length=1, max_length=64, description="the subject of the worker's token")]


def _read(worker) -> WorkerRead:
    return WorkerRead.model_validate(worker, from_attributes=True)


@router.get("/grids/{code}/workers", response_model=GridRoster)
def get_grid_workers(runtime: Runtime, code: Annotated[str, Path(pattern=CODE_PATTERN)], _principal: Staff,
                     on_duty: Annotated[bool | None, Query(description="only those on (or off) duty")] = None
                     ) -> GridRoster:
    """The grid workers assigned to a grid. Who: staff (not citizens)."""
    with runtime.db.session() as session:
        workers = service.of_grids(session, [code], on_duty)
    return GridRoster(grid_code=code, workers=[_read(w) for w in workers])


@router.get("/workers/{worker_id}", response_model=WorkerRead)
def get_worker(runtime: Runtime, worker_id: WorkerId, _principal: Staff) -> WorkerRead:
    """One grid worker of the roster. Who: staff (not citizens)."""
    with runtime.db.session() as session:
        return _read(service.get_or_raise(session, worker_id))


@router.put("/workers/{worker_id}", response_model=WorkerRead)
def put_worker(runtime: Runtime, worker_id: WorkerId, body: WorkerAssign, _principal: Admin) -> WorkerRead:
    """Put a grid worker on a grid's roster, or move them to another grid. Who: admin."""
    return _read(handlers.assign(runtime.db, runtime.locator.answers, worker_id, body.name, body.grid_code,
                                 body.on_duty))


@router.post("/workers/{worker_id}/duty", response_model=WorkerRead)
def post_duty(runtime: Runtime, worker_id: WorkerId, body: DutyChange, principal: Staff) -> WorkerRead:
    """Go on or off duty. Who: the grid worker themselves, the command centre or an admin."""
    return _read(handlers.set_duty(runtime.db, principal, worker_id, body.on_duty))


@nearby_router.get("/locate/nearby", response_model=NearbyResult)
def get_nearby(runtime: Runtime, lon: Lon, lat: Lat, _principal: AnyRole, crs: CrsQuery = "wgs84",
               radius_m: Annotated[float, Query(gt=0, le=5000, description="search radius in metres")] = 500,
               limit: Annotated[int, Query(ge=1, le=50)] = 10) -> NearbyResult:
    """Grids within a radius of a point, nearest first, each with its grid workers on duty. Who: any role."""
    locator = runtime.locator
    x, y = grid_handlers.to_wgs84(lon, lat, crs)
    found = locator.nearby(x, y, radius_m, limit)
    locations = [locator.answers.location(n.answer) for n in found]
    with runtime.db.session() as session:
        workers = service.of_grids(session, [loc.grid_code for loc in locations], on_duty=True)
    on_duty: dict[str, list[WorkerRef]] = {}
    for w in workers:
        on_duty.setdefault(w.grid_code, []).append(WorkerRef(worker_id=w.worker_id, name=w.name))
    grids = [NearbyGrid(code=loc.grid_code, name=loc.grid_name, village_code=loc.village_code,
                        village_name=loc.village_name, town_code=loc.town_code, town_name=loc.town_name,
                        distance_m=n.distance_m, on_duty=on_duty.get(loc.grid_code, []))
             for n, loc in zip(found, locations, strict=True)]
    return NearbyResult(grid_set_version=locator.version, crs=crs, wgs84=(x, y), radius_m=radius_m, grids=grids)
