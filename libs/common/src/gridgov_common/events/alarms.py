"""Payloads on the alarm topics (issue #16): ``gridgov.alarms.raw``, ``gridgov.alarms.received``,
``gridgov.alarms.events``.

A camera's AI algorithm or a sensor raises an alarm (``AlarmIn``, what every sensing adapter produces); sensing
checks it against its device registry and alarm types and publishes it on ``gridgov.alarms.received`` keyed by its
fingerprint (so one fingerprint stays on one partition), with the device's place. Sensing's grouping consumer then
folds repeats into one alarm group per fingerprint; what a case's ticket needs to learn of them (a repeat's
evidence, the device's "resolved") travels on ``gridgov.alarms.events`` as ``AlarmGroupEvent``, keyed by report id.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from gridgov_common.events.reports import Code, Id
from gridgov_common.schemas import Latitude, Longitude, Number, SafeText

ALARM_RAW = "alarm.raw"  # on gridgov.alarms.raw: a city video platform's AlarmIn, key = device id
ALARM_RECEIVED = "alarm.received"  # on gridgov.alarms.received: AlarmReceived, key = fingerprint
ALARM_GROUP_REPEATED = "alarm_group.repeated"  # on gridgov.alarms.events: AlarmGroupEvent, key = report id
ALARM_GROUP_RESOLVED = "alarm_group.resolved"

AlarmState = Literal["firing", "resolved"]
Severity = Literal["info", "minor", "major", "critical"]
# heartbeat: the platform's own offline alarm of a device whose heartbeat went stale (sensing devices/offline.py)
AlarmSource = Literal["http", "gb28181", "mqtt", "kafka", "heartbeat"]
DeviceKind = Literal["camera", "sensor"]

LABELS_MAX = 20
URL_MAX = 500
# A GB/T 28181 device id is 20 digits; a sensor's id any of these characters: both fit one pattern.
DEVICE_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]


def _http_url(value: str) -> str:
    """Refuse a snapshot URL that is not http(s): a ``javascript:`` or ``file:`` URL would reach the console."""
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value


SnapshotUrl = Annotated[SafeText, Field(max_length=URL_MAX), AfterValidator(_http_url)]


class Evidence(BaseModel):
    """What the device saw: a snapshot URL (camera) or a reading (sensor); both optional."""

    snapshot_url: SnapshotUrl | None = None
    reading: Number | None = None
    unit: Code | None = None  # e.g. "m", "%LEL", "ppm"


class AlarmIn(BaseModel):
    """One alarm as every adapter produces it (HTTP, GB/T 28181, MQTT, the raw Kafka topic)."""

    alarm_id: Id | None = None  # the producer's id: a retried batch is idempotent (envelope id = uuid5)
    device_id: DeviceId
    alarm_type: Code  # a code of sensing's alarm-type table, e.g. "exposed_garbage"
    state: AlarmState = "firing"
    severity: Severity = "minor"
    occurred_at: AwareDatetime  # the time window (5 min ahead, 7 days back) is checked at ingest against its now
    confidence: Annotated[Number, Field(ge=0, le=1)] | None = None
    evidence: Evidence | None = None
    labels: dict[Code, Code] = Field(default={}, max_length=LABELS_MAX)


class AlarmReceived(BaseModel):
    """An accepted alarm with its fingerprint and the device's place as the registry had it at ingest."""

    alarm: AlarmIn
    fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{16,64}$")]
    source: AlarmSource
    device_kind: DeviceKind
    grid_code: Code | None = None
    village_code: Code | None = None
    town_code: Code | None = None
    lon: Longitude | None = None
    lat: Latitude | None = None
    owner_department: Code | None = None


class AlarmGroupEvent(BaseModel):
    """A case's alarm group repeated or resolved: the evidence its ticket records (key = report id)."""

    group_id: Id
    report_id: Id
    alarm_type: Code
    catalog_code: Code
    device_id: DeviceId
    count: int = Field(ge=1)
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    evidence: Evidence | None = None
    resolved_verifies: bool = False  # the alarm type lets a device's "resolved" count as verification
