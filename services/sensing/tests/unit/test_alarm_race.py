"""The dedupe guard under racing consumers: alarms of one fingerprint handled at the same moment by separate
connections (two Database objects: two engines, as two processes would have) open exactly one group, one case,
and every alarm is counted — on SQLite and on PostgreSQL (ThingsBoard #15583: two alarms a few ms apart)."""

from __future__ import annotations

import threading

import pytest

from gridgov_common.bus.topics import ALARMS_RECEIVED, REPORTS_RECEIVED
from gridgov_common.db import Database
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
