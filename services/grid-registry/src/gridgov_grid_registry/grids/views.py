"""HTTP routes of grids (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from gridgov_common.auth import ROLES, Principal, require
from gridgov_common.events.reports import Location
from gridgov_grid_registry.grids import handlers, service
from gridgov_grid_registry.grids.areas import CODE_PATTERN, Level
from gridgov_grid_registry.grids.schemas import Feature, FeatureCollection

router = APIRouter(prefix="/v1", tags=["grids"])

AnyRole = Annotated[Principal, Depends(require(*ROLES))]
Lon = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, description="WGS84 longitude")]
Lat = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, description="WGS84 latitude")]
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="9-digit town, 12-digit village, 15-digit grid")]


class GeoJSONResponse(JSONResponse):
    """JSON with the GeoJSON media type (RFC 7946)."""

    media_type = "application/geo+json"


@router.get("/locate", response_model=Location)
def get_locate(request: Request, lon: Lon, lat: Lat, _principal: AnyRole) -> Location:
    """The grid, village and town of a point (located, town_only or unlocated). Who: any signed-in role."""
    return handlers.locate_point(request.app.state.runtime.locator, lon, lat)


@router.get("/grids", response_model=FeatureCollection, response_class=GeoJSONResponse)
def list_grids(
    request: Request,
    _principal: AnyRole,
    level: Annotated[Level | None, Query(description="town, village or grid; every level if omitted")] = None,
    parent: Annotated[
        str | None, Query(pattern=CODE_PATTERN, description="only children of this code")
    ] = None,
) -> FeatureCollection:
    """Areas of the active grid set as GeoJSON. Who: any signed-in role."""
    runtime = request.app.state.runtime
    version = runtime.locator.version
    with runtime.db.session() as session:
        areas = service.list_areas(session, version, level, parent)
    return FeatureCollection(grid_set_version=version, features=[Feature.of(a) for a in areas])


@router.get("/grids/{code}", response_model=Feature, response_class=GeoJSONResponse)
def get_grid(request: Request, code: Code, _principal: AnyRole) -> Feature:
    """One town, village or grid of the active grid set as a GeoJSON Feature. Who: any signed-in role."""
    runtime = request.app.state.runtime
    with runtime.db.session() as session:
        area = service.get_or_raise(session, runtime.locator.version, code)
    return Feature.of(area)
