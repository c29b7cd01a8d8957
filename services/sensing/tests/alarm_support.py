"""Helpers of the alarm tests: a sensing database with the seeded types and a few devices, and a bus-less loop
that hands the outbox's ``alarm.received`` envelopes to the grouping consumer, as the relay and runner would."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import ALARMS_RECEIVED
from gridgov_common.consumers import consumer_spec
from gridgov_common.db import Database
from gridgov_common.events.alarms import AlarmIn
from gridgov_sensing.alarms import models as _alarm_models  # noqa: F401 - registers the tables
from gridgov_sensing.alarms.consumers import ALARMS, TICKETS
from gridgov_sensing.alarms.handlers import grouping_context
from gridgov_sensing.alarms.models import AlarmGroup
from gridgov_sensing.devices.models import Device
from gridgov_sensing.devices.service import bump_version
from gridgov_sensing.suppression import models as _rule_models  # noqa: F401
from gridgov_sensing.tables import metadata
from gridgov_sensing.types import models as _type_models  # noqa: F401
from gridgov_sensing.types.handlers import seed_alarm_types
from gridgov_sensing.verification import models as _task_models  # noqa: F401

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
CAMERA = "44190000001320000001"
CAMERA_2 = "44190000001320000002"
SENSOR = "IOT-manhole-1"
GRID, VILLAGE, TOWN = "441900001001001", "441900001001", "441900001"
GRID_2 = "441900001001002"


class Clock:
    """A settable clock for the grouping context (the repeat throttle reads it)."""

    def __init__(self, at: datetime = NOW):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def make_db(url: str, migrate: bool = False) -> Database:
    """A sensing database (tables from the metadata, or by the migrations), the seeded types and three devices."""
    db = Database(url, metadata, "sensing")
    if migrate:
        from gridgov_common.migrations import upgrade_to_head

        upgrade_to_head(db, "gridgov_sensing")
    else:
        db.create_all()
    seed_alarm_types(db)
    with db.session() as session:
        for device_id, kind, grid in ((CAMERA, "camera", GRID), (CAMERA_2, "camera", GRID_2),
                                      (SENSOR, "sensor", GRID)):
            session.add(Device(device_id=device_id, kind=kind, name=f"{device_id} 东城路口", lon=113.75, lat=23.02,
                               grid_code=grid, village_code=VILLAGE, town_code=TOWN, owner_department="urban",
                               algorithms=[], created_at=NOW, updated_at=NOW))
        bump_version(session, "devices")
        session.commit()
    return db


def alarm(alarm_type: str = "exposed_garbage", device_id: str = CAMERA, at: datetime = NOW, **more) -> AlarmIn:
    """An alarm (firing by default) of a known camera and type."""
    return AlarmIn(device_id=device_id, alarm_type=alarm_type, occurred_at=at, **more)


def take_outbox(db: Database, topic: str) -> list[Envelope]:
    """The staged messages of a topic, removed from the outbox (as the relay would publish them)."""
    outbox = db.tables.outbox
    with db.engine.begin() as conn:
        rows = conn.execute(select(outbox.c.id, outbox.c.value).where(outbox.c.topic == topic)
                            .order_by(outbox.c.id)).all()
        conn.execute(delete(outbox).where(outbox.c.id.in_([r.id for r in rows])))
    return [Envelope.from_bytes(bytes(r.value)) for r in rows]


def deliver(db: Database, clock: Clock | None = None, envelopes: Iterable[Envelope] | None = None,
            repeat_interval_s: int = 600) -> list[Envelope]:
    """Hand the outbox's accepted alarms (or these envelopes) to the grouping consumer as one batch."""
    batch = list(envelopes) if envelopes is not None else take_outbox(db, ALARMS_RECEIVED)
    clock = clock or Clock()
    spec = consumer_spec(db, ALARMS, lambda: grouping_context(db, repeat_interval_s, clock))
    if batch:
        spec.handler(batch)
    return batch


def deliver_tickets(db: Database, envelopes: list[Envelope]) -> None:
    """Hand ticket events to the tickets consumer."""
    consumer_spec(db, TICKETS, lambda: None).handler(envelopes)


def groups(db: Database, **where) -> list[AlarmGroup]:
    """The alarm groups, oldest first, filtered by column values."""
    with db.session() as session:
        query = select(AlarmGroup).order_by(AlarmGroup.created_at, AlarmGroup.id)
        for name, value in where.items():
            query = query.where(getattr(AlarmGroup, name) == value)
        return list(session.execute(query).scalars())


def minutes(n: float) -> timedelta:
    """n minutes."""
    return timedelta(minutes=n)
