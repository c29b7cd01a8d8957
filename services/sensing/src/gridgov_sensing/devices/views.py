"""HTTP routes of devices (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from gridgov_common.deps import Admin, CityWide, Staff
from gridgov_common.errors import PayloadTooLarge, UnsupportedMediaType
from gridgov_common.schemas import INT32_MAX
from gridgov_common.web import GeoJSONResponse, parse_bbox
from gridgov_sensing.deps import DeviceGateway, Runtime
from gridgov_sensing.devices import handlers, importer
from gridgov_sensing.devices.schemas import (
    LIST_MAX,
    SENSOR_ID_PATTERN,
    DeviceCollection,
    DeviceCreate,
    DeviceRead,
    DeviceUpdate,
    HeartbeatBatch,
    HeartbeatBatchRead,
    HeartbeatRead,
    ImportResult,
    PresenceLevel,
    PresenceStats,
)

router = APIRouter(prefix="/v1", tags=["devices"])

MAX_IMPORT_BYTES = 16 * 1024 * 1024  # 50,000 devices of a few hundred bytes each
DeviceId = Annotated[str, Path(pattern=SENSOR_ID_PATTERN, description="a camera's 20-digit GB/T 28181 id, or a "
                                                                      "sensor's id")]
IMPORT_BODY = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/geo+json": {"schema": {"type": "object"}}}}}


@router.post("/devices", response_model=DeviceRead, status_code=201)
def register_device(runtime: Runtime, body: DeviceCreate, _principal: Admin) -> DeviceRead:
    """Register a camera or sensor; its grid is looked up in grid-registry now (a position in no grid: 422 naming
    ``lon``). Who: admin."""
    return handlers.register_device(runtime.db, runtime.registry, body, handlers.utcnow(),
                                    runtime.sensing.online_window_s)


@router.put("/devices/{device_id}", response_model=DeviceRead)
def update_device(runtime: Runtime, device_id: DeviceId, body: DeviceUpdate, _principal: Admin) -> DeviceRead:
    """Change a device; a new position is placed in its grid again. Who: admin."""
    return handlers.update_device(runtime.db, runtime.registry, device_id, body, handlers.utcnow(),
                                  runtime.sensing.online_window_s)


@router.get("/devices/{device_id}", response_model=DeviceRead)
def get_device(runtime: Runtime, device_id: DeviceId, _principal: Staff) -> DeviceRead:
    """One device, with its grid and online state. Who: staff."""
    return handlers.get_device(runtime.db, device_id, handlers.utcnow(), runtime.sensing.online_window_s)


@router.get("/devices", response_model=DeviceCollection, response_class=GeoJSONResponse)
def list_devices(
    runtime: Runtime,
    _principal: Staff,
    bbox: Annotated[str | None, Query(description="west,south,east,north: only devices in this box")] = None,
    kind: Literal["camera", "sensor"] | None = None,
    online: Annotated[bool | None, Query(description="only devices online (true) or offline (false)")] = None,
    grid: Annotated[str | None, Query(pattern=r"^[0-9]{15}$", description="only devices in this grid")] = None,
    village: Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="only devices in this village")] = None,
    town: Annotated[str | None, Query(pattern=r"^[0-9]{9}$", description="only devices in this town")] = None,
    limit: Annotated[int, Query(ge=1, le=LIST_MAX)] = 1000,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
    spread: Annotated[bool, Query(description="order by the ids' serial end first, so that a page that cannot "
                                              "hold every device in the box samples all of it, not the first "
                                              "towns by id")] = False,
) -> GeoJSONResponse:
    """Devices as a GeoJSON FeatureCollection of points (by id, or spread over the box), with ``total`` matching
    and ``truncated`` when this page does not hold them all; for the map. Who: staff."""
    page = handlers.list_devices(runtime.db, bbox=parse_bbox(bbox), kind=kind, online=online, grid=grid, limit=limit,
                                 offset=offset, now=handlers.utcnow(), window_s=runtime.sensing.online_window_s,
                                 spread=spread, village=village, town=town)
    return GeoJSONResponse(page.model_dump(mode="json"))


@router.post("/devices/import", response_model=ImportResult, openapi_extra=IMPORT_BODY)
async def import_devices(request: Request, runtime: Runtime, _principal: Admin) -> ImportResult:
    """Register or replace up to 50,000 devices from CSV (``text/csv``) or GeoJSON (``application/geo+json`` or
    ``application/json``), each placed in its grid: all of them, or none with the bad fields named. Who: admin."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "application/geo+json", "application/json"):
        raise UnsupportedMediaType("Content-Type", "must be text/csv, application/geo+json or application/json, "
                                                   f"got {content_type or 'nothing'}")
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("body", MAX_IMPORT_BYTES)
    read = importer.read_csv if content_type == "text/csv" else importer.read_geojson
    prefix = "rows" if content_type == "text/csv" else "features"

    def run() -> ImportResult:
        rows = read(body)
        return handlers.import_devices(runtime.db, runtime.registry,
                                       [(f"{prefix}[{i}].", row) for i, row in enumerate(rows)], handlers.utcnow())

    return await run_in_threadpool(run)  # parsing, grid-registry and the database: off the event loop


@router.post("/devices/{device_id}/heartbeat", response_model=HeartbeatRead)
def post_heartbeat(runtime: Runtime, device_id: DeviceId,
                   _principal: DeviceGateway) -> HeartbeatRead:
    """Record that a device is alive (online while its last heartbeat is within the online window). Who: a device
    gateway or admin."""
    return handlers.heartbeat(runtime.db, device_id, handlers.utcnow(), runtime.sensing.online_window_s)


@router.post("/devices/heartbeats", response_model=HeartbeatBatchRead)
def post_heartbeats(runtime: Runtime, body: HeartbeatBatch, _principal: DeviceGateway) -> HeartbeatBatchRead:
    """Record that up to 5,000 devices are alive now, as a video platform or IoT gateway reports the devices behind
    it each round (one request and one transaction, not one per device); ids not registered are named in the
    answer and stored nowhere. Who: a device gateway or admin."""
    return handlers.heartbeats(runtime.db, body.device_ids, handlers.utcnow())


@router.get("/stats/device-presence", response_model=PresenceStats)
def device_presence(
    runtime: Runtime,
    _principal: CityWide,
    by: PresenceLevel = "town",
    town: Annotated[str | None, Query(pattern=r"^[0-9]{9}$", description="only this town's devices")] = None,
    village: Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="only this village's devices")] = None,
    kind: Literal["camera", "sensor"] | None = None,
) -> PresenceStats:
    """The devices' online rate (在线率) — online meaning a heartbeat within the online window — for the city, or
    the town or village asked for, and per town, village or grid in it, the lowest rate first: where the video
    network is down. Who: command_centre, admin."""
    return handlers.device_presence(runtime.db, by, handlers.utcnow(), runtime.sensing.online_window_s, town=town,
                                    village=village, kind=kind)
