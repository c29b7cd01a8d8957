"""A device gone silent raises one offline alarm, and its next heartbeat resolves it (``devices/offline.py``), on
SQLite and PostgreSQL with the tables made by the migrations: the window is the online window, a device never heard
from raises nothing, a second sweep raises nothing more, two sweeps at once raise each device once, a late round
of heartbeats resolves nothing, a device long silent before the watch saw it is still accepted by ingest, the sweep
waits one window after the process starts, and a maintenance window holds a device's offline alarm back."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from gridgov_common.bus.topics import ALARMS_RECEIVED
from gridgov_sensing.devices import handlers
from gridgov_sensing.devices.models import Device
from gridgov_sensing.devices.offline import raise_offline_alarms
from services.sensing.tests.alarm_support import (
    CAMERA,
    CAMERA_2,
    GRID,
    NOW,
    SENSOR,
    TOWN,
    VILLAGE,
    Clock,
    deliver,
    groups,
    make_db,
    minutes,
    take_outbox,
)

WINDOW_S = 300


def offline_marks(db) -> dict[str, object]:
    with db.session() as session:
        return dict(session.execute(select(Device.device_id, Device.offline_alarm_at)).all())


def summary(envelopes) -> list[tuple[str, str, str, object]]:
    """Staged alarms as (device, type, state, occurred_at), sorted."""
    return sorted((e.payload["alarm"]["device_id"], e.payload["alarm"]["alarm_type"], e.payload["alarm"]["state"],
                   e.payload["alarm"]["occurred_at"]) for e in envelopes)


def received(db) -> list:
    """The alarms staged since the last call, taken from the outbox (as the relay would)."""
    return take_outbox(db, ALARMS_RECEIVED)


def iso(at) -> str:
    return at.isoformat().replace("+00:00", "Z")


def check(url: str) -> None:
    db = make_db(url, migrate=True)
    try:
        handlers.heartbeats(db, [CAMERA, SENSOR], NOW)  # CAMERA_2 is never heard from
        assert raise_offline_alarms(db, NOW + minutes(4), WINDOW_S) == 0
        assert received(db) == []

        assert raise_offline_alarms(db, NOW + minutes(6), WINDOW_S) == 2
        went = NOW + timedelta(seconds=WINDOW_S)
        envelopes = received(db)
        assert summary(envelopes) == [(CAMERA, "camera_offline", "firing", iso(went)),
                                      (SENSOR, "sensor_offline", "firing", iso(went))]
        assert {e.payload["source"] for e in envelopes} == {"heartbeat"}
        assert offline_marks(db)[CAMERA] == NOW + minutes(6) and offline_marks(db)[CAMERA_2] is None
        assert raise_offline_alarms(db, NOW + minutes(7), WINDOW_S) == 0  # marked: not again

        deliver(db, Clock(NOW + minutes(6)), envelopes)
        opened = groups(db, is_open=True)
        assert sorted((g.device_id, g.alarm_type, g.state, g.count) for g in opened) == [
            (CAMERA, "camera_offline", "recorded", 1), (SENSOR, "sensor_offline", "recorded", 1)]

        # A round that arrives late (sent before the alarm) resolves nothing; the camera's next heartbeat does.
        handlers.heartbeats(db, [SENSOR], NOW + minutes(5.5))
        assert received(db) == []
        handlers.heartbeats(db, [CAMERA], NOW + minutes(10))
        back = received(db)
        assert summary(back) == [(CAMERA, "camera_offline", "resolved", iso(NOW + minutes(10)))]
        assert offline_marks(db)[CAMERA] is None and offline_marks(db)[SENSOR] is not None
        deliver(db, Clock(NOW + minutes(10)), back)
        camera = groups(db, device_id=CAMERA)
        assert [(g.state, g.is_open) for g in camera] == [("resolved", False)]
        assert [g.is_open for g in groups(db, device_id=SENSOR)] == [True]

        # Silent again: a new alarm (the old group is closed); a device silent for 10 days before the watch saw
        # it is accepted, its offline time a day back at the earliest (ingest refuses alarms a week old).
        handlers.heartbeats(db, [CAMERA_2], NOW - timedelta(days=10))
        assert raise_offline_alarms(db, NOW + minutes(20), WINDOW_S) == 2
        assert summary(received(db)) == [
            (CAMERA, "camera_offline", "firing", iso(NOW + minutes(15))),
            (CAMERA_2, "camera_offline", "firing", iso(NOW + minutes(20) - timedelta(days=1)))]
    finally:
        db.metadata.drop_all(db.engine)
        db.engine.dispose()


def check_two_sweeps_at_once(url: str) -> None:
    db = make_db(url, migrate=True)
    ids = [f"4419000000132{i:07d}" for i in range(100, 400)]
    try:
        with db.session() as session:
            session.add_all([Device(device_id=i, kind="camera", name="路口", lon=113.75, lat=23.02, grid_code=GRID,
                                    village_code=VILLAGE, town_code=TOWN, algorithms=[], created_at=NOW,
                                    updated_at=NOW) for i in ids])
            session.commit()
        handlers.heartbeats(db, ids, NOW)
        counts: list[int] = []
        start = threading.Barrier(2)

        def sweep() -> None:
            start.wait()
            counts.append(raise_offline_alarms(db, NOW + minutes(6), WINDOW_S))

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sum(counts) == len(ids)
        staged = [e.payload["alarm"]["device_id"] for e in take_outbox(db, ALARMS_RECEIVED)]
        assert sorted(staged) == sorted(ids)
    finally:
        db.metadata.drop_all(db.engine)
        db.engine.dispose()


def test_offline_alarms_on_sqlite(tmp_path):
    check(f"sqlite:///{tmp_path}/sensing.db")


def test_two_sweeps_at_once_on_sqlite(tmp_path):
    check_two_sweeps_at_once(f"sqlite:///{tmp_path}/sensing.db")


@pytest.mark.distributed
def test_offline_alarms_on_postgresql(pg_url):
    check(pg_url)


@pytest.mark.distributed
def test_two_sweeps_at_once_on_postgresql(pg_url):
    check_two_sweeps_at_once(pg_url)


@pytest.mark.parametrize(("up_for", "enabled", "raised"), [(minutes(4), True, 0), (minutes(6), True, 1),
                                                            (minutes(6), False, 0)])
def test_the_sweep_raises_nothing_until_the_process_was_up_one_window_or_when_turned_off(tmp_path, up_for, enabled,
                                                                                        raised):
    from datetime import UTC, datetime

    from gridgov_common.settings import CommonSettings
    from gridgov_sensing.app import build_runtime
    from gridgov_sensing.settings import SensingSettings
    from gridgov_sensing.types.handlers import seed_alarm_types

    common = CommonSettings(data_dir=tmp_path, jwt_secret="x" * 32, log_json=False)
    settings = SensingSettings(common=common, database_url=f"sqlite:///{tmp_path / 'sensing.db'}", run_relay=False,
                               run_consumers=False, online_window_s=WINDOW_S, offline_alarms=enabled)
    runtime = build_runtime(settings)
    try:
        runtime.db.create_all()
        seed_alarm_types(runtime.db)
        now = datetime.now(UTC)
        with runtime.db.session() as session:
            session.add(Device(device_id=CAMERA, kind="camera", name="路口", lon=113.75, lat=23.02, grid_code=GRID,
                               village_code=VILLAGE, town_code=TOWN, algorithms=[], heartbeat_at=now - minutes(30),
                               created_at=now, updated_at=now))
            session.commit()
        runtime.started_at = now - up_for
        assert runtime.sweep() == raised  # the periodic thread counts what each pass did
        assert len(take_outbox(runtime.db, ALARMS_RECEIVED)) == raised
    finally:
        runtime.db.engine.dispose()


def test_a_maintenance_window_over_a_device_holds_its_offline_alarm_back(tmp_path):
    import uuid

    from gridgov_sensing.alarms.models import Alarm
    from gridgov_sensing.suppression import service as rules_service
    from gridgov_sensing.suppression.models import SuppressionRule

    db = make_db(f"sqlite:///{tmp_path}/sensing.db")
    try:
        with db.session() as session:  # the camera is switched off for its repair, the sensor is not
            session.add(SuppressionRule(id=str(uuid.uuid4()), name="摄像机维修", kind="maintenance", mode="enforce",
                                        device_ids=[CAMERA], starts_at=NOW, ends_at=NOW + minutes(60),
                                        created_by="cc-1", created_at=NOW, updated_at=NOW))
            rules_service.changed(session)
            session.commit()
        handlers.heartbeats(db, [CAMERA, SENSOR], NOW)
        assert raise_offline_alarms(db, NOW + minutes(6), WINDOW_S) == 2
        deliver(db, Clock(NOW + minutes(6)))
        assert [(g.device_id, g.alarm_type) for g in groups(db)] == [(SENSOR, "sensor_offline")]
        with db.session() as session:
            verdicts = dict(session.execute(select(Alarm.device_id, Alarm.verdict)).all())
        assert verdicts == {CAMERA: "suppressed", SENSOR: "grouped"}
    finally:
        db.engine.dispose()
