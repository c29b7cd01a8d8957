"""API shapes of devices: register, move, read, the map's GeoJSON page, the bulk import's answer."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from gridgov_common.events.reports import Code, Name
from gridgov_common.schemas import Latitude, Longitude

DeviceKind = Literal["camera", "sensor"]
# GB/T 28181 gives a camera a 20-digit id (centre, industry, type and serial codes); a sensor any short token.
CAMERA_ID = re.compile(r"[0-9]{20}")
SENSOR_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
ALGORITHMS_MAX = 32
LIST_MAX = 5000  # devices in one page of the map
HEARTBEATS_MAX = 5000  # devices in one gateway's round of heartbeats
UNKNOWN_SHOWN = 100  # unregistered ids named in a heartbeat round's answer


class DeviceUpdate(BaseModel):
    """What an administrator may change of a device: a new position is looked up again in the grids (a move)."""

    model_config = {"extra": "forbid"}

    name: Name = Field(min_length=1)
    lon: Longitude
    lat: Latitude
    owner_department: Code | None = None
    algorithms: list[Code] = Field(default_factory=list, max_length=ALGORITHMS_MAX,
                                   description="alarm-type codes the device raises")


class DeviceCreate(DeviceUpdate):
    """A device to register: a camera's id is its 20-digit GB/T 28181 id."""

    device_id: str = Field(pattern=SENSOR_ID_PATTERN)
    kind: DeviceKind


def id_problem(kind: str, device_id: str) -> str | None:
    """Why a device id does not fit its kind (a camera is known by its 20-digit GB/T 28181 id), or None."""
    if kind == "camera" and not CAMERA_ID.fullmatch(device_id):
        return "a camera's id is its 20-digit GB/T 28181 id"
    return None


class DeviceRead(BaseModel):
    """A device as stored, with its grid and whether it is online (a heartbeat within the online window)."""

    device_id: str
    kind: DeviceKind
    name: str
    lon: float
    lat: float
    grid_code: str
    village_code: str
    town_code: str
    owner_department: str | None
    algorithms: list[str]
    heartbeat_at: datetime | None
    online: bool
    created_at: datetime
    updated_at: datetime


class HeartbeatRead(BaseModel):
    """A device's heartbeat as recorded."""

    device_id: str
    heartbeat_at: datetime
    online: bool


class HeartbeatBatch(BaseModel):
    """One round of a gateway's heartbeats: the devices behind it that are alive now (a video platform's
    keepalives, an IoT gateway's presence list)."""

    model_config = {"extra": "forbid"}

    device_ids: list[Annotated[str, Field(pattern=SENSOR_ID_PATTERN)]] = Field(
        min_length=1, max_length=HEARTBEATS_MAX, description="the devices alive now (a repeated id counts once)")


class HeartbeatBatchRead(BaseModel):
    """What a round of heartbeats recorded: the registered devices are online; the others are named, not stored."""

    heartbeat_at: datetime
    recorded: int = Field(description="registered devices whose heartbeat was recorded (online now)")
    unknown_count: int = Field(description="ids in the round that are not registered devices")
    unknown: list[str] = Field(description=f"the first {UNKNOWN_SHOWN} of those ids, to register or to drop "
                                           "from the gateway")


PresenceLevel = Literal["town", "village", "grid"]


class PresenceArea(BaseModel):
    """One area's devices and how many of them are online."""

    code: str
    total: int
    online: int
    offline: int
    rate: float = Field(description="online ÷ total, 0..1 (4 decimals)")


class PresenceStats(BaseModel):
    """The devices' online rate (在线率) for the city (or the town or village asked for) and per area in it,
    the worst first."""

    by: PresenceLevel
    at: datetime
    online_window_s: int = Field(description="a device is online while its last heartbeat is at most this old")
    total: int
    online: int
    offline: int
    rate: float | None = Field(description="online ÷ total (None without devices)")
    areas: list[PresenceArea]


class DeviceFeature(BaseModel):
    """A device as a GeoJSON Point feature (properties: the device without its position)."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]


class DeviceCollection(BaseModel):
    """A page of devices as a GeoJSON FeatureCollection, with how many match and whether the page cut them off."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[DeviceFeature]
    total: int
    truncated: bool


class ImportResult(BaseModel):
    """What a bulk import did (all of it, or nothing): devices new to the registry, and devices replaced."""

    imported: int
    updated: int
