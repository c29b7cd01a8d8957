"""HTTP routes of the event catalog (thin: parse, authorise, call, shape)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from gridgov_common.deps import Admin, Staff
from gridgov_common.errors import PayloadTooLarge, UnsupportedMediaType
from gridgov_common.schemas import INT32_MAX
from gridgov_dispatch.catalog import handlers, service
from gridgov_dispatch.catalog.schemas import CatalogRead, CatalogVersionRead, ImportReport
from gridgov_dispatch.deps import Runtime

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])

Version = Annotated[int | None, Query(ge=1, le=INT32_MAX, description="a published version; default the current one")]

CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}


@router.get("", response_model=CatalogRead)
def get_catalog(runtime: Runtime, _principal: Staff, version: Version = None,
                level: Literal["major", "middle", "minor", "detail"] | None = None,
                prefix: Annotated[str | None, Query(pattern=r"^\d{1,9}$")] = None) -> CatalogRead:
    """The event catalog (事项目录), filtered by level and code prefix. Who: any staff role."""
    return handlers.read_catalog(runtime.db, version, level, prefix)


@router.get("/versions", response_model=list[CatalogVersionRead])
def list_versions(runtime: Runtime, _principal: Staff) -> list[CatalogVersionRead]:
    """The published catalog versions, newest first. Who: any staff role."""
    with runtime.db.session() as session:
        rows = service.list_versions(session)
    return [CatalogVersionRead.model_validate(r, from_attributes=True) for r in rows]


@router.get("/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_catalog(runtime: Runtime, _principal: Staff, version: Version = None) -> Response:
    """A catalog version as UTF-8 CSV, readable back by the import. Who: any staff role."""
    number, text = handlers.export_csv(runtime.db, version)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="catalog-v{number}.csv"'})


@router.post("/import", response_model=ImportReport, openapi_extra=CSV_BODY,
             responses={201: {"description": "published"}, 422: {"description": "rows refused"}})
async def import_catalog(request: Request, response: Response, runtime: Runtime, principal: Admin,
                         dry_run: bool = False,
                         note: Annotated[str | None, Query(max_length=500)] = None) -> ImportReport:
    """Import a whole catalog from CSV as the new current version, or only validate it (dry_run). Who: admin."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "text/csv":
        raise UnsupportedMediaType("Content-Type", f"must be text/csv, got {content_type or 'nothing'}")
    body = await request.body()
    if len(body) > handlers.MAX_IMPORT_BYTES:
        raise PayloadTooLarge("body", handlers.MAX_IMPORT_BYTES)
    # The import reads and writes the database synchronously: off the event loop.
    report = await run_in_threadpool(handlers.import_catalog, runtime.db,
                                     handlers.decode_csv(body), dry_run=dry_run, published_by=principal.sub,
                                     note=note)
    response.status_code = 200 if dry_run else 201
    return report

