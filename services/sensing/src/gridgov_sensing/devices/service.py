"""Queries and guarded writes on the device table, and the version counters of the cached directories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from gridgov_common.db import one_of
from gridgov_common.errors import NotFound
from gridgov_sensing.devices.models import Device, SensingVersion


def bump_version(session: Session, name: str) -> None:
    """Move a directory's version on in the caller's transaction (``devices`` or ``alarm_types``)."""
    updated = session.execute(sa.update(SensingVersion).where(col(SensingVersion.name) == name)
                              .values(version=SensingVersion.version + 1))
    if updated.rowcount == 0:
        session.add(SensingVersion(name=name, version=1))
        session.flush()


def versions(session: Session) -> dict[str, int]:
    """Every directory's version now."""
    return {row.name: row.version for row in session.exec(select(SensingVersion))}


def get(session: Session, device_id: str) -> Device | None:
    """One device, or None."""
    return session.get(Device, device_id)


def get_or_raise(session: Session, device_id: str) -> Device:
    """One device, or NotFound."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound("device", device_id)
    return device


def existing_ids(session: Session, device_ids: Sequence[str]) -> set[str]:
    """Which of these ids are registered (queried in chunks)."""
    found: set[str] = set()
    for start in range(0, len(device_ids), 5000):
        chunk = list(device_ids[start:start + 5000])
        found.update(session.exec(select(Device.device_id).where(col(Device.device_id).in_(chunk))))
    return found


def get_many(session: Session, device_ids: Sequence[str]) -> dict[str, Device]:
    """The registered devices among these ids, by id (queried in chunks)."""
    found: dict[str, Device] = {}
    for start in range(0, len(device_ids), 5000):
        chunk = list(device_ids[start:start + 5000])
        found.update((d.device_id, d) for d in session.exec(select(Device).where(col(Device.device_id).in_(chunk))))
    return found


def _filtered(query, *, bbox: tuple[float, float, float, float] | None, kind: str | None, online: bool | None,
              grid: str | None, online_since: datetime, village: str | None = None, town: str | None = None):
    if bbox is not None:
        west, south, east, north = bbox
        query = query.where(col(Device.lon).between(west, east), col(Device.lat).between(south, north))
    if kind is not None:
        query = query.where(Device.kind == kind)
    if grid is not None:
        query = query.where(Device.grid_code == grid)
    if village is not None:
        query = query.where(Device.village_code == village)
    if town is not None:
        query = query.where(Device.town_code == town)
    if online is True:
        query = query.where(col(Device.heartbeat_at) >= online_since)
    elif online is False:
        query = query.where(sa.or_(col(Device.heartbeat_at).is_(None), col(Device.heartbeat_at) < online_since))
    return query


def list_devices(session: Session, *, bbox: tuple[float, float, float, float] | None, kind: str | None,
                 online: bool | None, grid: str | None, online_since: datetime, limit: int,
                 offset: int, spread: bool = False, village: str | None = None,
                 town: str | None = None) -> tuple[list[Device], int]:
    """A page of the devices matching the filters (by id, or ``spread``: by the id's last six characters first)
    and how many match in all."""
    filters = dict(bbox=bbox, kind=kind, online=online, grid=grid, online_since=online_since, village=village,
                   town=town)
    total = session.exec(_filtered(select(func.count()).select_from(Device), **filters)).one()
    # Why spread: ids group by place (a GB/T 28181 id begins with its centre's code, so the first 5,000 by id
    # are a few towns'); their serial at the end runs in every centre alike, so ordering by it first takes a
    # page from all over the box. Still a total order, so pages do not overlap.
    order = ((func.substr(Device.device_id, func.length(Device.device_id) - 5), Device.device_id) if spread
             else (Device.device_id,))
    rows = session.exec(_filtered(select(Device), **filters).order_by(*order).limit(limit).offset(offset))
    return list(rows), int(total)


def presence_counts(session: Session, by: str, online_since: datetime, *, town: str | None = None,
                    village: str | None = None, kind: str | None = None) -> list[tuple[str, int, int]]:
    """``(area code, devices, online)`` per town, village or grid (``by``) among the devices matching the filters:
    one grouped query, online meaning a heartbeat at or after ``online_since``."""
    area = {"town": Device.town_code, "village": Device.village_code, "grid": Device.grid_code}[by]
    online = func.sum(sa.case((col(Device.heartbeat_at) >= online_since, 1), else_=0))
    query = _filtered(select(area, func.count(), online), bbox=None, kind=kind, online=None, grid=None,
                      online_since=online_since, village=village, town=town).group_by(area)
    return [(code, int(n), int(up or 0)) for code, n, up in session.execute(query)]


@dataclass(frozen=True)
class Heard:
    """A device of a heartbeat round that had an offline mark: its kind, and the mark as it was before the round."""

    kind: str
    offline_alarm_at: datetime


def touch_heartbeats(session: Session, device_ids: Sequence[str],
                     at: datetime) -> tuple[set[str], dict[str, Heard]]:
    """Record a heartbeat at ``at`` for every registered one of ``device_ids`` (never moving one back); the ids
    registered, and those of them with an offline mark as it was before the round (in the same read). One UPDATE
    per 5,000 ids, touching only the rows whose heartbeat is older. On PostgreSQL the ids go as one array
    (``one_of``): as 5,000 bound parameters a round took 201-203 ms and 140-150 ms of sensing CPU, as one array
    79-95 ms and 30-40 ms (bench/results/heartbeat_rounds.json)."""
    found: set[str] = set()
    marked: dict[str, Heard] = {}
    dialect = session.get_bind().dialect.name
    for start in range(0, len(device_ids), 5000):
        chunk = list(device_ids[start:start + 5000])
        for device_id, kind, since in session.exec(select(Device.device_id, Device.kind, Device.offline_alarm_at)
                                                   .where(one_of(col(Device.device_id), chunk, dialect))):
            found.add(device_id)
            if since is not None:
                marked[device_id] = Heard(kind, since)
    for start in range(0, len(device_ids), 5000):
        chunk = list(device_ids[start:start + 5000])
        session.execute(sa.update(Device).where(one_of(col(Device.device_id), chunk, dialect),
                                                sa.or_(col(Device.heartbeat_at).is_(None),
                                                       col(Device.heartbeat_at) < at))
                        .values(heartbeat_at=at))
    return found, marked
