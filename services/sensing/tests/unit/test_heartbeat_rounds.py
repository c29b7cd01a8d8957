"""A gateway's round of heartbeats (``handlers.heartbeats``) on SQLite and PostgreSQL: every registered device of
the round is online at the round's time, the unregistered are named and stored nowhere, a late round never moves a
heartbeat back, and a round of 5,000 devices is one transaction of one UPDATE per 5,000 ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from gridgov_sensing.devices import handlers, service
from gridgov_sensing.devices.models import Device
from services.sensing.tests.alarm_support import (
    CAMERA,
    CAMERA_2,
    GRID,
    GRID_2,
    NOW,
    SENSOR,
    TOWN,
    VILLAGE,
    make_db,
)

MANY = 5000


def add_many(db) -> list[str]:
    """``MANY`` more cameras, never heard from."""
    ids = [f"4419000000132{i:07d}" for i in range(100, 100 + MANY)]
    with db.session() as session:
        session.add_all([Device(device_id=i, kind="camera", name="路口", lon=113.75, lat=23.02, grid_code=GRID,
                                village_code=VILLAGE, town_code=TOWN, algorithms=[], created_at=NOW, updated_at=NOW)
                         for i in ids])
        session.commit()
    return ids


def heartbeats(db) -> dict[str, object]:
    with db.session() as session:
        return dict(session.execute(select(Device.device_id, Device.heartbeat_at)).all())


def check(url: str) -> None:
    db = make_db(url)
    try:
        answer = handlers.heartbeats(db, [CAMERA, "NOT-REGISTERED", SENSOR, CAMERA], NOW)
        assert (answer.recorded, answer.unknown_count, answer.unknown) == (2, 1, ["NOT-REGISTERED"])
        beats = heartbeats(db)
        assert beats[CAMERA] == NOW and beats[SENSOR] == NOW and beats[CAMERA_2] is None
        assert "NOT-REGISTERED" not in beats

        late = handlers.heartbeats(db, [CAMERA, CAMERA_2], NOW - timedelta(minutes=1))  # a round that arrived late
        assert late.recorded == 2
        beats = heartbeats(db)
        assert beats[CAMERA] == NOW and beats[CAMERA_2] == NOW - timedelta(minutes=1)

        ids = add_many(db)
        updates: list[str] = []

        def seen(_conn, _cursor, statement, *_args) -> None:
            if statement.lstrip().upper().startswith("UPDATE"):
                updates.append(statement)

        event.listen(db.engine, "before_cursor_execute", seen)
        later = NOW + timedelta(minutes=1)
        answer = handlers.heartbeats(db, ids, later)
        event.remove(db.engine, "before_cursor_execute", seen)
        assert (answer.recorded, answer.unknown_count) == (MANY, 0)
        assert len(updates) == 1
        beats = heartbeats(db)
        assert all(beats[i] == later for i in ids) and beats[CAMERA] == NOW

        # the map's spread page (by the ids' last six characters first) is the same query on both databases
        with db.session() as session:
            page, total = service.list_devices(session, bbox=None, kind=None, online=None, grid=None,
                                               online_since=NOW, limit=6, offset=0, spread=True)
        assert total == MANY + 3
        every = [*beats]
        assert [d.device_id for d in page] == sorted(every, key=lambda i: (i[-6:], i))[:6]

        # the online rate per grid, the worst first, in one grouped query on both databases (online: a heartbeat
        # within 30 s of ``later`` — the round of 5,000 and none of the three older ones)
        presence = handlers.device_presence(db, "grid", later, 30)
        assert (presence.total, presence.online, presence.rate) == (MANY + 3, MANY, round(MANY / (MANY + 3), 4))
        assert [(a.code, a.total, a.online) for a in presence.areas] == [(GRID_2, 1, 0), (GRID, MANY + 2, MANY)]
    finally:
        db.metadata.drop_all(db.engine)
        db.engine.dispose()


def test_a_round_of_heartbeats_on_sqlite(tmp_path):
    check(f"sqlite:///{tmp_path}/sensing.db")


@pytest.mark.distributed
def test_a_round_of_heartbeats_on_postgresql(pg_url):
    check(pg_url)
