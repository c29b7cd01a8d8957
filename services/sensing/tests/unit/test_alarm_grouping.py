"""Ingest and grouping on SQLite: all or nothing, one group per fingerprint, case policies, repeats, resolved,
flaps, suppression verdicts, dedupe windows, and tickets closing groups."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from gridgov_common.bus.envelope import new_envelope
from gridgov_common.bus.topics import ALARMS_EVENTS, ALARMS_RECEIVED, REPORTS_RECEIVED
from gridgov_common.errors import ValidationFailed
from gridgov_common.events.alarms import ALARM_GROUP_REPEATED, ALARM_GROUP_RESOLVED
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_sensing.alarms.handlers import close_quiet_groups, prune_alarm_log
from gridgov_sensing.alarms.models import Alarm
from gridgov_sensing.alarms.service import accept_alarms, reject_raw
from gridgov_sensing.devices.service import bump_version
from gridgov_sensing.suppression import service as rules_service
from gridgov_sensing.suppression.engine import TYPE_CONFIDENCE
from gridgov_sensing.suppression.models import SuppressionRule
from gridgov_sensing.types.models import AlarmType
from gridgov_sensing.verification.models import VerificationTask
from services.sensing.tests.alarm_support import (
    CAMERA,
    CAMERA_2,
    GRID,
    NOW,
    SENSOR,
    Clock,
    alarm,
    deliver,
    deliver_tickets,
    groups,
    make_db,
    minutes,
    take_outbox,
)


@pytest.fixture
def db(tmp_path):
    db = make_db(f"sqlite:///{tmp_path}/sensing.db")
    yield db
    db.engine.dispose()


def ingest(db, *alarms, at=NOW, source="http"):
    """Accept alarms and hand them to the grouping consumer at once."""
    accept_alarms(db, list(alarms), source, at)
    return deliver(db, Clock(at))


def alarms_logged(db):
    with db.session() as session:
        return list(session.execute(select(Alarm).order_by(Alarm.occurred_at)).scalars())


def take_raw(db, topic):
    outbox = db.tables.outbox
    with db.engine.begin() as conn:
        return [json.loads(v) for (v,) in conn.execute(select(outbox.c.value).where(outbox.c.topic == topic))]


def add_rule(db, **fields):
    with db.session() as session:
        row = SuppressionRule(id=str(uuid.uuid4()), name="r", created_by="cc-1", created_at=NOW, updated_at=NOW,
                              **fields)
        session.add(row)
        rules_service.changed(session)
        session.commit()
    return row.id


# --- ingest --------------------------------------------------------------------------------------------------------

def test_a_batch_with_bad_items_is_refused_whole_naming_each_and_stores_nothing(db):
    good = alarm(confidence=0.9)
    batch = [good, alarm(device_id="NOPE-1"), alarm(alarm_type="no_such_type"), good,
             alarm(at=NOW + minutes(6)), alarm(at=NOW - minutes(7 * 24 * 60 + 1))]
    with pytest.raises(ValidationFailed) as refused:
        accept_alarms(db, batch, "http", NOW)
    fields = [d.field for d in refused.value.details]
    assert fields == ["alarms[1].device_id", "alarms[2].alarm_type", "alarms[4].occurred_at",
                      "alarms[5].occurred_at"]
    assert db.outbox_backlog() == 0


def test_a_batch_is_checked_without_the_write_lock(db):
    """The check reads on a connection of its own: while another process's grouping batch holds the write lock, a
    bad batch is refused at once (it waited for the lock's release before), and a good one waits only to be written."""
    import sqlite3
    import threading
    import time

    path = db.url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the consumer process's transaction
    try:
        started = time.monotonic()
        with pytest.raises(ValidationFailed):
            accept_alarms(db, [alarm(device_id="NOPE-1")], "http", NOW)
        assert time.monotonic() - started < 5  # SQLite's busy handler would have waited for the COMMIT below
        commit = threading.Timer(0.3, lambda: other.execute("COMMIT"))
        commit.start()
        assert accept_alarms(db, [alarm(confidence=0.9)], "http", NOW).accepted == 1
        commit.join(5)
    finally:
        other.close()
    assert db.outbox_backlog() == 1


def test_a_fingerprint_label_the_alarm_lacks_names_the_label(db):
    with db.session() as session:
        kind = session.get(AlarmType, "exposed_garbage")
        kind.fingerprint_fields = ["device_id", "label.zone"]
        session.add(kind)
        bump_version(session, "alarm_types")
        session.commit()
    with pytest.raises(ValidationFailed) as refused:
        accept_alarms(db, [alarm(labels={"zone": "A"}), alarm()], "http", NOW)
    assert [d.field for d in refused.value.details] == ["alarms[1].labels.zone"]
    assert accept_alarms(db, [alarm(labels={"zone": "A"})], "http", NOW).accepted == 1


def test_accepted_alarms_are_keyed_by_fingerprint_and_a_retried_batch_is_counted_once(db):
    batch = [alarm(alarm_id="cam-7781", confidence=0.9), alarm(alarm_id="cam-7782", at=NOW + minutes(1),
                                                                 confidence=0.9)]
    accept_alarms(db, batch, "http", NOW)
    first = take_outbox(db, ALARMS_RECEIVED)
    accept_alarms(db, batch, "http", NOW)  # the producer retries: same ids
    again = take_outbox(db, ALARMS_RECEIVED)
    assert [e.id for e in first] == [e.id for e in again]
    assert len({e.key for e in first}) == 1 and len(first[0].key) == 32
    deliver(db, envelopes=first)
    deliver(db, envelopes=again)
    [group] = groups(db)
    assert group.count == 2


# --- case policies -------------------------------------------------------------------------------------------------

def test_auto_opens_one_case_and_repeats_count_into_it_with_throttled_events(db):
    ingest(db, alarm(confidence=0.93, evidence={"snapshot_url": "https://cam.example/1.jpg"}),
           alarm(at=NOW + minutes(1), confidence=0.95))
    [report] = take_outbox(db, REPORTS_RECEIVED)
    [group] = groups(db)
    assert (group.state, group.is_open, group.count) == ("case", True, 2)
    assert report.key == group.report_id == report.payload["report_id"]
    payload = report.payload
    assert (payload["channel"], payload["category_code"], payload["reporter_id"], payload["reporter_role"]) == (
        "video_ai", "01002", CAMERA, "device")
    assert payload["description"].startswith("视频AI识别：暴露垃圾（摄像机 44190000001320000001，置信度 0.93）")
    assert payload["lon"] == 113.75 and payload["address"].endswith("东城路口")
    assert take_outbox(db, ALARMS_EVENTS) == []  # the case itself was the news

    ingest(db, alarm(at=NOW + minutes(2), confidence=0.9), at=NOW + minutes(5))  # within 10 min of the case
    assert take_outbox(db, ALARMS_EVENTS) == []
    ingest(db, alarm(at=NOW + minutes(11), confidence=0.9, evidence={"reading": 2.5}), at=NOW + minutes(11))
    ingest(db, alarm(at=NOW + minutes(12), confidence=0.9), at=NOW + minutes(12))
    [repeated] = take_outbox(db, ALARMS_EVENTS)
    assert repeated.type == ALARM_GROUP_REPEATED and repeated.key == group.report_id
    assert repeated.payload["count"] == 4 and repeated.payload["evidence"]["reading"] == 2.5
    [group] = groups(db)
    assert group.count == 5
    assert take_outbox(db, REPORTS_RECEIVED) == []


def test_verify_first_waits_for_a_task_and_record_only_is_recorded(db):
    ingest(db, alarm("piled_materials", confidence=0.9), alarm("crowd_gathering", confidence=0.9))
    assert take_outbox(db, REPORTS_RECEIVED) == []
    by_type = {g.alarm_type: g for g in groups(db)}
    assert by_type["piled_materials"].state == "pending_verification"
    assert by_type["crowd_gathering"].state == "recorded"
    with db.session() as session:
        [task] = session.execute(select(VerificationTask)).scalars()
    assert (task.state, task.grid_code, task.group_id) == ("pending", GRID, by_type["piled_materials"].id)


def test_an_iot_alarm_reports_on_channel_iot_with_its_reading(db):
    ingest(db, alarm("manhole_displaced", SENSOR, evidence={"reading": 3.2, "unit": "cm"}))
    [report] = take_outbox(db, REPORTS_RECEIVED)
    assert report.payload["channel"] == "iot"
    assert "传感器 IOT-manhole-1" in report.payload["description"] and "读数 3.2 cm" in report.payload["description"]


# --- windows, resolved, flaps --------------------------------------------------------------------------------------

def test_a_group_without_a_case_closes_after_its_dedupe_window_and_a_case_does_not(db):
    ingest(db, alarm("crowd_gathering", confidence=0.9), alarm(confidence=0.9))  # record_only 1h; auto 30m
    later = NOW + minutes(90)
    ingest(db, alarm("crowd_gathering", at=later, confidence=0.9), alarm(at=later, confidence=0.9), at=later)
    crowds = groups(db, alarm_type="crowd_gathering")
    assert [(g.state, g.is_open, g.count) for g in crowds] == [("closed", False, 1), ("recorded", True, 1)]
    [case] = groups(db, alarm_type="exposed_garbage")
    assert (case.state, case.is_open, case.count) == ("case", True, 2)


def test_resolved_closes_a_group_without_a_case_and_cancels_its_task(db):
    ingest(db, alarm("piled_materials", confidence=0.9))
    ingest(db, alarm("piled_materials", state="resolved", at=NOW + minutes(3)), at=NOW + minutes(3))
    [group] = groups(db)
    assert (group.state, group.is_open) == ("resolved", False)
    with db.session() as session:
        [task] = session.execute(select(VerificationTask)).scalars()
    assert task.state == "cancelled"
    ingest(db, alarm("piled_materials", state="resolved", at=NOW + minutes(4)), at=NOW + minutes(4))
    assert alarms_logged(db)[-1].verdict == "unmatched"


def test_resolved_on_a_case_is_passed_on_and_firing_again_is_a_flap(db):
    ingest(db, alarm(confidence=0.9))
    take_outbox(db, REPORTS_RECEIVED)
    ingest(db, alarm(state="resolved", at=NOW + minutes(5)), at=NOW + minutes(5))
    [resolved] = take_outbox(db, ALARMS_EVENTS)
    assert resolved.type == ALARM_GROUP_RESOLVED and resolved.payload["resolved_verifies"] is True
    [group] = groups(db)
    assert (group.state, group.is_open, group.resolved_at) == ("case", True, NOW + minutes(5))
    ingest(db, alarm(at=NOW + minutes(6), confidence=0.9), at=NOW + minutes(6))
    [group] = groups(db)
    assert (group.flaps, group.resolved_at, group.count) == (1, None, 2)


def test_a_flapping_device_does_not_pass_its_resolved_on(db):
    ingest(db, alarm(confidence=0.9))
    take_outbox(db, REPORTS_RECEIVED)
    for step in range(1, 4):  # threshold 4 changes within 1h: resolved, firing, resolved, (firing)...
        ingest(db, alarm(state="resolved", at=NOW + minutes(2 * step)), at=NOW + minutes(2 * step))
        ingest(db, alarm(at=NOW + minutes(2 * step + 1), confidence=0.9), at=NOW + minutes(2 * step + 1))
    events = take_outbox(db, ALARMS_EVENTS)
    [group] = groups(db)
    assert group.flapping and group.flaps == 3
    assert [e.type for e in events] == [ALARM_GROUP_RESOLVED, ALARM_GROUP_RESOLVED]  # the 3rd came while flapping


# --- suppression ---------------------------------------------------------------------------------------------------

def test_an_enforced_maintenance_window_holds_alarms_back_and_a_monitored_one_only_records(db):
    enforced = add_rule(db, kind="maintenance", mode="enforce", device_ids=[CAMERA], starts_at=NOW - minutes(1),
                        ends_at=NOW + minutes(60))
    monitored = add_rule(db, kind="maintenance", mode="monitor", area_codes=[GRID])
    ingest(db, alarm(confidence=0.9), alarm(device_id=CAMERA_2, confidence=0.9))
    assert [g.device_id for g in groups(db)] == [CAMERA_2]  # CAMERA_2 is in another grid: not monitored either
    logged = {a.device_id: a for a in alarms_logged(db)}
    assert (logged[CAMERA].verdict, logged[CAMERA].suppressed_by, logged[CAMERA].group_id) == (
        "suppressed", enforced, None)
    assert logged[CAMERA].monitored_by == [monitored]
    assert len(take_outbox(db, REPORTS_RECEIVED)) == 1
    ingest(db, alarm(at=NOW + minutes(61), confidence=0.9), at=NOW + minutes(61))  # the window is over
    assert {g.device_id for g in groups(db)} == {CAMERA, CAMERA_2}
    assert groups(db, device_id=CAMERA)[0].monitored_by == [monitored]


def test_the_type_confidence_floor_suppresses(db):
    ingest(db, alarm(confidence=0.5))  # exposed_garbage needs 0.75
    assert groups(db) == []
    assert alarms_logged(db)[0].suppressed_by == TYPE_CONFIDENCE


def test_inhibition_needs_the_equal_key_on_both_sides(stack_db):  # SQLite's statement and PostgreSQL's
    db = stack_db
    add_rule(db, kind="inhibit", mode="enforce", source_types=["smoke_fire"], alarm_types=["exposed_garbage"],
             equal=["label.zone"])
    ingest(db, alarm("smoke_fire", confidence=0.9, labels={"zone": "A"}))
    ingest(db, alarm(confidence=0.9, labels={"zone": "A"}, at=NOW + minutes(1)),
           alarm(device_id=CAMERA, alarm_type="street_vending", confidence=0.9, at=NOW + minutes(1)),
           at=NOW + minutes(1))
    ingest(db, alarm(confidence=0.9, at=NOW + minutes(2)), at=NOW + minutes(2))  # no zone label: never inhibited
    verdicts = [(a.alarm_type, a.labels, a.verdict) for a in alarms_logged(db)]
    assert verdicts == [("smoke_fire", {"zone": "A"}, "grouped"),
                        ("exposed_garbage", {"zone": "A"}, "suppressed"),
                        ("street_vending", {}, "grouped"),
                        ("exposed_garbage", {}, "grouped")]


# --- tickets -------------------------------------------------------------------------------------------------------

def ticket_event(action, to_state, report_id, merged=(), channel=None):
    payload = TicketEvent(ticket_id="T-1", report_id=report_id, action=action, from_state=None, to_state=to_state,
                          category_code="01002", department="urban", grid_code=GRID, village_code=None,
                          town_code=None, reporter_id=CAMERA, deadline=None, actor_id="dispatch",
                          actor_role="system", occurred_at=NOW, merged_report_ids=list(merged), channel=channel)
    return new_envelope(type=ticket_event_type(action), producer="dispatch", key="T-1", payload=payload,
                        correlation_id=report_id)


def test_a_closed_ticket_closes_its_group_and_the_next_alarm_opens_a_new_case(db):
    ingest(db, alarm(confidence=0.9))
    [first] = take_outbox(db, REPORTS_RECEIVED)
    report_id = first.payload["report_id"]
    deliver_tickets(db, [ticket_event("dispatch", "dispatched", report_id)])
    [group] = groups(db)
    assert (group.ticket_id, group.ticket_state, group.is_open) == ("T-1", "dispatched", True)
    deliver_tickets(db, [ticket_event("close", "closed", report_id)])
    [group] = groups(db)
    assert (group.state, group.is_open) == ("closed", False)
    ingest(db, alarm(at=NOW + minutes(1), confidence=0.9), at=NOW + minutes(1))
    [second] = take_outbox(db, REPORTS_RECEIVED)
    assert second.payload["report_id"] != report_id
    assert [g.is_open for g in groups(db)] == [False, True]


def test_ticket_events_of_a_persons_report_are_neither_followed_nor_recorded(db):
    ingest(db, alarm(confidence=0.9))
    [report] = take_outbox(db, REPORTS_RECEIVED)
    report_id = report.payload["report_id"]
    deliver_tickets(db, [ticket_event("dispatch", "dispatched", report_id, channel="patrol")])
    with db.engine.connect() as conn:
        recorded = conn.execute(select(func.count()).select_from(db.tables.handled).where(
            db.tables.handled.c.consumer == "sensing.tickets")).scalar_one()
    assert (groups(db)[0].ticket_id, recorded) == (None, 0)  # a patrol ticket's event: not ours, no transaction
    deliver_tickets(db, [ticket_event("dispatch", "dispatched", report_id, channel="video_ai")])
    assert groups(db)[0].ticket_id == "T-1"


def test_a_merged_reports_group_closes_with_the_ticket_it_was_merged_into(db):
    ingest(db, alarm(confidence=0.9))
    [report] = take_outbox(db, REPORTS_RECEIVED)
    deliver_tickets(db, [ticket_event("close", "closed", "other-report", merged=[report.payload["report_id"]])])
    assert groups(db)[0].is_open is False


def test_refused_raw_input_goes_to_the_raw_dlq_with_its_reason(db):
    reject_raw(db, b'{"device_id": 7}', "payload.device_id: not a string")
    [row] = take_raw(db, "gridgov.alarms.raw.dlq")
    assert row["error"] == "payload.device_id: not a string" and row["value"] == '{"device_id": 7}'


def test_the_sweeper_closes_quiet_groups_without_a_case(db):
    ingest(db, alarm("crowd_gathering", confidence=0.9), alarm(confidence=0.9))
    assert close_quiet_groups(db, NOW + minutes(59)) == 0
    assert close_quiet_groups(db, NOW + minutes(61)) == 1  # record_only, 1h; the case stays
    assert sorted((g.alarm_type, g.is_open) for g in groups(db)) == [("crowd_gathering", False),
                                                                     ("exposed_garbage", True)]


@pytest.fixture(params=["sqlite", "postgresql"])
def stack_db(request, tmp_path):
    """A sensing database on SQLite, and (with the real-stack env) by the migrations on PostgreSQL."""
    url = f"sqlite:///{tmp_path}/sensing.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    db = make_db(url, migrate=request.param == "postgresql")
    yield db
    db.engine.dispose()


def test_one_sweep_closes_each_quiet_group_by_its_window_in_one_statement(stack_db):
    db = stack_db
    ingest(db, alarm("crowd_gathering", confidence=0.9), alarm("manhole_displaced", SENSOR))
    ingest(db, alarm("crowd_gathering", CAMERA_2, at=NOW + minutes(30), confidence=0.9), at=NOW + minutes(30))
    updates = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("UPDATE ALARM_GROUP"):
            updates.append(statement)

    # crowd_gathering: record_only, a 1 h window; manhole_displaced: a case, which the sweep never closes
    assert close_quiet_groups(db, NOW + minutes(61)) == 1
    assert len(updates) == 1, updates  # every type's window in the one statement
    assert sorted((g.device_id, g.is_open) for g in groups(db)) == [(CAMERA, False), (CAMERA_2, True), (SENSOR, True)]
    assert close_quiet_groups(db, NOW + minutes(91)) == 1
    event.remove(db.engine, "before_cursor_execute", _count)
    assert sorted((g.device_id, g.is_open, g.state) for g in groups(db)) == [
        (CAMERA, False, "closed"), (CAMERA_2, False, "closed"), (SENSOR, True, "case")]


def test_the_alarm_log_is_pruned_oldest_first_and_the_groups_keep_their_counts(stack_db):
    db = stack_db
    days = [0, 0, 1, 2, 3, 40]
    for day in days:  # one camera's repeats: one group, six logged alarms
        at = NOW + timedelta(days=day)
        ingest(db, alarm(at=at, confidence=0.9), at=at)
    [group] = groups(db)
    assert group.count == 6 and len(alarms_logged(db)) == 6
    before = NOW + timedelta(days=2, hours=1)  # the four alarms of days 0, 0, 1 and 2 are older
    assert prune_alarm_log(db, NOW) == 0  # strictly before
    assert prune_alarm_log(db, before, batch=1, most=3) == 3  # bounded per pass, oldest first
    assert [a.occurred_at.day for a in alarms_logged(db)] == [(NOW + timedelta(days=d)).day for d in days[3:]]
    assert prune_alarm_log(db, before, batch=2) == 1
    assert prune_alarm_log(db, before) == 0
    [kept] = groups(db)
    assert (kept.id, kept.count, kept.first_seen, kept.last_evidence) == (group.id, 6, group.first_seen,
                                                                           group.last_evidence)


def test_one_batch_keeps_the_order_of_firing_resolved_firing(db):
    ingest(db, alarm(confidence=0.9), alarm(at=NOW + minutes(1), confidence=0.9),
           alarm(state="resolved", at=NOW + minutes(2)), alarm(at=NOW + minutes(3), confidence=0.9))
    [group] = groups(db)
    assert (group.count, group.flaps, group.resolved_at, group.state) == (3, 1, None, "case")
    assert [e.type for e in take_outbox(db, ALARMS_EVENTS)] == [ALARM_GROUP_RESOLVED]
    assert len(take_outbox(db, REPORTS_RECEIVED)) == 1
    assert [a.group_id for a in alarms_logged(db)] == [group.id] * 4


def test_a_persons_ticket_is_not_looked_up(db):
    ingest(db, alarm(confidence=0.9))
    [report] = take_outbox(db, REPORTS_RECEIVED)
    person = ticket_event("close", "closed", report.payload["report_id"])
    person.payload["channel"] = "hotline"  # cannot be one of ours: skipped without a query
    deliver_tickets(db, [person])
    assert groups(db)[0].is_open is True
    ours = ticket_event("close", "closed", report.payload["report_id"])
    ours.payload["channel"] = "video_ai"
    deliver_tickets(db, [ours])
    assert groups(db)[0].is_open is False
