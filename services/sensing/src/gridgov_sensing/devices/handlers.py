"""Use cases of devices: register, move, import in bulk (all or nothing), heartbeat, read and list.

A device's grid is looked up once, in grid-registry, when it is registered or moved; alarms then carry the stored
grid (no lookup per alarm). Every change of what an alarm snapshot holds moves the ``devices`` version on, so the
ingest's caches reload.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from gridgov_common.db import Database
from gridgov_common.errors import Conflict, ErrorDetail, NotFound, ValidationFailed
from gridgov_sensing.devices import offline, service
from gridgov_sensing.devices.models import Device
from gridgov_sensing.devices.registry import GridPlace, RegistryClient
from gridgov_sensing.devices.schemas import (
    UNKNOWN_SHOWN,
    DeviceCollection,
    DeviceCreate,
    DeviceFeature,
    DeviceRead,
    DeviceUpdate,
    HeartbeatBatchRead,
    HeartbeatRead,
    ImportResult,
    PresenceArea,
    PresenceStats,
    id_problem,
)
from gridgov_sensing.types.models import AlarmType

WRITE_CHUNK = 5000
MAX_DETAILS = 50


def _refused(message: str, message_zh: str, details: list[ErrorDetail]) -> ValidationFailed:
    error = ValidationFailed(message, details)
    error.message_zh = message_zh
    return error


def is_online(heartbeat_at: datetime | None, now: datetime, window_s: int) -> bool:
    """Whether a heartbeat is recent enough for the device to count as online."""
    return heartbeat_at is not None and now - heartbeat_at <= timedelta(seconds=window_s)


def read_of(device: Device, now: datetime, window_s: int) -> DeviceRead:
    """The API shape of a stored device."""
    return DeviceRead(device_id=device.device_id, kind=device.kind, name=device.name, lon=device.lon, lat=device.lat,
                      grid_code=device.grid_code, village_code=device.village_code, town_code=device.town_code,
                      owner_department=device.owner_department, algorithms=list(device.algorithms or ()),
                      heartbeat_at=device.heartbeat_at, online=is_online(device.heartbeat_at, now, window_s),
                      created_at=device.created_at, updated_at=device.updated_at)


def _check_algorithms(session: Session, rows: Sequence[tuple[str, DeviceUpdate]]) -> list[ErrorDetail]:
    known = set(session.exec(select(AlarmType.code)))
    return [ErrorDetail(f"{prefix}algorithms[{j}]", "not an alarm type's code", "不是已有告警类型的编码")
            for prefix, row in rows for j, code in enumerate(row.algorithms) if code not in known][:MAX_DETAILS]


def _places(registry: RegistryClient, rows: Sequence[tuple[str, DeviceUpdate]],
            progress: Callable[[int], None] | None = None) -> list[GridPlace]:
    """The grid of each row's position; ValidationFailed naming ``lon`` of every row outside all grids."""
    places = registry.locate([(row.lon, row.lat) for _, row in rows], progress)
    outside = [ErrorDetail(f"{prefix}lon", "the position is in no grid of the grid set in effect",
                           "该位置不在现行网格划分的任何网格内")
               for (prefix, _), place in zip(rows, places, strict=True) if place.grid_code is None]
    if outside:
        raise _refused("device outside every grid", "设备位置不在任何网格内", outside[:MAX_DETAILS])
    return places


def _taken(device_id: str) -> Conflict:
    error = Conflict(f"device {device_id} is already registered",
                     [ErrorDetail("device_id", "already registered", "该设备已登记")])
    error.message_zh = f"设备 {device_id} 已登记"
    return error


def register_device(db: Database, registry: RegistryClient, body: DeviceCreate, now: datetime,
                    window_s: int) -> DeviceRead:
    """Register one device, placed in its grid; 409 when the id is taken."""
    problem = id_problem(body.kind, body.device_id)
    if problem:
        raise _refused("bad device id", "设备编号不符合要求",
                       [ErrorDetail("device_id", problem, "摄像机编号须为 GB/T 28181 规定的 20 位数字")])
    with db.session() as session:
        details = _check_algorithms(session, [("", body)])
        if details:
            raise _refused("unknown alarm types", "告警类型不存在", details)
        if service.get(session, body.device_id) is not None:
            raise _taken(body.device_id)
    (place,) = _places(registry, [("", body)])
    device = Device(**body.model_dump(), grid_code=place.grid_code, village_code=place.village_code,
                    town_code=place.town_code, created_at=now, updated_at=now)
    with db.session() as session:
        if service.get(session, body.device_id) is not None:  # registered meanwhile, while grid-registry answered
            raise _taken(body.device_id)
        session.add(device)
        service.bump_version(session, "devices")
        session.commit()
        session.refresh(device)
        return read_of(device, now, window_s)


def update_device(db: Database, registry: RegistryClient, device_id: str, body: DeviceUpdate, now: datetime,
                  window_s: int) -> DeviceRead:
    """Change a device; a new position is placed in its grid again (a move)."""
    with db.session() as session:
        device = service.get_or_raise(session, device_id)
        details = _check_algorithms(session, [("", body)])
        moved = (device.lon, device.lat) != (body.lon, body.lat)
    if details:
        raise _refused("unknown alarm types", "告警类型不存在", details)
    place = _places(registry, [("", body)])[0] if moved else None
    with db.session() as session:
        device = service.get_or_raise(session, device_id)
        for name, value in body.model_dump().items():
            setattr(device, name, value)
        if place is not None:
            device.grid_code, device.village_code, device.town_code = (place.grid_code, place.village_code,
                                                                       place.town_code)
        device.updated_at = now
        session.add(device)
        service.bump_version(session, "devices")
        session.commit()
        session.refresh(device)
        return read_of(device, now, window_s)


def get_device(db: Database, device_id: str, now: datetime, window_s: int) -> DeviceRead:
    """One device."""
    with db.session() as session:
        return read_of(service.get_or_raise(session, device_id), now, window_s)


def list_devices(db: Database, *, bbox: tuple[float, float, float, float] | None, kind: str | None,
                 online: bool | None, grid: str | None, limit: int, offset: int, now: datetime,
                 window_s: int, spread: bool = False, village: str | None = None,
                 town: str | None = None) -> DeviceCollection:
    """A page of devices as GeoJSON, with the total and whether the page cut the matches off."""
    with db.session() as session:
        rows, total = service.list_devices(session, bbox=bbox, kind=kind, online=online, grid=grid,
                                           online_since=now - timedelta(seconds=window_s), limit=limit,
                                           offset=offset, spread=spread, village=village, town=town)
    features = []
    for d in rows:
        props = read_of(d, now, window_s).model_dump(mode="json", exclude={"lon", "lat"})
        features.append(DeviceFeature(id=d.device_id, geometry={"type": "Point", "coordinates": [d.lon, d.lat]},
                                      properties=props))
    return DeviceCollection(features=features, total=total, truncated=offset + len(rows) < total)


def heartbeat(db: Database, device_id: str, now: datetime, window_s: int) -> HeartbeatRead:
    """Record that a device is alive now (a round of one: ``heartbeats``)."""
    if heartbeats(db, [device_id], now).unknown_count:
        raise NotFound("device", device_id)
    return HeartbeatRead(device_id=device_id, heartbeat_at=now, online=True)


def device_presence(db: Database, by: str, now: datetime, window_s: int, *, town: str | None = None,
                    village: str | None = None, kind: str | None = None) -> PresenceStats:
    """The devices' online rate overall and per ``by`` area (the lowest rate first, then by code)."""
    with db.session() as session:
        counts = service.presence_counts(session, by, now - timedelta(seconds=window_s), town=town, village=village,
                                         kind=kind)
    areas = sorted((PresenceArea(code=code, total=n, online=up, offline=n - up, rate=round(up / n, 4))
                    for code, n, up in counts if n), key=lambda a: (a.rate, a.code))
    total, online = sum(a.total for a in areas), sum(a.online for a in areas)
    return PresenceStats(by=by, at=now, online_window_s=window_s, total=total, online=online, offline=total - online,
                         rate=round(online / total, 4) if total else None, areas=areas)


def heartbeats(db: Database, device_ids: Sequence[str], now: datetime) -> HeartbeatBatchRead:
    """Record that these devices are alive now, in one transaction with the "resolved" of those that had an
    offline alarm; the ids not registered are named in the answer (a gateway's round is not refused for one device
    it still lists after the registry dropped it)."""
    ids = list(dict.fromkeys(device_ids))
    with db.session() as session:
        found, marked = service.touch_heartbeats(session, ids, now)
        offline.stage_back_online(db, session, marked, now)
        session.commit()
    unknown = [i for i in ids if i not in found]
    return HeartbeatBatchRead(heartbeat_at=now, recorded=len(found), unknown_count=len(unknown),
                              unknown=unknown[:UNKNOWN_SHOWN])


def import_devices(db: Database, registry: RegistryClient, rows: Sequence[tuple[str, DeviceCreate]],
                   now: datetime, progress: Callable[[str, int], None] | None = None) -> ImportResult:
    """Register or replace many devices (each placed in its grid): all of them, or none when one is refused.
    ``rows`` pairs each device with the prefix its fields are named by in an error (``rows[3].``); ``progress``
    hears ``(stage, count)`` as points are located and devices written."""
    with db.session() as session:
        details = _check_algorithms(session, rows)
    if details:
        raise _refused("devices refused: nothing was imported", "设备导入被拒绝，未导入任何设备", details)
    places = _places(registry, rows, progress and (lambda n: progress("locate", n)))
    records = [{**row.model_dump(), "grid_code": p.grid_code, "village_code": p.village_code,
                "town_code": p.town_code} for (_, row), p in zip(rows, places, strict=True)]
    return store_devices(db, records, now, progress and (lambda n: progress("store", n)))


def store_devices(db: Database, records: Sequence[dict[str, Any]], now: datetime,
                  progress: Callable[[int], None] | None = None) -> ImportResult:
    """Insert new devices and replace known ones (heartbeat and creation time kept), in one transaction; the
    records already carry their grid (an import looked it up; the generator placed them in it). ``progress``
    hears how many devices each written chunk held."""
    with db.session() as session:
        known = service.existing_ids(session, [r["device_id"] for r in records])
        new = [{**r, "created_at": now, "updated_at": now, "heartbeat_at": None}
               for r in records if r["device_id"] not in known]
        old = [{**r, "updated_at": now} for r in records if r["device_id"] in known]
        for rows, statement in ((new, sa.insert(Device)), (old, sa.update(Device))):  # update: by primary key
            for start in range(0, len(rows), WRITE_CHUNK):
                session.execute(statement, rows[start:start + WRITE_CHUNK])
                if progress is not None:
                    progress(len(rows[start:start + WRITE_CHUNK]))
        service.bump_version(session, "devices")
        session.commit()
    return ImportResult(imported=len(new), updated=len(old))


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)
