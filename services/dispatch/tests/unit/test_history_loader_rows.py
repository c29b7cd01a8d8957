"""The history loader's row helpers (tickets/backfill.py): event ids are the uuid5 of ``<ticket>/<seq>``, a past
ticket's row has exactly the ticket columns, and ``insert_rows`` stores what SQLAlchemy's own insert stores."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from gridgov_common.events.tickets import TicketEvent
from gridgov_dispatch.tickets import backfill
from gridgov_dispatch.tickets.models import Ticket


def test_event_ids_are_the_uuid5_of_ticket_and_seq():
    rng = random.Random(3)
    for _ in range(20000):
        ticket = str(uuid.UUID(int=rng.getrandbits(128)))
        seq = rng.randint(0, 5000)
        assert backfill._event_id(ticket, seq) == str(uuid.uuid5(uuid.NAMESPACE_OID, f"{ticket}/{seq}"))


def test_a_past_tickets_row_has_exactly_the_ticket_columns():
    t = backfill._Ticket(id="t1", state="registered", version=1)
    t.set({"sla_level": "red"})
    t.version += 1
    row = t.row()
    assert list(row) == list(Ticket.__table__.columns.keys())
    assert (row["id"], row["state"], row["version"], row["sla_level"], row["deadline"]) == ("t1", "registered", 2,
                                                                                              "red", None)
    with pytest.raises(TypeError, match="not ticket columns"):
        backfill._Ticket(id="t2", colour="blue")


def test_a_past_tickets_next_event_is_the_model_copy_of_its_first():
    """``_evolve`` makes what ``model_copy(update=…)`` makes: equal fields, the same fields set, dumps and JSON;
    it relies on TicketEvent having no extra fields and no private attributes, which this pins."""
    at = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
    base = TicketEvent(ticket_id="t1", report_id="r1", action="register", from_state=None, to_state="registered",
                       category_code="01002", department=None, grid_code="g1", village_code="v1", town_code="t1",
                       reporter_id="p1", deadline=None, actor_id="system", actor_role="system", occurred_at=at)
    changes = {"action": "claim", "from_state": "dispatched", "to_state": "claimed", "department": "cgj",
               "deadline": at + timedelta(hours=3), "actor_id": "cgj-dispatcher", "actor_role": "dept_dispatcher",
               "note": None, "occurred_at": at + timedelta(minutes=20), "priority": "normal", "stage": "handle",
               "deadline_provisional": False, "sla_level": "green", "escalation_level": 0, "supervised": False}
    made, want = backfill._evolve(base, changes), base.model_copy(update=changes)
    assert made == want and made.model_fields_set == want.model_fields_set
    assert made.model_dump_json() == want.model_dump_json() and made.action == "claim" and base.action == "register"
    assert TicketEvent.model_config.get("extra") in (None, "ignore") and not TicketEvent.__private_attributes__


def test_insert_rows_stores_what_sqlalchemys_insert_stores():
    """Random rows of every column kind (text, number, boolean, UTC and other-zone datetimes, None) through
    ``insert_rows`` and through ``conn.execute(insert, rows)``: the stored rows are equal."""
    metadata = sa.MetaData()
    table = sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", sa.String(20)),
                     sa.Column("f", sa.Float), sa.Column("b", sa.Boolean), sa.Column("at", sa.DateTime),
                     sa.Column("at_tz", Ticket.__table__.c.created_at.type))
    rng = random.Random(5)
    zones = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30)))
    rows = []
    for i in range(500):
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 10**8), microseconds=rng.choice(
            [0, rng.randint(0, 999999)]))
        rows.append({"id": i, "s": rng.choice([None, "x", "案卷"]), "f": rng.choice([None, rng.random()]),
                     "b": rng.choice([None, True, False]), "at": rng.choice([None, at.replace(tzinfo=None)]),
                     "at_tz": rng.choice([None, at.astimezone(rng.choice(zones))])})
    stored = []
    for way in ("loader", "sqlalchemy"):
        engine = sa.create_engine("sqlite://")
        metadata.create_all(engine)
        with engine.begin() as conn:
            if way == "loader":
                backfill.insert_rows(conn, table, rows)
            else:
                conn.execute(backfill.insert_ignore("sqlite", table), rows)
            stored.append(conn.exec_driver_sql("SELECT * FROM t ORDER BY id").fetchall())
    assert stored[0] == stored[1] and len(stored[0]) == 500
