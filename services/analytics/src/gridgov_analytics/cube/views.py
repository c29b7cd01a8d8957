"""HTTP routes of the read model's administration: its state, and a rebuild from the bus."""

from __future__ import annotations

from fastapi import APIRouter

from gridgov_analytics.cube import handlers, service
from gridgov_analytics.cube.models import BUS, HISTORY
from gridgov_analytics.cube.schemas import CubeStatusRead, RebuildRead
from gridgov_analytics.deps import Runtime
from gridgov_common.deps import Admin, CityWide

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get("/cube", response_model=CubeStatusRead)
def get_cube(runtime: Runtime, _principal: CityWide) -> CubeStatusRead:
    """The read model's generation, its consumer group, its facts and its totals per measure, from the bus and
    from the history, read from one snapshot (so its numbers agree with each other). Who: command_centre, admin."""
    with runtime.db.snapshot() as session:
        generation = service.generation(session)
        return CubeStatusRead(generation=generation, group=service.consumer_group(generation),
                              facts=service.fact_count(session), history_facts=service.fact_count(session, HISTORY),
                              bus=service.total(session, origin=BUS), history=service.total(session, origin=HISTORY))


@router.post("/rebuild", response_model=RebuildRead, status_code=202)
def post_rebuild(runtime: Runtime, _principal: Admin) -> RebuildRead:
    """Rebuild the read model from the bus: what the bus built is dropped, the history stays, and a new consumer
    group (``analytics.cube-<generation>``) reads the ticket events and ratings again from the earliest offset;
    the counts come back as it catches up. Who: admin."""
    generation = handlers.rebuild(runtime.db)
    if runtime.settings.run_consumers:
        runtime.follow_generation()  # at once here; other processes follow within generation_poll_s
    return RebuildRead(generation=generation, group=service.consumer_group(generation))
