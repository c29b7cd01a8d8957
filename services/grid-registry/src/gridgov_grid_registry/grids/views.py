"""HTTP routes of grids (thin: parse, authorise, call a handler, shape)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from gridgov_common.deps import Admin, AnyRole, IfNoneMatch, not_modified
from gridgov_common.errors import ErrorDetail, NotFound, ValidationFailed
from gridgov_common.geo import Crs
from gridgov_common.web import GeoJSONResponse, parse_bbox
from gridgov_grid_registry.deps import Runtime
from gridgov_grid_registry.grids import announce, handlers, service
from gridgov_grid_registry.grids.areas import CODE_PATTERN, Level
from gridgov_grid_registry.grids.geojson import parse_mapping
from gridgov_grid_registry.grids.schemas import (
    DepartmentAreaRef,
    Feature,
    FeatureCollection,
    GridSetRead,
    ImportResultRead,
    IssueRead,
    LocateBatch,
    LocateBatchResult,
    LocateResult,
)
from gridgov_grid_registry.grids.validation import ValidationOptions

router = APIRouter(prefix="/v1", tags=["grids"])

Lon = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, description="longitude in `crs`")]
Lat = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, description="latitude in `crs`")]
CrsQuery = Annotated[Crs, Query(description="wgs84 (also CGCS2000), gcj02 (WeChat, AMap) or bd09 (Baidu)")]
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="9-digit town, 12-digit village, 15-digit grid")]
Version = Annotated[str | None, Query(max_length=40, description="a grid set version; default: the one in effect")]


@router.get("/locate", response_model=LocateResult)
def get_locate(runtime: Runtime, lon: Lon, lat: Lat, _principal: AnyRole, crs: CrsQuery = "wgs84") -> LocateResult:
    """The grid, village and town of a point (located, town_only or unlocated), and the department areas it
    is in; the point is converted from ``crs`` to WGS84 first. Who: any signed-in role."""
    location, x, y = handlers.locate_point(runtime.locator, lon, lat, crs)
    departments = [DepartmentAreaRef(department=a.department, code=a.code, name=a.name)
                   for a in runtime.departments.covering(x, y)]
    return LocateResult(**location.model_dump(exclude={"department_areas"}), crs=crs, wgs84=(x, y),
                        department_areas=departments)


@router.post("/locate/batch", response_model=LocateBatchResult)
def post_locate_batch(runtime: Runtime, batch: LocateBatch, _principal: AnyRole) -> Response:
    """Up to 10,000 points at once, results in the same order. Who: any signed-in role."""
    locator = runtime.locator
    answers = handlers.locate_batch(locator, batch.points, batch.crs)
    version = "null" if locator.version is None else f'"{locator.version}"'
    head = f'{{"grid_set_version":{version},"crs":"{batch.crs}","count":{len(answers)},"results":'.encode()
    return Response(head + locator.answers.json_of(answers) + b"}", media_type="application/json")


@router.get("/grids", response_model=FeatureCollection, response_class=GeoJSONResponse)
def list_grids(
    runtime: Runtime,
    _principal: AnyRole,
    level: Annotated[Level | None, Query(description="town, village or grid; every level if omitted")] = None,
    parent: Annotated[str | None, Query(pattern=CODE_PATTERN, description="only children of this code")] = None,
    zoom: Annotated[int | None, Query(ge=0, le=22, description="web-map zoom to simplify for; full detail if "
                                                               "omitted")] = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north: only areas touching this box")] = None,
    version: Version = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Areas of a grid set as GeoJSON (properties: code, name, level, parent, for joining counts by code),
    simplified for a zoom level; cacheable (ETag, Cache-Control). Who: any signed-in role."""
    resolved = version or runtime.locator.version
    if version is not None:
        with runtime.db.session() as session:
            if service.get_grid_set(session, version) is None:
                raise NotFound("grid set", version)
    key = (resolved, level, parent, zoom, parse_bbox(bbox))
    etag = runtime.maps.etag(key)
    # A named version never changes; "the set in effect" may switch, so it is cached briefly.
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable" if version
               else "public, max-age=60", "Vary": "Authorization"}
    return not_modified(if_none_match, etag, headers) or Response(
        runtime.maps.body(key), media_type=GeoJSONResponse.media_type, headers=headers)


@router.get("/grids/{code}", response_model=Feature, response_class=GeoJSONResponse)
def get_grid(runtime: Runtime, code: Code, _principal: AnyRole, version: Version = None) -> Feature:
    """One town, village or grid of a grid set (default: in effect) as a GeoJSON Feature, with the names of the
    village and town above it (``properties.parents``). Who: any role."""
    with runtime.db.session() as session:
        area = service.get_or_raise(session, version or runtime.locator.version, code)
        return Feature.of(area, service.parents_of(session, area))


def _grid_set_read(session, grid_set, in_effect: str | None) -> GridSetRead:
    return GridSetRead(version=grid_set.version, description=grid_set.description,
                       effective_from=grid_set.effective_from, in_effect=grid_set.version == in_effect,
                       source=grid_set.source, created_at=grid_set.created_at,
                       counts=service.area_counts(session, grid_set.version))


@router.get("/grid-sets", response_model=list[GridSetRead], tags=["grid sets"])
def list_grid_sets(runtime: Runtime, _principal: AnyRole) -> list[GridSetRead]:
    """Every stored grid set, the latest to take effect first. Who: any signed-in role."""
    with runtime.db.session() as session:
        active = service.effective_grid_set(session, datetime.now(UTC))
        return [_grid_set_read(session, s, active.version if active else None)
                for s in service.list_grid_sets(session)]


def _effective(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return handlers.parse_moment(text)
    except ValueError:
        raise ValidationFailed("bad date", [ErrorDetail("effective_from", "a date YYYY-MM-DD (midnight, "
                                                                          "UTC+8) or an ISO 8601 time")]) from None


@router.post("/grid-sets", response_model=ImportResultRead, tags=["grid sets"], status_code=201)
def import_grid_set(
    runtime: Runtime,
    response: Response,
    _principal: Admin,
    collection: Annotated[dict, Body(description="a GeoJSON FeatureCollection of towns, villages and grids")],
    version: Annotated[str, Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")],
    effective_from: Annotated[str | None, Query(description="YYYY-MM-DD or ISO 8601; default now")] = None,
    dry_run: bool = False,
    mapping: Annotated[str | None, Query(description="e.g. code=WGBM,name=WGMC")] = None,
    allow_gaps: bool = False,
    tolerance_m2: Annotated[float, Query(ge=0, le=10_000)] = 1.0,
) -> ImportResultRead:
    """Validate a grid set and store it, all or nothing (422 naming every offending feature); with
    ``dry_run`` only validate. Who: admin."""
    try:
        fields = parse_mapping(mapping)
    except ValueError as exc:
        raise ValidationFailed("bad mapping", [ErrorDetail("mapping", str(exc))]) from None
    options = ValidationOptions(overlap_tolerance_m2=tolerance_m2, gap_tolerance_m2=tolerance_m2,
                                allow_gaps=allow_gaps)
    result = handlers.import_grid_set(runtime.db, collection, version=version,
                                      effective_from=_effective(effective_from), mapping=fields,
                                      options=options, dry_run=dry_run, source="api")
    if not result.report.ok and not dry_run:
        raise handlers.report_failure(result.report)
    if result.stored:
        runtime.active.refresh()
        if runtime.settings.announce_grids:  # its grids on gridgov.grids.published, if it is in effect now
            announce.announce_in_effect(runtime.db)
    else:
        response.status_code = 200
    report = result.report

    def issues(items) -> list[IssueRead]:
        return [IssueRead(index=i.index, code=i.code, rule=i.rule, message=i.message, severity=i.severity)
                for i in items]

    return ImportResultRead(version=result.version, stored=result.stored, dry_run=dry_run,
                            effective_from=result.effective_from, features=report.features, counts=report.counts,
                            errors=issues(report.errors), warnings=issues(report.warnings))
