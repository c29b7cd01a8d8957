"""Grouping a batch's runs with one multi-row upsert (``_fire_many``) does what one upsert per run does: the same
groups (state, counts, first/last seen, flaps, quiet groups closed), the same cases, tasks and events — on random
alarm streams over several fingerprints, case policies and dedupe windows, on SQLite and PostgreSQL; and a batch
of many fingerprints costs one upsert statement, not one per fingerprint."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import UTC, timedelta, timezone

import pytest
from sqlalchemy import event, insert, select

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import ALARMS_EVENTS, ALARMS_RECEIVED, REPORTS_RECEIVED
from gridgov_common.events.alarms import AlarmReceived
from gridgov_sensing.alarms import handlers, service, storage
from gridgov_sensing.alarms.directory import directory_of
from gridgov_sensing.alarms.models import Alarm, AlarmGroup
from gridgov_sensing.alarms.service import accept_alarms
from gridgov_sensing.devices.models import Device
from gridgov_sensing.devices.service import bump_version
from gridgov_sensing.verification.models import VerificationTask
from services.sensing.tests.alarm_support import (
    CAMERA,
    CAMERA_2,
    GRID,
    NOW,
    SENSOR,
    TOWN,
    VILLAGE,
    Clock,
    alarm,
    deliver,
    make_db,
    take_outbox,
)

# auto, verify_first, record_only; windows 30 min, 10 min, 1 h
CAMERA_TYPES = ("exposed_garbage", "piled_materials", "crowd_gathering", "smoke_fire")
SENSOR_TYPES = ("manhole_displaced", "smoke_detector", "gas_concentration")
DEVICES = (CAMERA, CAMERA_2, SENSOR)


def stream(seed: int, n: int = 160) -> list[list]:
    """Random batches of alarms, in time order: several fingerprints per batch, repeats, resolveds, and gaps
    beyond the dedupe windows between batches (so quiet groups close inside a multi-row batch)."""
    rng = random.Random(seed)
    at = NOW - timedelta(days=2)
    batches, current = [], []
    for i in range(n):
        device = rng.choice(DEVICES)
        kind = rng.choice(SENSOR_TYPES if device == SENSOR else CAMERA_TYPES)
        state = "resolved" if rng.random() < 0.08 else "firing"
        confidence = None if device == SENSOR else 0.95
        current.append(alarm(kind, device, at=at, state=state, confidence=confidence, alarm_id=f"s{seed}-{i}"))
        at += timedelta(seconds=rng.choice((1, 5, 30)))
        if rng.random() < 0.12:
            batches.append(current)
            current = []
            at += timedelta(minutes=rng.choice((0, 5, 20, 45, 90)))
    if current:
        batches.append(current)
    return batches


def replay(db, batches) -> None:
    """Accept and group each batch as one consumer batch, the clock at its last alarm."""
    for batch in batches:
        at = max(a.occurred_at for a in batch)
        accept_alarms(db, batch, "http", at)
        deliver(db, Clock(at))


def outcome(db) -> dict:
    """What grouping left, without the random ids."""
    with db.session() as session:
        groups = sorted(
            (g.fingerprint, g.alarm_type, g.device_id, g.state, g.is_open, g.count, g.first_seen, g.last_seen,
             g.resolved_at, g.flaps, g.flapping, g.report_id is not None, g.last_evidence, g.ticket_state)
            for g in session.execute(select(AlarmGroup)).scalars())
        alarms = Counter((a.fingerprint, a.verdict, a.group_id is not None)
                         for a in session.execute(select(Alarm)).scalars())
        tasks = Counter((t.alarm_type, t.device_id, t.state) for t in session.execute(select(VerificationTask))
                        .scalars())
    reports = Counter((e.payload["category_code"], e.payload["description"])
                      for e in take_outbox(db, REPORTS_RECEIVED))
    events = Counter((e.type, e.payload["alarm_type"], e.payload["count"]) for e in take_outbox(db, ALARMS_EVENTS))
    return {"groups": groups, "alarms": alarms, "tasks": tasks, "reports": reports, "events": events}


def one_upsert_per_run(monkeypatch) -> None:
    """Make ``_fire_many`` apply its runs one by one, with the single-run statement."""
    monkeypatch.setattr(handlers, "_fire_many",
                        lambda session, runs: [handlers._fire(session, run) for run in runs])


def compare(url_of, monkeypatch, seed: int) -> None:
    batches = stream(seed)
    many = make_db(url_of("many"))
    try:
        replay(many, batches)
        got = outcome(many)
        many.metadata.drop_all(many.engine)  # the same database may serve the second run (PostgreSQL)
    finally:
        many.engine.dispose()
    with monkeypatch.context() as m:
        one_upsert_per_run(m)
        single = make_db(url_of("single"))
        try:
            replay(single, batches)
            want = outcome(single)
        finally:
            single.engine.dispose()
    assert got == want
    # the stream did exercise what it is meant to: quiet groups closed, cases, tasks, repeats in one group
    states = Counter(g[3] for g in got["groups"])
    assert states["closed"] and states["case"] and got["tasks"] and max(g[5] for g in got["groups"]) > 3


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_multi_row_upsert_groups_as_one_upsert_per_run_on_sqlite(tmp_path, monkeypatch, seed):
    compare(lambda name: f"sqlite:///{tmp_path}/{name}.db", monkeypatch, seed)


@pytest.mark.distributed
@pytest.mark.parametrize("seed", [1, 2])
def test_a_multi_row_upsert_groups_as_one_upsert_per_run_on_postgresql(pg_url, monkeypatch, seed):
    compare(lambda _name: pg_url, monkeypatch, seed)


def add_cameras(db, n: int) -> None:
    """``n`` registered cameras in the test grid, ``4419000000131<i>``, each named 路口<i>号."""
    with db.session() as session:
        for i in range(n):
            session.add(Device(device_id=f"4419000000131{i:07d}", kind="camera", name=f"路口{i}号", lon=113.75,
                               lat=23.02, grid_code=GRID, village_code=VILLAGE, town_code=TOWN,
                               owner_department="urban", algorithms=[], created_at=NOW, updated_at=NOW))
        bump_version(session, "devices")
        session.commit()


def grouped_with_statements(db) -> list[str]:
    """Deliver the accepted alarms to grouping as one batch; the SQL statements it ran."""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        deliver(db, Clock())
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    return statements


def test_a_batch_of_many_fingerprints_is_one_upsert_statement(tmp_path):
    """40 devices × 1 type, 3 alarms each, in one batch: one INSERT into alarm_group (not 40), and it is exact."""
    db = make_db(f"sqlite:///{tmp_path}/many.db")
    try:
        add_cameras(db, 40)
        alarms = [alarm("crowd_gathering", f"4419000000131{i:07d}", at=NOW - timedelta(seconds=r), confidence=0.9,
                        alarm_id=f"m{i}-{r}") for r in range(3) for i in range(40)]
        accept_alarms(db, alarms, "http", NOW)
        statements = grouped_with_statements(db)
        upserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO ALARM_GROUP")]
        assert len(upserts) == 1, upserts
        with db.session() as session:
            rows = session.execute(select(AlarmGroup.count, AlarmGroup.state, AlarmGroup.first_seen)).all()
        assert sorted((r.count, r.state) for r in rows) == [(3, "recorded")] * 40
        assert {r.first_seen.replace(tzinfo=None) for r in rows} == {(NOW - timedelta(seconds=2)).replace(tzinfo=None)}
        assert take_outbox(db, ALARMS_RECEIVED) == []
    finally:
        db.engine.dispose()


def test_the_cases_a_batch_opens_look_their_devices_up_in_one_query(tmp_path):
    """40 cameras × an ``auto`` type in one batch, grouped by a process whose directory has not seen them: 40 cases,
    each report with its device's place as the address, and one query of the device table for all of them (one per
    case was a round trip each on PostgreSQL)."""
    db = make_db(f"sqlite:///{tmp_path}/cases.db")
    try:
        add_cameras(db, 40)
        accept_alarms(db, [alarm("exposed_garbage", f"4419000000131{i:07d}", at=NOW, confidence=0.95,
                                 alarm_id=f"c{i}") for i in range(40)], "http", NOW)
        directory_of(db).forget()  # grouped by a process that did not accept them (another replica's API took them)
        statements = grouped_with_statements(db)
        device_reads = [s for s in statements if "FROM device" in s]
        assert len(device_reads) == 1, device_reads
        reports = take_outbox(db, REPORTS_RECEIVED)
        assert sorted(e.payload["address"] for e in reports) == sorted(f"路口{i}号" for i in range(40))
    finally:
        db.engine.dispose()


def log_rows() -> list[dict]:
    """Three alarm log rows as grouping builds them (times aware, JSON values, None, an integral float)."""
    at = NOW.astimezone(timezone(timedelta(hours=8)))  # a non-UTC offset: stored as its UTC instant
    base = {"alarm_id": "p-1", "group_id": None, "fingerprint": "f" * 32, "alarm_type": "exposed_garbage",
            "device_id": CAMERA, "grid_code": GRID, "village_code": VILLAGE, "town_code": None, "state": "firing",
            "severity": "minor", "occurred_at": at, "received_at": NOW + timedelta(microseconds=7),
            "confidence": 0.9, "source": "http", "verdict": "grouped", "suppressed_by": None}
    return [
        {**base, "id": str(uuid.uuid4()), "evidence": {"snapshot_url": "http://x/1.jpg", "reading": 3.5},
         "labels": {"zone": "东城"}, "monitored_by": ["r1"]},
        {**base, "id": str(uuid.uuid4()), "evidence": None, "labels": {}, "monitored_by": [],
         "alarm_id": None, "confidence": None},
        # an integral confidence beside 0.9: PostgreSQL's binary array of the column must still be one type
        {**base, "id": str(uuid.uuid4()), "evidence": None, "labels": {}, "monitored_by": ["r2"], "confidence": 1},
    ]


def stored(db, ids) -> list[tuple]:
    """The log rows as the database holds them (text, not parsed by the ORM), in ``ids`` order."""
    with db.engine.connect() as conn:
        cast = "" if db.is_sqlite else "::text"
        cols = ", ".join(f"{c.name}{cast}" for c in Alarm.__table__.columns if c.name != "id")
        found = {r[0]: r[1:] for r in conn.exec_driver_sql(
            f"SELECT id, {cols} FROM alarm")}  # noqa: S608 - fixed names
    return [tuple(json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v for v in found[i]) for i in ids]


def check_log_as_sqlalchemy(db) -> None:
    raw, orm = log_rows(), log_rows()
    with db.engine.begin() as conn:
        handlers._write_log(conn, raw)
        conn.execute(insert(Alarm.__table__), orm)
    assert stored(db, [r["id"] for r in raw]) == stored(db, [r["id"] for r in orm])
    with db.session() as session:
        back = session.get(Alarm, raw[0]["id"])
        assert (back.occurred_at, back.labels, back.evidence) == (NOW, {"zone": "东城"}, raw[0]["evidence"])
        assert session.get(Alarm, raw[1]["id"]).evidence is None


def test_the_alarm_log_is_stored_as_sqlalchemy_stores_it_on_sqlite(tmp_path):
    db = make_db(f"sqlite:///{tmp_path}/log.db")
    try:
        check_log_as_sqlalchemy(db)
    finally:
        db.engine.dispose()


@pytest.mark.distributed
def test_the_alarm_log_is_stored_as_sqlalchemy_stores_it_on_postgresql(pg_url):
    db = make_db(pg_url, migrate=True)
    try:
        check_log_as_sqlalchemy(db)
    finally:
        db.engine.dispose()


def test_an_accepted_alarms_envelope_is_what_pydantic_would_build(tmp_path):
    """Ingest writes the payload as a dict and constructs the envelope unvalidated: the same bytes' meaning as the
    validated models (``AlarmReceived`` and ``Envelope``), which the grouping consumer parses back."""
    db = make_db(f"sqlite:///{tmp_path}/env.db")
    try:
        sent = [alarm(confidence=0.91, alarm_id="e-1", labels={"zone": "东城"},
                      evidence={"snapshot_url": "https://vms.example/s/1.jpg"}),
                alarm("manhole_displaced", SENSOR, alarm_id="e-2", evidence={"reading": 12.5, "unit": "mm"})]
        accept_alarms(db, sent, "http", NOW)
        envelopes = take_outbox(db, ALARMS_RECEIVED)
        assert len(envelopes) == 2
        for sent_alarm, envelope in zip(sent, envelopes, strict=True):
            received = AlarmReceived.model_validate(envelope.payload)
            assert received.model_dump(mode="json") == envelope.payload
            assert received.alarm == sent_alarm
            assert Envelope.model_validate(envelope.model_dump()) == envelope
            assert (envelope.type, envelope.producer, envelope.key) == ("alarm.received", "sensing",
                                                                        received.fingerprint)
            assert envelope.correlation_id == str(envelope.id)
        assert envelopes[0].payload["grid_code"] == GRID and envelopes[1].payload["device_kind"] == "sensor"
    finally:
        db.engine.dispose()


def test_an_accepted_alarms_outbox_row_holds_the_envelopes_own_bytes(tmp_path):
    """Ingest writes the outbox rows itself: each value is the bytes ``Envelope.to_bytes`` writes for the envelope
    it parses to, the row's key and message id are the envelope's, and the row is stored as SQLAlchemy's insert
    stores the staged messages of ``Database.add_outbox`` (the relay reads it back the same)."""
    db = make_db(f"sqlite:///{tmp_path}/outbox.db")
    try:
        sent = [alarm(confidence=0.5, alarm_id="o-1", labels={"zone": "东城"}),
                alarm("manhole_displaced", SENSOR, alarm_id="o-2", evidence={"reading": 1e-7, "unit": "m"}),
                alarm(alarm_id="o-3", at=NOW.astimezone(timezone(timedelta(hours=8))), state="resolved")]
        accept_alarms(db, sent, "http", NOW)
        outbox = db.tables.outbox
        with db.engine.connect() as conn:
            rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
            texts = [r[0] for r in conn.exec_driver_sql("SELECT created_at FROM outbox ORDER BY id")]
        assert len(rows) == 3
        for row, sent_alarm in zip(rows, sent, strict=True):
            envelope = Envelope.from_bytes(bytes(row.value))
            assert envelope.to_bytes() == bytes(row.value)
            assert (row.topic, row.key, row.message_id) == (ALARMS_RECEIVED, envelope.key, str(envelope.id))
            assert AlarmReceived.model_validate(envelope.payload).alarm == sent_alarm
        # The same row through SQLAlchemy's insert (what OutboxSession.commit does) is stored as the same text.
        with db.engine.begin() as conn:
            conn.execute(insert(outbox), [{"topic": "t", "key": "k", "message_id": "m", "value": b"v",
                                           "created_at": rows[0].created_at.replace(tzinfo=UTC)}])
            again = conn.exec_driver_sql("SELECT created_at FROM outbox WHERE topic = 't'").scalar_one()
        assert again == texts[0]
    finally:
        db.engine.dispose()


@pytest.mark.parametrize("at", [
    NOW, NOW.replace(microsecond=1), NOW.replace(microsecond=999_999),
    NOW.astimezone(timezone(timedelta(hours=8))), NOW.astimezone(timezone(timedelta(hours=-3, minutes=-30))),
    NOW.replace(year=1, month=1, day=1), NOW.replace(year=9999, month=12, day=31, hour=23, minute=59)])
def test_a_time_is_written_as_sqlalchemy_writes_it_in_sqlite(tmp_path, at):
    db = make_db(f"sqlite:///{tmp_path}/times.db")
    try:
        with db.engine.begin() as conn:
            # The outbox's plain DateTime stores the wall time as given: UTC, as every outbox time is.
            conn.execute(insert(db.tables.outbox), [{"topic": "t", "key": "k", "message_id": "m", "value": b"v",
                                                     "created_at": at.astimezone(UTC)}])
            stored_text = conn.exec_driver_sql("SELECT created_at FROM outbox").scalar_one()
            log = {**log_rows()[0], "occurred_at": at}
            conn.execute(insert(Alarm.__table__), [log])
            log_text = conn.exec_driver_sql("SELECT occurred_at FROM alarm").scalar_one()
        assert storage.time_text(at) == stored_text == log_text
    finally:
        db.engine.dispose()


def test_an_envelope_id_is_the_uuid5_of_the_producers_id():
    """The envelope id's text written from the SHA-1 is ``uuid.uuid5``'s, for any producer id; none: a new
    time-ordered one (UUIDv7, as every id the services make)."""
    rng = random.Random(16)
    names = ["a-1", "东城-摄像头-7", "x" * 100, "0", "lat-run-123456"]
    names += ["".join(rng.choice("abc-_.:/东城0123456789") for _ in range(rng.randint(1, 100))) for _ in range(300)]
    namespace = service._NAMESPACE
    for source in ("http", "gb28181", "mqtt", "kafka"):
        for name in names:
            expected = uuid.uuid5(namespace, f"{source}\x1f{name}")
            assert service.envelope_id_text(source, name) == str(expected)
            assert service.envelope_id(source, name) == expected
    fresh = {service.envelope_id_text("http", None) for _ in range(3)}
    assert len(fresh) == 3 and all(uuid.UUID(f).version == 7 for f in fresh)
