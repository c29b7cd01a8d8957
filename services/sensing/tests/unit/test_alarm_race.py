"""The dedupe guard under racing consumers: alarms of one fingerprint handled at the same moment by separate
connections (two Database objects: two engines, as two processes would have) open exactly one group, one case,
and every alarm is counted — on SQLite and on PostgreSQL (ThingsBoard #15583: two alarms a few ms apart); and
the grouping's statements on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from gridgov_common.bus.topics import ALARMS_EVENTS, ALARMS_RECEIVED, REPORTS_RECEIVED
from gridgov_common.db import Database
from gridgov_common.events.alarms import ALARM_GROUP_REPEATED, ALARM_GROUP_RESOLVED
from gridgov_sensing.alarms.service import accept_alarms
from gridgov_sensing.tables import metadata
from services.sensing.tests.alarm_support import CAMERA_2, NOW, Clock, alarm, deliver, groups, make_db, take_outbox

WORKERS = 8
PER_WORKER = 5  # alarms per batch; each worker hands in two batches


def race(url: str, migrate: bool) -> None:
    """WORKERS consumers, each with its own engine, deliver batches of the same two fingerprints at a barrier."""
    db = make_db(url, migrate=migrate)
    try:
        batches = []
        for w in range(WORKERS * 2):
            accept_alarms(db, [alarm(alarm_id=f"w{w}-{i}", confidence=0.9) for i in range(PER_WORKER)]
                          + [alarm("piled_materials", CAMERA_2, alarm_id=f"v{w}-{i}", confidence=0.9)
                             for i in range(PER_WORKER)], "http", NOW)
            batches.append(take_outbox(db, ALARMS_RECEIVED))
        engines = [Database(url, metadata, "sensing") for _ in range(WORKERS)]
        barrier = threading.Barrier(WORKERS)
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                barrier.wait(timeout=30)
                for batch in batches[2 * n:2 * n + 2]:
                    deliver(engines[n], Clock(), batch)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        for e in engines:
            e.engine.dispose()
        assert not errors, errors
        assert not any(t.is_alive() for t in threads)
        total = WORKERS * 2 * PER_WORKER
        cases = groups(db, alarm_type="exposed_garbage")
        assert [(g.is_open, g.count, g.state) for g in cases] == [(True, total, "case")]
        checks = groups(db, alarm_type="piled_materials")
        assert [(g.is_open, g.count, g.state) for g in checks] == [(True, total, "pending_verification")]
        reports = take_outbox(db, REPORTS_RECEIVED)
        assert [r.payload["report_id"] for r in reports] == [cases[0].report_id]
    finally:
        db.engine.dispose()


def test_racing_consumers_open_one_group_on_sqlite(tmp_path):
    race(f"sqlite:///{tmp_path}/race.db", migrate=False)


@pytest.mark.distributed
def test_racing_consumers_open_one_group_on_postgresql(pg_url):
    race(pg_url, migrate=True)


@pytest.mark.distributed
def test_the_group_lifecycle_on_postgresql(pg_url):
    """The same statements on PostgreSQL: a quiet group without a case closes (the DO UPDATE's WHERE), a case's
    resolved is kept and firing again counts a flap, a suppressed alarm is only logged."""
    db = make_db(pg_url, migrate=True)
    try:
        def ingest(*alarms, at=NOW):
            accept_alarms(db, list(alarms), "http", at)
            deliver(db, Clock(at))

        ingest(alarm("crowd_gathering", confidence=0.9), alarm(confidence=0.9), alarm(confidence=0.3))
        later = NOW + timedelta(minutes=90)
        ingest(alarm("crowd_gathering", at=later, confidence=0.9), alarm(at=later, confidence=0.9), at=later)
        assert [(g.state, g.is_open, g.count) for g in groups(db, alarm_type="crowd_gathering")] == [
            ("closed", False, 1), ("recorded", True, 1)]
        ingest(alarm(state="resolved", at=later + timedelta(minutes=1)), at=later + timedelta(minutes=1))
        ingest(alarm(at=later + timedelta(minutes=2), confidence=0.9), at=later + timedelta(minutes=2))
        [case] = groups(db, alarm_type="exposed_garbage")
        assert (case.state, case.is_open, case.count, case.flaps, case.resolved_at) == ("case", True, 3, 1, None)
        assert len(take_outbox(db, REPORTS_RECEIVED)) == 1
        # the repeat 90 min after the case is news; the firing again 2 min after it is within the 10-min throttle
        assert [e.type for e in take_outbox(db, ALARMS_EVENTS)] == [ALARM_GROUP_REPEATED, ALARM_GROUP_RESOLVED]
    finally:
        db.engine.dispose()
