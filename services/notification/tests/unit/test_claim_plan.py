"""The claim's UPDATE on PostgreSQL reaches its ids by the primary key even in a generic plan (issue #16).

psycopg prepares a statement run five times and PostgreSQL may then keep a generic plan. With the ids as an IN
list, that plan on a delivery table without statistics walked ``ix_delivery_status_next_attempt`` — every due
row — and compared each with the list: 322 ms per 100-id claim with 100,000 due deliveries (a backlog after a
gateway outage, when claims matter most); with the ids as one array and "due" written as "not finished", which no
index serves, only the primary key finds the rows (0.2 ms)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gridgov_common.db import Database
from gridgov_notification.deliveries.service import claim_statement
from gridgov_notification.tables import metadata
from tests.support.sql_plans import generic_plan_of


@pytest.mark.distributed
def test_the_claim_probes_the_primary_key_in_a_generic_plan_with_a_backlog(pg_url):
    db = Database(pg_url, metadata, "notification")
    db.create_all()
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE delivery SET (autovacuum_enabled = false)")  # no statistics, ever
            conn.exec_driver_sql(
                "INSERT INTO delivery (id, event_id, event_type, ticket_id, report_id, address, channel, target, "
                "template, subject, body, urgent, status, attempts, next_attempt_at, created_at) "
                "SELECT md5(i::text), md5(i::text), 't', 'x', 'y', 'a', 'sms', 't', 'tpl', 's', 'b', false, "
                "'pending', 0, now() - interval '1 hour', now() FROM generate_series(1, 20000) AS i")
        now = datetime.now(UTC)
        ids = [f"{i:032x}" for i in range(100)]
        plan = str(generic_plan_of(db.engine, claim_statement(ids, "owner", now, now + timedelta(minutes=5),
                                                              "postgresql")))
        assert "delivery_pkey" in plan and "ix_delivery_status_next_attempt" not in plan, plan
    finally:
        db.dispose()
