"""HTTP routes of department areas (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gridgov_common.auth import ROLES, Principal, require
from gridgov_grid_registry.departments import handlers, service
from gridgov_grid_registry.grids.geojson import dumps
from gridgov_grid_registry.grids.maps import geometry_json

router = APIRouter(prefix="/v1", tags=["department areas"])

AnyRole = Annotated[Principal, Depends(require(*ROLES))]
Admin = Annotated[Principal, Depends(require("admin"))]
Department = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}$", description="department code, e.g. water")]


@router.get("/department-areas")
def list_department_areas(request: Request, _principal: AnyRole,
                          department: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """Department areas of responsibility as GeoJSON (properties: department, code, name). Who: any role."""
    with request.app.state.runtime.db.session() as session:
        areas = service.list_department_areas(session, department)
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"{a.department}/{a.code}", "geometry": geometry_json(a.geometry, 7),
         "properties": {"department": a.department, "code": a.code, "name": a.name}} for a in areas]}
    return Response(dumps(body).encode(), media_type="application/geo+json")


@router.put("/department-areas/{department}")
def put_department_areas(request: Request, department: Department, _principal: Admin,
                         collection: Annotated[dict, Body(description="FeatureCollection: code, name, polygon")]
                         ) -> dict[str, int | str]:
    """Replace a department's areas, all or nothing (422 naming every offending feature). Who: admin."""
    runtime = request.app.state.runtime
    count = handlers.replace(runtime.db, department, collection)
    runtime.reload_departments()
    return {"department": department, "areas": count}
