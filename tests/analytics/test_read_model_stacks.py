"""analytics' read model on both stacks: ticket events and ratings on the real bus (the embedded log, or Kafka) into
the real database (SQLite, or PostgreSQL), the counts they make, and a rebuild from the bus giving the same counts
while the history loaded beside them stays.

The analytics app runs in this process (its lifespan runs migrations, its consumers and the generation watcher);
the messages are published on the bus as dispatch and notification publish them.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_SECRET, require_infra
from gridgov_analytics.app import create_app
from gridgov_analytics.cube.backfill import load_history
from gridgov_analytics.settings import AnalyticsSettings
from gridgov_common.events.feedback import FEEDBACK_RECEIVED_TYPE, FeedbackReceived
from gridgov_common.settings import CommonSettings
from services.analytics.tests.support import bearer, publish, rating_envelope, ticket_envelope

CN = timezone(timedelta(hours=8))
DAY0 = datetime(2026, 10, 5, 9, tzinfo=CN)  # a Monday
TICKETS = 150
WAIT_S = 90.0


def lifecycle(i: int) -> list:
    """One ticket's messages: registered, dispatched, claimed, handled, closed; some escalated first (late), some
    returned once, every third rated (every ninth badly)."""
    ticket = f"S-{i:04d}"
    grid = ("441900001001001", "441900001001002", "441900002001001")[i % 3]
    kwargs = dict(grid=grid, category=("04002", "01001")[i % 2], channel=("hotline", "patrol", "citizen")[i % 3])
    if grid.startswith("441900002"):
        kwargs |= dict(village_code="441900002001", town_code="441900002")
    start = DAY0 + timedelta(days=i % 14, minutes=i)
    out = [ticket_envelope("register", ticket, start, **kwargs),
           ticket_envelope("dispatch", ticket, start + timedelta(minutes=1), **kwargs)]
    if i % 5 == 0:
        out.append(ticket_envelope("return", ticket, start + timedelta(minutes=5), **kwargs))
    out += [ticket_envelope("claim", ticket, start + timedelta(hours=1), **kwargs),
            ticket_envelope("handle", ticket, start + timedelta(hours=2), **kwargs)]
    if i % 4 == 0:
        out.append(ticket_envelope("escalate", ticket, start + timedelta(hours=30), escalation_level=1, **kwargs))
    closed = start + timedelta(hours=40 if i % 4 == 0 else 3)
    out.append(ticket_envelope("close", ticket, closed, **kwargs))
    if i % 3 == 0:
        out.append(rating_envelope(ticket, closed + timedelta(days=1), satisfaction=1 if i % 9 == 0 else 5))
    return out


def expected_bus_totals() -> dict[str, int]:
    """What the lifecycles above count, by the projection's rules (see cube/projection.py)."""
    late = sum(1 for i in range(TICKETS) if i % 4 == 0)
    return {"registered": TICKETS, "closed": TICKETS, "closed_late": late, "escalated": late,
            "returned": sum(1 for i in range(TICKETS) if i % 5 == 0),
            "rated": sum(1 for i in range(TICKETS) if i % 3 == 0),
            "dissatisfied": sum(1 for i in range(TICKETS) if i % 9 == 0)}


def history() -> list:
    """Two tickets of the past, loaded without the bus; the second is still open (the bus will close it)."""
    out = []
    for n, ticket in enumerate(("H-1", "H-2")):
        at = DAY0 - timedelta(days=7 - n)
        for env in (ticket_envelope("register", ticket, at), ticket_envelope("dispatch", ticket, at)):
            out.append((env.type, _payload(env)))
    out.append(("ticket.closed", _payload(ticket_envelope("close", "H-1", DAY0 - timedelta(days=6)))))
    return out


def _payload(envelope):
    from gridgov_common.events.tickets import TicketEvent

    if envelope.type == FEEDBACK_RECEIVED_TYPE:
        return FeedbackReceived.model_validate(envelope.payload)
    return TicketEvent.model_validate(envelope.payload)


@pytest.fixture(params=["embedded", pytest.param("distributed", marks=pytest.mark.distributed)])
def analytics(request, tmp_path):
    """The analytics app on one stack, its bus and database its own."""
    common = dict(data_dir=tmp_path, jwt_secret=TEST_SECRET, log_json=False)
    settings = {"generation_poll_s": 0.5}
    namespace = None
    if request.param == "distributed":
        bootstrap = require_infra("GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS", "Apache Kafka")
        namespace = f"t{uuid.uuid4().hex[:10]}."
        common |= dict(kafka_bootstrap_servers=bootstrap, topic_namespace=namespace)
        settings["database_url"] = request.getfixturevalue("pg_url")
    app = create_app(AnalyticsSettings(common=CommonSettings(**common), **settings))
    try:
        with TestClient(app) as client:
            yield client
    finally:
        if namespace:
            from tests.support.stack import drop_namespace

            drop_namespace(common["kafka_bootstrap_servers"], namespace)


def cube(client) -> dict:
    resp = client.get("/v1/admin/cube", headers=bearer("admin"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_totals(client, bus: dict[str, int]) -> tuple[dict, float]:
    started = time.monotonic()
    while True:
        status = cube(client)
        if status["bus"] == bus or time.monotonic() - started > WAIT_S:
            assert status["bus"] == bus, status
            return status, time.monotonic() - started
        time.sleep(0.1)


def counts(client) -> dict:
    resp = client.get("/v1/trends/counts", headers=bearer("command_centre"), params={
        "from": "2026-09-28", "to": "2026-10-25", "measure": "registered,closed,closed_late,returned,rated,"
        "dissatisfied,escalated"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_read_model_counts_and_rebuilds_from_the_bus(analytics, capsys):
    runtime = analytics.app.state.runtime
    loaded = load_history(runtime.db, history())
    assert (loaded.tickets, loaded.events) == (2, 5)
    messages = [m for i in range(TICKETS) for m in lifecycle(i)]
    messages.append(ticket_envelope("close", "H-2", DAY0 + timedelta(hours=1)))  # the bus closes a history ticket
    expect = expected_bus_totals()
    expect["closed"] += 1
    expect["closed_late"] += 1  # after the deadline its history set
    publish(runtime.bus, *messages)
    status, took = wait_totals(analytics, expect)
    assert status["history"] == {"registered": 2, "closed": 1} and status["history_facts"] == 2
    assert status["facts"] == TICKETS + 2
    before = counts(analytics)
    assert sum(before["series"][0]["values"]) == TICKETS + 2  # registered in range: the bus's and the history's
    with capsys.disabled():
        print(f"\n[{'PostgreSQL' if 'postgresql' in str(runtime.db.engine.url) else 'SQLite'}] "
              f"{len(messages)} messages projected in {took:.2f} s ({len(messages) / took:.0f}/s)")

    rebuilt = analytics.post("/v1/admin/rebuild", headers=bearer("admin"))
    assert rebuilt.status_code == 202, rebuilt.text
    assert cube(analytics)["group"] == rebuilt.json()["group"]
    status, took = wait_totals(analytics, expect)
    assert status["history"] == {"registered": 2, "closed": 1} and status["facts"] == TICKETS + 2
    assert counts(analytics) == before
    # The history ticket the bus closed was restored to its history state and closed again by the new generation.
    assert status["history_facts"] == 2


@pytest.mark.distributed
def test_concurrent_history_loads_on_postgresql_add_up_without_deadlock(pg_url):
    """Two writers upserting the same count keys at once (history workers, consumer instances) both commit and
    their counts add up: rows are written in key order, so PostgreSQL's row locks are taken in one order."""
    import threading

    from gridgov_analytics.tables import metadata
    from gridgov_common.db import Database
    from gridgov_common.migrations import upgrade_to_head

    db = Database(pg_url, metadata, "analytics")
    upgrade_to_head(db, "gridgov_analytics")
    errors: list[BaseException] = []

    def load(prefix: str, order: int) -> None:
        # The same tickets' first two events (registered, dispatched), in opposite orders in the two writers.
        events = [(env.type, _payload(env)) for i in range(120)[::order] for env in lifecycle(i)[:2]]
        events = [(t, p.model_copy(update={"ticket_id": f"{prefix}{p.ticket_id}"})) for t, p in events]
        try:
            load_history(db, events)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=("A", 1)), threading.Thread(target=load, args=("B", -1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        with db.session() as session:
            from gridgov_analytics.cube import service

            assert service.total(session) == {"registered": 240}
    finally:
        db.engine.dispose()


def test_batch_waits_for_a_first_rebuild_in_flight_and_sees_its_generation(analytics):
    """Before the first rebuild the generation row does not exist, and FOR UPDATE on no row locked nothing: a batch
    of generation 1 could write its counts after the rebuild had cleared them (seen in CI as totals matching while
    facts were still missing). A batch's check must wait for the rebuild and see generation 2."""
    import threading

    from sqlalchemy import create_engine
    from sqlmodel import Session

    from gridgov_analytics.cube import service

    db = analytics.app.state.runtime.db
    # The batch on a connection of its own, as another process's would be (the app's pool may be one connection).
    other = create_engine(db.engine.url.render_as_string(hide_password=False),
                          connect_args={"timeout": 30} if db.engine.dialect.name == "sqlite" else {})
    seen: list[int] = []
    with db.session() as rebuilding:
        assert service.clear_bus_rows(rebuilding) == 2  # in flight: not committed yet

        def batch_check() -> None:
            with Session(other) as batch:
                seen.append(service.generation(batch, lock=True))
                batch.rollback()

        checker = threading.Thread(target=batch_check)
        checker.start()
        checker.join(1.0)
        assert seen == []  # waiting for the rebuild's transaction
        rebuilding.commit()
    checker.join(30)
    other.dispose()
    assert seen == [2]
