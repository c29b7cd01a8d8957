"""HTTP routes of department areas (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from gridgov_common.deps import Admin, AnyRole
from gridgov_grid_registry.departments import handlers, service
from gridgov_grid_registry.deps import Runtime
from gridgov_grid_registry.grids.geojson import dumps
from gridgov_grid_registry.grids.maps import geometry_json

router = APIRouter(prefix="/v1", tags=["department areas"])

Department = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}$", description="department code, e.g. water")]


@router.get("/department-areas")
def list_department_areas(runtime: Runtime, _principal: AnyRole,
                          department: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """Department areas of responsibility as GeoJSON (properties: department, code, name). Who: any role."""
    with runtime.db.session() as session:
        areas = service.list_department_areas(session, department)
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"{a.department}/{a.code}", "geometry": geometry_json(a.geometry, 7),
         "properties": {"department": a.department, "code": a.code, "name": a.name}} for a in areas]}
    return Response(dumps(body).encode(), media_type="application/geo+json")


@router.put("/department-areas/{department}")
def put_department_areas(runtime: Runtime, department: Department, _principal: Admin,
                         collection: Annotated[dict, Body(description="FeatureCollection: code, name, polygon")]
                         ) -> dict[str, int | str]:
    """Replace a department's areas, all or nothing (422 naming every offending feature). Who: admin."""
    count = handlers.replace(runtime.db, department, collection)
    runtime.reload_departments()
    return {"department": department, "areas": count}
