"""HTTP routes of places (thin: parse, authorise, call a handler, shape)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from gridgov_common.deps import Admin, Staff
from gridgov_common.errors import PayloadTooLarge, UnsupportedMediaType
from gridgov_grid_registry.deps import Runtime
from gridgov_grid_registry.places import handlers
from gridgov_grid_registry.places.schemas import LandmarkImportResult, ResolveRequest, ResolveResult

router = APIRouter(prefix="/v1/places", tags=["places"])

CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}


@router.post("/resolve", response_model=ResolveResult)
def resolve(runtime: Runtime, body: ResolveRequest, _principal: Staff) -> ResolveResult:
    """The town, village/community or grid an address names (located, village_only, town_only or unlocated),
    with the matched text and a confidence; never a confident answer for a self-contradicting address.
    Who: staff (grid_worker, dept_dispatcher, command_centre, admin)."""
    locator = runtime.locator
    gazetteer = runtime.gazetteers.get(locator)
    return ResolveResult.of(gazetteer.resolve(body.address), gazetteer.version)


@router.post("/landmarks/import", response_model=LandmarkImportResult, status_code=201, openapi_extra=CSV_BODY,
             responses={422: {"description": "rows refused, naming the line and column; nothing stored"}})
async def import_landmarks(request: Request, runtime: Runtime, _principal: Admin) -> LandmarkImportResult:
    """Roads and landmarks from CSV ``name,aliases,kind,lon,lat`` (optional ``town``; aliases '|'-separated),
    inserted or replaced by name, all or nothing; each point must lie in a town of the grid set in effect.
    Who: admin."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "text/csv":
        raise UnsupportedMediaType("Content-Type", f"must be text/csv, got {content_type[:40] or 'nothing'}")
    body = await request.body()
    if len(body) > handlers.MAX_IMPORT_BYTES:
        raise PayloadTooLarge("body", handlers.MAX_IMPORT_BYTES)
    created, updated = await run_in_threadpool(handlers.import_csv, runtime.db, runtime.locator,
                                               handlers.decode_csv(body))
    runtime.gazetteers.invalidate()
    return LandmarkImportResult(created=created, updated=updated)
