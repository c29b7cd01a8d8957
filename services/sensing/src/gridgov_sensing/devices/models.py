"""Devices: the city's cameras (GB/T 28181 ids) and sensors, each placed in its grid once, when registered or
moved; and the version counters that tell every process's caches when devices or alarm types changed."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_sensing.tables import SensingTable


class Device(SensingTable, table=True):
    """One camera or sensor: where it stands, its grid (looked up at register/move), what it detects."""

    __tablename__ = "device"
    __table_args__ = (sa.Index("ix_device_lon_lat", "lon", "lat"),)

    device_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16, index=True)  # camera | sensor
    name: str = Field(max_length=200)
    lon: float
    lat: float
    grid_code: str = Field(max_length=64, index=True)
    village_code: str = Field(max_length=64)
    town_code: str = Field(max_length=64)
    owner_department: str | None = Field(default=None, max_length=64)
    algorithms: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # alarm-type codes it raises
    heartbeat_at: datetime | None = Field(default=None, index=True)
    # When the platform raised this device's offline alarm (its heartbeat went stale); None while it is heard or
    # was never heard from. Cleared, with a "resolved" alarm, by the next heartbeat. Not indexed: the offline watch
    # reads the silent devices by ``heartbeat_at``'s index, and a partial index of the watched devices moved on every
    # heartbeat cost each device of a round 4.0 µs more CPU, 8.1 -> 12.1 µs (bench/heartbeat_rounds.py, medians of
    # four interleaved runs; 7.7 -> 8.0 without it), where walking past 20,000 devices alarmed already costs a sweep
    # 5.0 ms on SQLite and 7.1 ms on PostgreSQL (median of 7, once a minute).
    offline_alarm_at: datetime | None = Field(default=None)
    created_at: datetime
    updated_at: datetime


class SensingVersion(SensingTable, table=True):
    """A counter per cached directory (``devices``, ``alarm_types``), moved on in the transaction of every change,
    so the ingest's in-process caches know to reload without a query per alarm."""

    __tablename__ = "sensing_version"

    name: str = Field(primary_key=True, max_length=32)
    version: int = 0
