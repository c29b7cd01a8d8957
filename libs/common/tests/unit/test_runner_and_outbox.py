import json
import time

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.exc import OperationalError

from gridgov_common.bus.embedded import EmbeddedBus
from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.runner import ConsumerRunner
from gridgov_common.bus.topics import dlq
from gridgov_common.db import Database, OutboxRelay

TOPIC = "gridgov.test"


def make_bus(tmp_path) -> EmbeddedBus:
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topics([TOPIC, dlq(TOPIC)], 2)
    return bus


def envelope(key: str, n: int) -> Envelope:
    return Envelope(type="test.thing", producer="test", key=key, correlation_id=key, payload={"n": n})


def read_topic(bus: EmbeddedBus, topic: str) -> list[bytes]:
    rows = bus._conn().execute('SELECT value FROM log WHERE topic=? ORDER BY appended_at, "offset"', (topic,))
    return [bytes(r[0]) for r in rows]


def run_until(runner: ConsumerRunner, condition, timeout=15.0):
    runner.start()
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.stop()
    runner.join(5)


def test_runner_dead_letters_malformed_and_failing_messages_and_goes_on(tmp_path):
    bus = make_bus(tmp_path)
    handled = []

    def handler(envs: list[Envelope]) -> None:
        ns = [env.payload["n"] for env in envs]
        if 2 in ns:
            raise ValueError("category 99999 is not routable")
        handled.extend(ns)

    bus.publish([OutgoingMessage(TOPIC, "a", envelope("a", 1).to_bytes()),
                 OutgoingMessage(TOPIC, "a", b"not an envelope"),
                 OutgoingMessage(TOPIC, "a", envelope("a", 2).to_bytes()),
                 OutgoingMessage(TOPIC, "a", envelope("a", 3).to_bytes())])
    runner = ConsumerRunner(bus, "g", [TOPIC], handler)
    run_until(runner, lambda: len(handled) == 2)
    assert handled == [1, 3]
    dead = [json.loads(v) for v in read_topic(bus, dlq(TOPIC))]
    assert len(dead) == 2
    assert "not a gridgov envelope" in dead[0]["error"] or "not JSON" in dead[0]["error"]
    assert "not routable" in dead[1]["error"] and dead[1]["topic"] == TOPIC
    assert sum(bus.committed("g", TOPIC).values()) == 4


def test_runner_polls_at_most_its_max_batch(tmp_path):
    bus = make_bus(tmp_path)
    bus.publish([OutgoingMessage(TOPIC, "a", envelope("a", n).to_bytes()) for n in range(50)])
    sizes: list[int] = []
    runner = ConsumerRunner(bus, "g", [TOPIC], lambda envs: sizes.append(len(envs)), max_batch=7)
    run_until(runner, lambda: sum(sizes) == 50)
    assert sum(sizes) == 50
    assert max(sizes) == 7  # the backlog came in batches of at most 7, and full ones while it lasted


def test_runner_retries_transient_failures_without_dead_lettering(tmp_path):
    bus = make_bus(tmp_path)
    calls = []

    def handler(envs: list[Envelope]) -> None:
        calls.extend(env.payload["n"] for env in envs)
        if len(calls) <= 5:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    bus.publish([OutgoingMessage(TOPIC, "a", envelope("a", 7).to_bytes())])
    runner = ConsumerRunner(bus, "g", [TOPIC], handler)
    run_until(runner, lambda: len(calls) >= 6 and sum(bus.committed("g", TOPIC).values()) == 1)
    assert calls == [7] * 6
    assert read_topic(bus, dlq(TOPIC)) == []


def test_outbox_publishes_only_committed_changes(tmp_path):
    bus = make_bus(tmp_path)
    md = MetaData()
    things = Table("thing", md, Column("id", Integer, primary_key=True), Column("name", String(20)))
    db = Database(f"sqlite:///{tmp_path / 'svc.db'}", md, "svc")
    db.create_all()
    relay = OutboxRelay(db, bus)
    with db.session() as s:
        s.execute(insert(things).values(id=1, name="kept"))
        db.add_outbox(s, TOPIC, envelope("k1", 1))
        s.commit()
    with db.session() as s:
        s.execute(insert(things).values(id=2, name="rolled back"))
        db.add_outbox(s, TOPIC, envelope("k2", 2))
        s.rollback()
    relay.drain()
    published = [Envelope.from_bytes(v).payload["n"] for v in read_topic(bus, TOPIC)]
    assert published == [1]
    assert db.outbox_backlog() == 0
    with db.engine.connect() as c:
        assert c.execute(select(things.c.name)).scalars().all() == ["kept"]


def test_two_relays_of_one_sqlite_database_publish_each_message_once_in_order(tmp_path):
    """Two instances of a service (its -api and -consumer processes) each relay the outbox: on SQLite they take
    turns by the relays' lock file, so no row is published twice and one key's messages keep their order, while
    the service keeps writing."""
    import threading

    bus = make_bus(tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'svc.db'}", MetaData(), "svc")
    db.create_all()
    relays = [OutboxRelay(db, bus, poll_interval=0.01, linger=0), OutboxRelay(db, bus, poll_interval=0.01, linger=0)]
    for relay in relays:
        relay.start()
    counts = {f"k{i}": 0 for i in range(5)}

    def write() -> None:
        for _ in range(300):
            with db.session() as s:
                for key in counts:
                    counts[key] += 1
                    db.add_outbox(s, TOPIC, envelope(key, counts[key]))
                s.commit()

    writers = [threading.Thread(target=write)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    deadline = time.monotonic() + 30
    while db.outbox_backlog() and time.monotonic() < deadline:
        time.sleep(0.05)
    for relay in relays:
        relay.stop()
        relay.join(10)
    assert db.outbox_backlog() == 0
    seen: dict[str, list[int]] = {}
    for value in read_topic(bus, TOPIC):
        env = Envelope.from_bytes(value)
        seen.setdefault(env.key, []).append(env.payload["n"])
    assert {key: ns for key, ns in seen.items()} == {key: list(range(1, 301)) for key in counts}
    assert all(relay.published for relay in relays)  # both relayed, in turns


def test_drain_waits_while_another_relay_holds_the_lock(tmp_path):
    """On PostgreSQL a second relay (the service's own thread) may hold the outbox lock when a drain starts:
    relay_once then moves nothing although messages are pending, and drain must wait, not return."""
    bus = make_bus(tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'svc.db'}", MetaData(), "svc")
    db.create_all()
    with db.session() as s:
        db.add_outbox(s, TOPIC, envelope("k1", 1))
        s.commit()
    relay = OutboxRelay(db, bus)
    real_once, busy = relay.relay_once, [2]

    def once_while_locked() -> int:
        if busy[0]:
            busy[0] -= 1
            return 0  # what pg_try_advisory_xact_lock refused looks like
        return real_once()

    relay.relay_once = once_while_locked
    relay.drain()
    assert [Envelope.from_bytes(v).payload["n"] for v in read_topic(bus, TOPIC)] == [1]
    assert db.outbox_backlog() == 0


def test_first_time_records_a_message_once(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'svc.db'}", MetaData(), "svc")
    db.create_all()
    with db.session() as s:
        assert db.first_time(s, "c", "m1") is True
        s.commit()
    with db.session() as s:
        assert db.first_time(s, "c", "m1") is False
        assert db.first_time(s, "other-consumer", "m1") is True


class _StallingBus:
    """An embedded bus whose first consumer polls nothing although its partitions hold records (the client
    stall seen with kafka-python 3.x); consumers after it work."""

    def __init__(self, inner: EmbeddedBus):
        self.inner = inner
        self.joined = 0

    def consumer(self, group, topics):  # noqa: ANN001, ANN201
        self.joined += 1
        member = self.inner.consumer(group, topics)
        if self.joined == 1:
            real_poll = member.poll

            def stalled_poll(timeout=1.0, max_records=100):  # noqa: ANN001, ANN202
                real_poll(timeout, max_records)  # joins and heartbeats as a member does, then drops what came
                member._positions = {(t, p): self.inner.committed(group, t).get(p, 0) for t, p in member._positions}
                return []

            member.poll = stalled_poll
        return member

    def publish(self, messages):  # noqa: ANN001, ANN201
        return self.inner.publish(messages)


def test_runner_rejoins_when_its_polls_return_nothing_while_records_wait(tmp_path):
    bus = make_bus(tmp_path)
    bus.publish([OutgoingMessage(TOPIC, "a", envelope("a", n).to_bytes()) for n in range(3)])
    stalling = _StallingBus(bus)
    handled = []
    runner = ConsumerRunner(stalling, "g", [TOPIC], lambda envs: handled.extend(e.payload["n"] for e in envs))
    runner.stall_s = 1.0
    run_until(runner, lambda: len(handled) == 3)
    assert sorted(handled) == [0, 1, 2]
    assert runner.stalls == 1 and stalling.joined == 2
    assert sum(bus.committed("g", TOPIC).values()) == 3


class _GapConsumer:
    """A member whose group has uncommitted lag but nothing left to fetch (a compacted topic's gap)."""

    def __init__(self):
        self.polls = 0

    def poll(self, timeout=1.0, max_records=100):  # noqa: ANN001, ANN201
        self.polls += 1
        time.sleep(0.05)
        return []

    def assignment(self):  # noqa: ANN201
        return [(TOPIC, 0)]

    def lag(self) -> int:
        return 2

    def behind(self) -> int:
        return 0

    def commit(self, records):  # noqa: ANN001, ANN201
        raise AssertionError("nothing was handled")

    def close(self) -> None:
        pass


class _GapBus:
    def __init__(self):
        self.joined = 0

    def consumer(self, group, topics):  # noqa: ANN001, ANN201
        self.joined += 1
        return _GapConsumer()


def test_runner_does_not_rejoin_over_lag_with_nothing_to_fetch():
    bus = _GapBus()
    runner = ConsumerRunner(bus, "g", [TOPIC], lambda envs: None)
    runner.stall_s = 0.3
    run_until(runner, lambda: False, timeout=2.0)
    assert bus.joined == 1 and runner.stalls == 0


@pytest.mark.distributed
def test_the_relay_deletes_what_it_published_by_the_primary_key_on_postgresql(tmp_path, pg_url):
    """The relay's delete is one array of ids on PostgreSQL: every published row goes, none other, and its generic
    plan (psycopg prepares a statement run five times) reaches each id by the primary key even on an outbox that
    grew without statistics — a backlog after an outage is when it runs most."""
    from tests.support.sql_plans import generic_plan, scans_of

    bus = make_bus(tmp_path)
    db = Database(pg_url, MetaData(), "relaypg")
    db.create_all()
    outbox = db.tables.outbox.name
    try:
        relay = OutboxRelay(db, bus)
        for n in range(7):  # past psycopg's five runs: the delete is prepared by the last ones
            with db.session() as s:
                db.add_outbox(s, TOPIC, envelope(f"k{n}", n))
                s.commit()
            assert relay.relay_once() == 1
        assert sorted(Envelope.from_bytes(v).payload["n"] for v in read_topic(bus, TOPIC)) == list(range(7))
        assert db.outbox_backlog() == 0

        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {outbox} SET (autovacuum_enabled = false)")  # no statistics, ever
            conn.exec_driver_sql(f"INSERT INTO {outbox} (topic, key, message_id, value, created_at) SELECT 't', "
                                 f"'k', md5(i::text), 'x', now() FROM generate_series(1, 20000) AS i")
        numbered = relay._delete_sql.replace("%s", "$1")
        plan = generic_plan(db.engine, numbered, ["bigint[]"], "ARRAY[5, 500, 5000]::bigint[]")
        reads = [n for n in scans_of(plan, outbox) if n["Node Type"] != "ModifyTable"]
        assert reads and all(n["Node Type"] in ("Index Scan", "Bitmap Heap Scan") for n in reads), plan
        assert "Seq Scan" not in json.dumps(plan) and "_pkey" in json.dumps(plan), plan
    finally:
        db.dispose()
