"""The ingest's in-process view of the device registry and the alarm types, so no alarm costs a query.

Both are refreshed by the version counters (``sensing_version``) that every device or alarm-type change moves on
in its own transaction: one small query per batch tells whether the cache still holds. Alarm types are few and
loaded whole; devices (450,000 in Dongguan) are loaded on demand, the missing ones of a batch in one query per
5,000 ids, and kept up to ``DEVICE_CACHE_MAX`` (then dropped whole: the next batches refill what is in use).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov_common.db import Database
from gridgov_sensing.devices.models import Device, SensingVersion
from gridgov_sensing.types.models import AlarmType

DEVICE_CACHE_MAX = 500_000
CHUNK = 5000


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What an alarm needs of its device: kind and place (looked up once, at register/move)."""

    device_id: str
    kind: str
    name: str
    grid_code: str | None
    village_code: str | None
    town_code: str | None
    lon: float | None
    lat: float | None
    owner_department: str | None


@dataclass(frozen=True, slots=True)
class TypeFacts:
    """What grouping needs of an alarm type (windows in seconds)."""

    code: str
    name_zh: str
    kind: str
    catalog_code: str
    fingerprint_fields: tuple[str, ...]
    dedupe_window_s: int
    case_policy: str
    min_confidence: float | None
    resolved_verifies: bool
    flap_threshold: int
    flap_window_s: int


class Directory:
    """Cached devices and alarm types of one database, safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[str, int] | None = None
        self._devices: dict[str, DeviceFacts] = {}
        self._types: dict[str, TypeFacts] = {}

    def refresh(self, session: Session) -> dict[str, int]:
        """Drop what changed since the last look (one query of the version counters); the versions now."""
        now = {name: version for name, version in session.execute(
            select(SensingVersion.name, SensingVersion.version))}
        with self._lock:
            if self._versions is not None and now == self._versions:
                return now
            old = self._versions or {}
            if self._versions is None or now.get("devices") != old.get("devices"):
                self._devices = {}
            if self._versions is None or now.get("alarm_types") != old.get("alarm_types"):
                self._types = {row.code: _type_facts(row) for row in session.execute(select(AlarmType)).scalars()}
            self._versions = now
        return now

    def types(self) -> dict[str, TypeFacts]:
        """Every alarm type, by code (after ``refresh``)."""
        return self._types

    def devices(self, session: Session, device_ids: Iterable[str]) -> dict[str, DeviceFacts]:
        """The registered devices among these ids (after ``refresh``): cached, the missing ones in chunks."""
        wanted = set(device_ids)
        cache = self._devices
        missing = [d for d in wanted if d not in cache]
        loaded: dict[str, DeviceFacts] = {}
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start:start + CHUNK]
            table = Device.__table__
            for row in session.execute(select(table).where(table.c.device_id.in_(chunk))):
                loaded[row.device_id] = DeviceFacts(row.device_id, row.kind, row.name, row.grid_code,
                                                    row.village_code, row.town_code, row.lon, row.lat,
                                                    row.owner_department)
        if loaded:
            with self._lock:
                if len(self._devices) + len(loaded) > DEVICE_CACHE_MAX:
                    self._devices = {}
                self._devices.update(loaded)
                cache = self._devices
        found: dict[str, DeviceFacts] = {}
        for device_id in wanted:
            facts = cache.get(device_id) or loaded.get(device_id)
            if facts is not None:
                found[device_id] = facts
        return found

    def forget(self) -> None:
        """Drop everything (tests, and a change made without moving a version)."""
        with self._lock:
            self._versions = None
            self._devices = {}
            self._types = {}


def _type_facts(row: AlarmType) -> TypeFacts:
    return TypeFacts(row.code, row.name_zh, row.kind, row.catalog_code, tuple(row.fingerprint_fields),
                     row.dedupe_window_s, row.case_policy, row.min_confidence, row.resolved_verifies,
                     row.flap_threshold, row.flap_window_s)


_directories: weakref.WeakKeyDictionary[Database, Directory] = weakref.WeakKeyDictionary()
_directories_lock = threading.Lock()


def directory_of(db: Database) -> Directory:
    """The one directory of a database in this process."""
    found = _directories.get(db)
    if found is None:
        with _directories_lock:
            found = _directories.get(db)
            if found is None:
                found = _directories[db] = Directory()
    return found
