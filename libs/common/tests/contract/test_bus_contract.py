"""The semantics the services rely on, held against both bus backends: the embedded log and Kafka."""

import threading
import time
import uuid

import pytest

from conftest import require_infra
from gridgov_common.bus.interface import OutgoingMessage, open_bus


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.distributed)])
def bus(request, tmp_path):
    if request.param == "embedded":
        b = open_bus(f"sqlite:///{tmp_path / 'bus.db'}")
    else:
        servers = require_infra("GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS", "Apache Kafka")
        b = open_bus(f"kafka://{servers}")
    yield b
    b.close()


@pytest.fixture
def topic(bus):
    name = f"test.contract.{uuid.uuid4().hex[:10]}"
    bus.ensure_topics([name], partitions=3)
    return name


def drain(consumer, want: int, timeout: float = 30.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        got.extend(consumer.poll(timeout=0.5))
    return got


def test_publish_keeps_order_per_key(bus, topic):
    messages = [OutgoingMessage(topic, f"k{i % 5}", f"{i % 5}:{i}".encode()) for i in range(100)]
    bus.publish(messages)
    consumer = bus.consumer(f"g-{uuid.uuid4().hex[:6]}", [topic])
    got = drain(consumer, 100)
    consumer.close()
    assert len(got) == 100
    per_key: dict[str, list[int]] = {}
    partitions: dict[str, set[int]] = {}
    for r in got:
        per_key.setdefault(r.key, []).append(int(r.value.decode().split(":")[1]))
        partitions.setdefault(r.key, set()).add(r.partition)
    assert all(seq == sorted(seq) for seq in per_key.values())
    assert all(len(p) == 1 for p in partitions.values())


def test_committed_offsets_survive_reconnect(bus, topic):
    group = f"g-{uuid.uuid4().hex[:6]}"
    bus.publish([OutgoingMessage(topic, f"k{i}", str(i).encode()) for i in range(10)])
    first = bus.consumer(group, [topic])
    got = drain(first, 10)
    first.commit(got)
    first.close()
    bus.publish([OutgoingMessage(topic, "k-late", b"late")])
    second = bus.consumer(group, [topic])
    again = drain(second, 1)
    time.sleep(0.5)
    again += second.poll(timeout=0.5)
    second.close()
    assert [r.value for r in again] == [b"late"]


def test_uncommitted_records_are_delivered_again(bus, topic):
    group = f"g-{uuid.uuid4().hex[:6]}"
    bus.publish([OutgoingMessage(topic, f"k{i}", str(i).encode()) for i in range(6)])
    first = bus.consumer(group, [topic])
    got = drain(first, 6)
    first.commit([r for r in got if int(r.value) < 3 and r.partition == got[0].partition][:1])
    first.close()
    second = bus.consumer(group, [topic])
    redelivered = drain(second, 5)
    second.close()
    assert len(redelivered) >= 5  # everything but the one committed record comes back


def test_group_members_share_partitions_and_take_over_when_one_leaves(bus, topic):
    group = f"g-{uuid.uuid4().hex[:6]}"
    a = bus.consumer(group, [topic])
    b = bus.consumer(group, [topic])
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:  # both join, the group settles on a split
        a.poll(timeout=0.2)
        b.poll(timeout=0.2)
        if a.assignment() and b.assignment() and len(set(a.assignment()) | set(b.assignment())) == 3:
            break
    assert not set(a.assignment()) & set(b.assignment())
    bus.publish([OutgoingMessage(topic, f"k{i}", str(i).encode()) for i in range(60)])
    seen_a, seen_b = [], []
    deadline = time.monotonic() + 40
    while len(seen_a) + len(seen_b) < 60 and time.monotonic() < deadline:
        seen_a += a.poll(timeout=0.3)
        seen_b += b.poll(timeout=0.3)
    a.commit(seen_a)
    b.commit(seen_b)
    assert len(seen_a) + len(seen_b) == 60
    assert not ({(r.partition, r.offset) for r in seen_a} & {(r.partition, r.offset) for r in seen_b})
    assert seen_a and seen_b, "both members got a share of the partitions"
    a.close()
    bus.publish([OutgoingMessage(topic, f"k{i}", str(i).encode()) for i in range(60, 90)])
    rest = drain(b, 30, timeout=60)
    b.close()
    assert sorted(int(r.value) for r in rest) == list(range(60, 90))


@pytest.mark.distributed
def test_kafka_members_that_subscribe_before_the_topic_exists_share_it_once_created():
    """A member that joined without the topic's partitions could be dropped from the group for good (kafka-python
    3.0.12); a Kafka consumer now waits for the partitions before it joins. (The embedded log refuses a consumer
    of a topic that does not exist at once, so this case has no embedded counterpart.)"""
    bus = open_bus(f"kafka://{require_infra('GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS', 'Apache Kafka')}")
    name = f"test.contract.late.{uuid.uuid4().hex[:10]}"
    group = f"g-{uuid.uuid4().hex[:6]}"
    members: dict[str, object] = {}
    joiners = [threading.Thread(target=lambda k=k: members.__setitem__(k, bus.consumer(group, [name])))
               for k in ("a", "b")]
    for t in joiners:
        t.start()
    try:
        started = time.monotonic()
        while time.monotonic() - started < 3:  # members that exist already poll (join) before the topic exists
            if len(members) == 2:
                members["a"].poll(timeout=0.2)
                members["b"].poll(timeout=0.2)
            else:
                time.sleep(0.1)
        bus.ensure_topics([name], partitions=3)
        for t in joiners:
            t.join(timeout=60)
        a, b = members["a"], members["b"]
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            a.poll(timeout=0.2)
            b.poll(timeout=0.2)
            if a.assignment() and b.assignment() and len(set(a.assignment()) | set(b.assignment())) == 3:
                break
        assert a.assignment() and b.assignment(), (a.assignment(), b.assignment())
        assert sorted(set(a.assignment()) | set(b.assignment())) == [(name, p) for p in range(3)]
    finally:
        for consumer in members.values():
            consumer.close()
        bus.close()


def test_behind_counts_records_after_the_fetch_position_not_the_commit(bus, topic):
    group = f"g-{uuid.uuid4().hex[:6]}"
    bus.publish([OutgoingMessage(topic, f"k{i}", str(i).encode()) for i in range(6)])
    consumer = bus.consumer(group, [topic])
    try:
        got = drain(consumer, 6)
        assert len(got) == 6
        # Fetched but not committed: the group still lags, this member has nothing left to fetch.
        assert consumer.lag() == 6 and consumer.behind() == 0
        bus.publish([OutgoingMessage(topic, "k-late", b"late")])
        deadline = time.monotonic() + 10
        while consumer.behind() != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert consumer.behind() == 1 and consumer.lag() == 7
    finally:
        consumer.close()
