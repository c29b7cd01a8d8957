"""Devices that fall silent: the platform's own offline alarm (摄像机离线 / 传感器离线), and its end.

A device heard from before whose last heartbeat is older than the online window gets one firing alarm of its
kind's offline type, staged through the same ingest as any device's alarm (``alarms.service.stage_alarms``) in the
transaction that marks it (``device.offline_alarm_at``): a sweep killed mid-way raised all of its batch or none,
and two sweeps (two processes) raise each device once — the marking UPDATE's own WHERE decides, as the database
re-reads a row another transaction changed. The device's next heartbeat clears the mark and stages its
"resolved", which closes its group (record-only by default) or reaches its case's ticket. A device never heard
from is shown offline but raises nothing: nothing was ever up to go down.

A sensing process that has just started raises nothing until it has been up for one online window
(``SensingRuntime.sweep``): while it was down the gateways' heartbeats were not recorded, and the platform's own
outage is not every device's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from gridgov_common.db import Database, one_of
from gridgov_common.events.alarms import AlarmIn
from gridgov_sensing.alarms.service import stage_alarms
from gridgov_sensing.devices.models import Device
from gridgov_sensing.devices.service import Heard
from gridgov_sensing.suppression.service import utc

OFFLINE_TYPES = {"camera": "camera_offline", "sensor": "sensor_offline"}  # by device kind (seeded types)
SOURCE = "heartbeat"  # the alarm log's source of these alarms
SWEEP_BATCH = 2_000  # devices marked (and alarms staged) per transaction
LATE_MAX = timedelta(days=1)  # an offline alarm's occurred_at is never older (ingest refuses beyond 7 days)


@dataclass(frozen=True)
class Silent:
    """A device the sweep marked offline: its kind and its last heartbeat."""

    device_id: str
    kind: str
    heartbeat_at: datetime


def raise_offline_alarms(db: Database, now: datetime, window_s: int, most: int = 100_000) -> int:
    """Mark the devices silent longer than ``window_s`` (heard from before, not yet alarmed) and stage one offline
    alarm each, ``SWEEP_BATCH`` per transaction; how many were raised (at most ``most``)."""
    cutoff = now - timedelta(seconds=window_s)
    raised = 0
    while raised < most:
        size = min(SWEEP_BATCH, most - raised)
        with db.session() as session:
            marked = mark_silent(session, cutoff, now, size)
            alarms = [offline_alarm(d, window_s, now) for d in marked if d.kind in OFFLINE_TYPES]
            if alarms:
                stage_alarms(db, session, alarms, SOURCE, now)
            session.commit()
        raised += len(marked)
        if len(marked) < size:
            break
    return raised


def mark_silent(session: Session, cutoff: datetime, now: datetime, limit: int) -> list[Silent]:
    """Mark at most ``limit`` devices whose heartbeat is older than ``cutoff`` and not yet alarmed (the longest
    silent first); the ones this transaction marked."""
    silent = (sa.select(Device.device_id)
              .where(col(Device.offline_alarm_at).is_(None), col(Device.heartbeat_at).is_not(None),
                     col(Device.heartbeat_at) < cutoff)
              .order_by(col(Device.heartbeat_at)).limit(limit))
    rows = session.execute(
        sa.update(Device)
        .where(col(Device.device_id).in_(silent.scalar_subquery()), col(Device.offline_alarm_at).is_(None),
               col(Device.heartbeat_at) < cutoff)
        .values(offline_alarm_at=now)
        .returning(col(Device.device_id), col(Device.kind), col(Device.heartbeat_at))
        .execution_options(synchronize_session=False))
    return [Silent(r[0], r[1], utc(r[2])) for r in rows]


def offline_alarm(device: Silent, window_s: int, now: datetime) -> AlarmIn:
    """The firing offline alarm of a silent device: it went offline one window after its last heartbeat (or a day
    ago at the earliest, for a device long silent before the watch saw it: the device keeps its last heartbeat)."""
    went = max(device.heartbeat_at + timedelta(seconds=window_s), now - LATE_MAX)
    return AlarmIn(alarm_id=f"offline.{device.device_id}.{_ms(device.heartbeat_at)}", device_id=device.device_id,
                   alarm_type=OFFLINE_TYPES[device.kind], state="firing", severity="minor", occurred_at=went)


def stage_back_online(db: Database, session: Session, marked: Mapping[str, Heard], at: datetime) -> int:
    """In a heartbeat round's transaction: clear the offline mark of the round's devices marked before ``at`` (a
    round that arrives late says nothing about after the alarm) and stage their "resolved" offline alarm; how many.

    ``marked``: the round's devices that had a mark, as the round read them (``service.touch_heartbeats``): an UPDATE
    only for those, so the usual round (none marked) costs nothing more. A sweep that marks a device between that
    read and the round's commit leaves it marked and online; its next round resolves it."""
    due = {device_id: heard for device_id, heard in marked.items() if utc(heard.offline_alarm_at) <= at}
    if not due:
        return 0
    cleared = set(session.execute(
        sa.update(Device)  # the ids as one array on PostgreSQL, as the round's own statements (up to 5,000)
        .where(one_of(col(Device.device_id), list(due), session.get_bind().dialect.name),
               col(Device.offline_alarm_at) <= at)
        .values(offline_alarm_at=None)
        .returning(col(Device.device_id))
        .execution_options(synchronize_session=False)).scalars())
    back = [AlarmIn(alarm_id=f"online.{device_id}.{_ms(utc(heard.offline_alarm_at))}", device_id=device_id,
                    alarm_type=OFFLINE_TYPES[heard.kind], state="resolved", severity="minor", occurred_at=at)
            for device_id, heard in due.items()
            if device_id in cleared and heard.kind in OFFLINE_TYPES]
    if back:
        stage_alarms(db, session, back, SOURCE, at)
    return len(back)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)
