"""The raw alarm topic: a city's video-analytics platform publishes its alarms straight to the bus.

It writes envelopes of type ``alarm.raw`` (payload: one ``AlarmIn``, key: the device id) to ``gridgov.alarms.raw``;
the consumer group ``sensing.raw`` checks each one and stages its ``alarm.received`` in the same transaction as
the record that the raw message was handled — so a redelivered raw message is handled once, and an accepted
alarm is never lost between the two. An envelope whose payload is not an alarm, or that ingest refuses (unknown
device or alarm type, time outside the window, a fingerprint field missing), raises ``RawAlarmRefused`` naming
the field: the common consumer loop dead-letters it to ``gridgov.alarms.raw.dlq`` with that reason and goes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import ALARMS_RAW
from gridgov_common.consumers import MessageTable
from gridgov_common.db import Database
from gridgov_common.errors import ValidationFailed
from gridgov_common.events.alarms import ALARM_RAW
from gridgov_sensing.adapters.mqtt import field_path
from gridgov_sensing.alarms.schemas import AlarmIn
from gridgov_sensing.alarms.service import stage_alarms
from gridgov_sensing.settings import SensingSettings

SOURCE = "kafka"  # the ingest's source of the raw topic's alarms
GROUP = "sensing.raw"
_ONE_OF_BATCH = re.compile(r"^alarms\[0\]\.?")


class RawAlarmRefused(ValueError):
    """A raw message that cannot become an alarm; the text names each field and why (the DLQ record's error)."""


def accept_raw_alarm(db: Database, session: Session, envelope: Envelope) -> None:
    """Check one ``alarm.raw`` and stage its ``alarm.received`` in the batch's transaction, or refuse it."""
    try:
        alarm = AlarmIn.model_validate(envelope.payload)
    except ValidationError as exc:
        raise RawAlarmRefused("; ".join(f"payload.{field_path(e['loc'])}: {e['msg']}" for e in exc.errors())) from None
    try:
        stage_alarms(db, session, [alarm], SOURCE, datetime.now(UTC))
    except ValidationFailed as exc:
        # Ingest names the items of a batch (alarms[0].device_id); here the batch is the one payload.
        raise RawAlarmRefused("; ".join(f"payload.{_ONE_OF_BATCH.sub('', d.field)}: {d.reason}"
                                        for d in exc.details) or exc.message) from None


RAW_TABLE = MessageTable[Database](GROUP, (ALARMS_RAW,), {ALARM_RAW: (accept_raw_alarm,)})


def raw_deps(db: Database, _settings: SensingSettings) -> Callable[[], Database]:
    """The raw table's per-batch dependencies: the database (ingest's cached directory is per database)."""
    return lambda: db
