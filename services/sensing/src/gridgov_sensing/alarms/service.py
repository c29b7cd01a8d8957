"""Ingest: the one function every adapter calls (HTTP, GB/T 28181, MQTT, the raw Kafka topic).

``accept_alarms`` checks a whole batch against the device registry and the alarm types (cached: no query per
alarm), and either refuses it naming every bad item, or writes one ``alarm.received`` envelope per alarm to the
outbox in one transaction — keyed by the alarm's fingerprint, so one group's alarms stay on one partition in
order. Nothing is half-stored: the grouping consumer (``alarms/handlers.py``) does the rest from the bus.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import insert
from sqlmodel import Session

from gridgov_common.bus.topics import ALARMS_RAW, ALARMS_RECEIVED, dlq
from gridgov_common.db import Database, write_outbox
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_common.events.alarms import ALARM_RECEIVED, AlarmIn
from gridgov_common.ids import new_id
from gridgov_sensing.alarms.directory import DeviceFacts, TypeFacts, directory_of
from gridgov_sensing.alarms.fingerprint import MissingFingerprintField, fingerprint, values_of

SERVICE = "sensing"
SOURCES = ("http", "gb28181", "mqtt", "kafka", "heartbeat")  # heartbeat: devices/offline.py
FUTURE_SKEW = timedelta(minutes=5)  # a device clock a little ahead is normal; far ahead is a bug
MAX_AGE = timedelta(days=7)  # older alarms are history, not something to act on
DETAILS_MAX = 100  # a refusal names at most this many bad items (a 10,000-alarm batch of garbage stays readable)
_NAMESPACE = uuid.UUID("5e7a1c02-9b4d-4f3e-8a61-2d0c7b9e4f15")
_NAMESPACE_BYTES = _NAMESPACE.bytes


@dataclass(frozen=True)
class AcceptResult:
    """How many alarms were accepted (all of the batch)."""

    accepted: int


def envelope_id(source: str, alarm_id: str | None) -> uuid.UUID:
    """The envelope id of an alarm: derived from the producer's id, so a retried batch is handled once."""
    return uuid.UUID(envelope_id_text(source, alarm_id))


def envelope_id_text(source: str, alarm_id: str | None) -> str:
    """``str(envelope_id(source, alarm_id))``: the text of ``uuid.uuid5`` in sensing's namespace written from the
    SHA-1 directly (building a ``uuid.UUID`` and printing it was a fifth of ingest's time in a profile)."""
    if not alarm_id:
        return new_id()
    name = f"{source}\x1f{alarm_id}".encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name).digest()[:16])  # noqa: S324 - RFC 4122 version 5
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def alarm_fingerprint(alarm: AlarmIn, device: DeviceFacts, kind: TypeFacts) -> str:
    """The fingerprint of an alarm over its type's declared fields (MissingFingerprintField if one is absent)."""
    return fingerprint(kind.fingerprint_fields, values_of(kind.catalog_code, alarm.alarm_type, alarm.device_id,
                                                          device.grid_code, device.village_code, device.town_code,
                                                          alarm.labels))


def accept_alarms(db: Database, alarms: list[AlarmIn], source: str, now: datetime) -> AcceptResult:
    """Check every alarm, then write them all to the outbox in one transaction — or refuse the batch, naming each
    bad item (``alarms[i].device_id``, ``alarms[i].alarm_type``, ``alarms[i].occurred_at``, ``alarms[i].labels.x``)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if not alarms:
        return AcceptResult(0)
    # The batch is checked in a read on a connection of its own (on SQLite: the process's one writing connection is
    # not held meanwhile, by this request or while it waits for a grouping batch's commit), then its rows written in
    # a transaction that holds the write lock only for the insert. A device moved between the two gives the alarm
    # the place it had when it was checked.
    with db.long_read() as session:
        staged = check_alarms(db, session, alarms, source, now)
    with db.session() as session:
        write_outbox(session, staged)
        session.commit()
    return AcceptResult(len(staged))


def stage_alarms(db: Database, session: Session, alarms: list[AlarmIn], source: str, now: datetime) -> AcceptResult:
    """``accept_alarms`` inside the caller's transaction, which commits (a consumer's batch: the raw topic's
    alarms are staged with the handled-message record); refused, nothing is staged and ``ValidationFailed`` names
    each bad item."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if not alarms:
        return AcceptResult(0)
    staged = check_alarms(db, session, alarms, source, now)
    write_outbox(session, staged)
    return AcceptResult(len(staged))


def check_alarms(db: Database, session: Session, alarms: list[AlarmIn], source: str, now: datetime) -> list[tuple]:
    """The outbox rows of a batch, every alarm checked (reads only); ``ValidationFailed`` naming each bad item."""
    directory = directory_of(db)
    directory.refresh(session)
    types = directory.types()
    devices = directory.devices(session, (a.device_id for a in alarms))
    problems: list[ErrorDetail] = []
    staged: list[tuple] = []
    created_at = datetime.now(UTC)
    for i, alarm in enumerate(alarms):
        bad = _problems(i, alarm, devices.get(alarm.device_id), types.get(alarm.alarm_type), now)
        if bad:
            problems.extend(bad)
            continue
        if problems:
            continue  # the batch is refused anyway: only look for more problems
        device, kind = devices[alarm.device_id], types[alarm.alarm_type]
        try:
            print_ = alarm_fingerprint(alarm, device, kind)
        except MissingFingerprintField as exc:
            problems.append(ErrorDetail(f"alarms[{i}].{exc.api_field}", exc.details[0].reason))
            continue
        staged.append(_outbox_row(alarm, print_, source, device, created_at))
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the batch; nothing was accepted",
                               problems[:DETAILS_MAX])
    return staged


def _problems(i: int, alarm: AlarmIn, device: DeviceFacts | None, kind: TypeFacts | None,
              now: datetime) -> list[ErrorDetail]:
    """What is wrong with one alarm of the batch (empty when nothing)."""
    found: list[ErrorDetail] = []
    if device is None:
        found.append(ErrorDetail(f"alarms[{i}].device_id", "not a registered device",
                                 "不是已登记的设备"))
    if kind is None:
        found.append(ErrorDetail(f"alarms[{i}].alarm_type", "not a known alarm type", "不是已知的告警类型"))
    if alarm.occurred_at > now + FUTURE_SKEW:
        found.append(ErrorDetail(f"alarms[{i}].occurred_at", "more than 5 minutes in the future",
                                 "晚于当前时间超过5分钟"))
    elif alarm.occurred_at < now - MAX_AGE:
        found.append(ErrorDetail(f"alarms[{i}].occurred_at", "more than 7 days in the past", "早于当前时间超过7天"))
    return found


def _outbox_row(alarm: AlarmIn, print_: str, source: str, device: DeviceFacts, created_at: datetime) -> tuple:
    """The outbox row of an accepted alarm: its ``alarm.received`` envelope, keyed by its fingerprint."""
    message_id = envelope_id_text(source, alarm.alarm_id)
    # Every part is validated already (the alarm by its adapter, the rest is ours): the payload is
    # ``AlarmReceived(...).model_dump(mode="json")`` written as a dict, and the envelope's bytes are the ones
    # ``Envelope.to_bytes`` writes (tests compare them), without building the model: constructing the envelope and
    # staging it cost half of ingest's CPU.
    payload = {"alarm": alarm.model_dump(mode="json"), "fingerprint": print_, "source": source,
               "device_kind": device.kind, "grid_code": device.grid_code, "village_code": device.village_code,
               "town_code": device.town_code, "lon": device.lon, "lat": device.lat,
               "owner_department": device.owner_department}
    value = orjson.dumps({"id": message_id, "type": ALARM_RECEIVED, "version": 1, "occurred_at": datetime.now(UTC),
                          "producer": SERVICE, "key": print_, "correlation_id": message_id, "causation_id": None,
                          "payload": payload})
    return (ALARMS_RECEIVED, print_, message_id, value, created_at)


def reject_raw(db: Database, raw: bytes, reason: str, source: str = "mqtt", key: str = "") -> None:
    """Record input that cannot become an alarm (an MQTT payload ingest refused) on ``gridgov.alarms.raw.dlq``,
    through the outbox, in the shape of the consumer loop's dead letters: the original bytes and the reason."""
    body = {"error": reason, "consumer": f"sensing.{source}", "topic": ALARMS_RAW, "partition": None, "offset": None,
            "key": key, "value": raw.decode("utf-8", errors="replace"), "failed_at": datetime.now(UTC).isoformat()}
    with db.session() as session:
        session.execute(insert(db.tables.outbox).values(
            topic=dlq(ALARMS_RAW), key=key, message_id=new_id(),
            value=json.dumps(body, ensure_ascii=False).encode(), created_at=datetime.now(UTC)))
        session.commit()
    db.outbox_written.set()
