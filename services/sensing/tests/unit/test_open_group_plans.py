"""On SQLite, the statements that look up open alarm groups use the index made for them, never a walk over the open
groups: with no statistics, SQLite's planner took ``is_open = 1`` as an equality on the leading column of
``ix_alarm_group_open_grid`` and walked every open group per statement (332.6 ms per 500-fingerprint query with
212,000 open groups in a 1,000,000-alarm replay; issue #16). The plan does not depend on the row count, so a replay
of a few hundred alarms (quiet groups closed in batches and one by one, resolveds, an inhibition rule's superior
groups looked up, a case's ticket followed and closed) shows it: each statement on ``alarm_group`` that the grouping
and the tickets consumers run is explained, and none may search by ``is_open`` or scan the table."""

from __future__ import annotations

import uuid

import pytest

from gridgov_common.bus.envelope import new_envelope
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_sensing.suppression import service as rules_service
from gridgov_sensing.suppression.models import SuppressionRule
from services.sensing.tests.alarm_support import CAMERA, GRID, NOW, deliver_tickets, make_db, take_outbox
from services.sensing.tests.unit.test_alarm_batch_upsert import replay, stream
from tests.support.sql_plans import captured, generic_plan_of, plan, scans_of


def _case_event(action: str, to_state: str, report_id: str):
    payload = TicketEvent(ticket_id="T-9", report_id=report_id, action=action, from_state=None, to_state=to_state,
                          category_code="01002", department="urban", grid_code=GRID, village_code=None,
                          town_code=None, reporter_id=CAMERA, deadline=None, actor_id="dispatch",
                          actor_role="system", occurred_at=NOW, channel="video_ai")
    return new_envelope(type=ticket_event_type(action), producer="dispatch", key="T-9", payload=payload,
                        correlation_id=report_id)


def test_open_groups_are_found_by_their_own_index_on_sqlite(tmp_path):
    db = make_db(f"sqlite:///{tmp_path}/sensing.db", migrate=True)  # the migrations' indexes, as a city has them
    with db.session() as session:  # smoke and fire seen by a camera inhibits the garbage alarms around it
        session.add(SuppressionRule(id=str(uuid.uuid4()), name="fire first", kind="inhibit", mode="enforce",
                                    source_types=["smoke_fire"], alarm_types=["exposed_garbage"],
                                    equal=["label.zone"], created_by="cc-1", created_at=NOW, updated_at=NOW))
        rules_service.changed(session)
        session.commit()

    def on_open_groups(statement: str) -> bool:
        return "alarm_group" in statement and statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "UPDATE")

    with captured(db.engine, on_open_groups) as seen:
        for seed in (1, 2, 3):
            replay(db, stream(seed))
        reports = take_outbox(db, REPORTS_RECEIVED)
        assert reports, "the replay opened no case: nothing of the tickets consumer would run"
        report_id = reports[0].payload["report_id"]
        deliver_tickets(db, [_case_event("dispatch", "dispatched", report_id)])
        deliver_tickets(db, [_case_event("close", "closed", report_id)])

    kinds = {" ".join(s.split()[:2]) for s, _ in seen}
    assert any(s.lstrip().startswith("UPDATE") and "last_seen <" in s for s, _ in seen), kinds  # quiet ones closed
    assert any("report_id IN" in s for s, _ in seen), kinds  # a case's ticket followed
    assert any("resolved_at IS NULL" in s for s, _ in seen), kinds  # an inhibition rule's superior groups
    bad = []
    for statement, parameters in seen:
        found = plan(db.engine, statement, parameters)
        if "ix_alarm_group_open_grid" in found or "SCAN alarm_group" in found:
            bad.append((" ".join(statement.split())[:160], found))
    assert not bad, bad


@pytest.mark.distributed
@pytest.mark.parametrize("rows", [0, 20_000])
def test_quiet_groups_are_probed_by_fingerprint_in_a_generic_plan_on_postgresql(pg_url, rows):
    """On PostgreSQL the quiet-group look-up's generic plan (psycopg prepares a statement run five times) reaches each
    fingerprint by an index, on an empty table and on one grown without statistics: the ``IN`` list's read every
    open group and compared each with the whole list (2.0 s per 500 fingerprints at 100,000 groups)."""
    from gridgov_sensing.alarms.handlers import _QUIET_OF_POSTGRES

    db = make_db(pg_url, migrate=True)
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE alarm_group SET (autovacuum_enabled = false)")
            if rows:
                conn.exec_driver_sql(
                    "INSERT INTO alarm_group (id, fingerprint, alarm_type, catalog_code, kind, device_id, device_kind, "
                    "state, is_open, count, first_seen, last_seen, flaps, flapping, refired, state_changes, "
                    "monitored_by, labels, created_at) SELECT md5(i::text), md5('f' || i), 'street_vending', '01002', "
                    "'video_ai', 'd' || i, 'camera', 'open', true, 1, now(), now(), 0, false, false, '[]', '[]', "
                    f"'{{}}', now() FROM generate_series(1, {rows}) AS i")
        found = generic_plan_of(db.engine, _QUIET_OF_POSTGRES.bindparams(prints=["a", "b", "c"]))
        scans = scans_of(found, "alarm_group")
        assert scans and all(s["Node Type"] in ("Index Scan", "Index Only Scan") for s in scans), found
        assert all("fingerprint" in s.get("Index Cond", "") for s in scans), found
    finally:
        db.engine.dispose()
