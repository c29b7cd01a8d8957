"""The Kafka bus (kafka-python): the only module in gridgov that imports the Kafka client.

Producer: ``acks=all``, idempotent, one request in flight per connection, so retries never reorder one
key's messages. Consumer: manual commits only, issued after the effect is committed; the group coordinator
rebalances partitions when a member joins or leaves.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Collection

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from gridgov_common.bus.interface import OutgoingMessage, Record

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 30.0
COMPACT = {"cleanup.policy": "compact"}
# How long a new consumer waits for its topics to have partitions before it joins its group.
CONSUMER_METADATA_WAIT_S = 30.0


class KafkaBus:
    """A bus on an Apache Kafka cluster."""

    def __init__(self, bootstrap_servers: str, client_id: str = "gridgov"):
        self.bootstrap_servers = bootstrap_servers.split(",")
        self.client_id = client_id
        self.replication_factor = int(os.environ.get("GRIDGOV_KAFKA_REPLICATION_FACTOR", "1"))
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _get_producer(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._producer = KafkaProducer(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=self.client_id,
                    acks="all",
                    enable_idempotence=True,
                    retries=2**31 - 1,
                    max_in_flight_requests_per_connection=1,
                    linger_ms=2,
                    # Each new 16 KB batch (kafka-python's default) woke the sender thread: ~90 wakeups per
                    # 2,000-message publish, 7 % of sensing's samples on Kafka. ``publish`` flushes at once, so larger
                    # batches add no wait; the broker takes up to 1 MB per batch (message.max.bytes).
                    batch_size=262_144,
                    request_timeout_ms=15000,
                    # Java-client compatible murmur2 partitioner is kafka-python's default for keyed records.
                    # kafka-python's own statistics (sensors recorded in Python on every send; nothing here reads
                    # them): off, medians of six interleaved rounds 56.3 -> 47.5 us of CPU per published message
                    # and 33.9 -> 29.4 us per message consumed and committed (bench/kafka_clients.py).
                    metrics_enabled=False,
                )
            return self._producer

    def _admin(self, timeout_ms: int = 30000) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id=f"{self.client_id}-admin",
                                request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms)

    def ensure_topics(self, topics: list[str], partitions: int, compacted: Collection[str] = (),
                      retention_s: float | None = None, timeout: float = 30.0) -> None:
        """Create the topics that do not exist yet, with ``partitions`` partitions each (``cleanup.policy=compact``
        for those named in ``compacted``, ``retention.ms`` from ``retention_s`` for the others: -1 for
        ``math.inf``, the broker's ``log.retention.*`` for None), and wait until the cluster describes every one
        with its partitions.

        An existing topic is left as it is (partitions and configuration): changing them is an operator's step.

        The wait matters: a consumer that joins its group while a topic has no partition metadata yet is
        assigned nothing for it, and kafka-python only notices at its next metadata refresh.
        """
        admin = self._admin()
        try:
            existing = set(admin.list_topics())
            missing = [t for t in topics if t not in existing]
            # Kafka's -1: no time limit (``math.inf``: for ever, as on the embedded log)
            expiring = ({} if retention_s is None else
                        {"retention.ms": "-1" if math.isinf(retention_s) else str(round(retention_s * 1000))})
            if missing:
                try:
                    admin.create_topics(
                        [NewTopic(t, partitions, self.replication_factor,
                                  topic_configs=COMPACT if t in compacted else expiring) for t in missing],
                        raise_errors=False,
                    )
                except TopicAlreadyExistsError:
                    pass  # another instance created it first
            deadline = time.monotonic() + timeout
            while not_ready := [d["name"] for d in admin.describe_topics(topics)
                                if d["error_code"] != 0 or not d["partitions"]]:
                if time.monotonic() > deadline:
                    raise KafkaTimeoutError(f"topics without partition metadata after {timeout:.0f} s: "
                                            f"{', '.join(not_ready)}")
                time.sleep(0.2)
        finally:
            admin.close()

    def publish(self, messages: list[OutgoingMessage]) -> None:
        """Send and wait for every acknowledgement (acks=all); raises if any message failed."""
        if not messages:
            return
        producer = self._get_producer()
        futures = [producer.send(m.topic, key=m.key.encode(), value=m.value) for m in messages]
        producer.flush(timeout=PUBLISH_TIMEOUT_S)
        for future in futures:
            future.get(timeout=PUBLISH_TIMEOUT_S)

    def consumer(self, group: str, topics: list[str]) -> KafkaBusConsumer:
        """Join a consumer group on these topics."""
        return KafkaBusConsumer(self, group, topics)

    def prune(self) -> int:
        """Nothing to do: the brokers delete expired segments themselves (``retention.ms``, ``log.retention.*``)."""
        return 0

    def healthy(self) -> bool:
        """Whether the cluster answers a metadata request within 3 seconds (readiness must answer fast)."""
        try:
            admin = self._admin(timeout_ms=3000)
            try:
                admin.list_topics()
            finally:
                admin.close()
            return True
        except (KafkaError, OSError):
            return False

    def close(self) -> None:
        """Flush and close the producer."""
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=5)
                self._producer = None


class KafkaBusConsumer:
    """One member of a Kafka consumer group, committing offsets by hand."""

    def __init__(self, bus: KafkaBus, group: str, topics: list[str]):
        self._consumer = KafkaConsumer(
            *topics,
            bootstrap_servers=bus.bootstrap_servers,
            client_id=f"{bus.client_id}-{group}",
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10000,
            heartbeat_interval_ms=3000,
            max_poll_interval_ms=300000,
            # A member assigned nothing for a topic whose metadata had not arrived rejoins once a refresh
            # shows its partitions: within 10 s, not the default 5 minutes.
            metadata_max_age_ms=10000,
            metrics_enabled=False,  # as the producer's: statistics recorded per fetch that nothing reads
        )
        try:
            self._await_partitions(topics)
        except BaseException:
            self._consumer.close(autocommit=False)
            raise

    def _await_partitions(self, topics: list[str]) -> None:
        """Block until this client's metadata lists partitions for every topic, before the first join.

        Why (kafka-python 3.0.12): a member that joins before its metadata knows a topic's partitions makes an
        assignment without them and rejoins when the metadata arrives; if a poll times out during that rejoin,
        the leader's join is left unfinished for good: it stops heartbeating, is dropped from the group and never
        joins again, and when the other member leaves nobody owns the partitions. CI saw it once ("No partition
        metadata" and one member with everything); subscribing before the topic exists reproduced it 3 of 3.
        Joining with the partitions already known never takes that path.
        """
        deadline = time.monotonic() + CONSUMER_METADATA_WAIT_S
        while True:
            self._consumer.topics()  # fetches every topic's metadata; the group coordinator sees it too
            missing = [t for t in topics if not self._consumer.partitions_for_topic(t)]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise KafkaTimeoutError(f"topics without partitions after {CONSUMER_METADATA_WAIT_S:.0f} s: "
                                        f"{', '.join(missing)}")
            time.sleep(0.2)

    def poll(self, timeout: float = 1.0, max_records: int = 100) -> list[Record]:
        """Next records from the partitions this member is assigned."""
        batches = self._consumer.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        out: list[Record] = []
        for tp, records in batches.items():
            for r in records:
                out.append(Record(tp.topic, tp.partition, r.offset, r.key.decode() if r.key else None, r.value))
        return out

    def commit(self, records: list[Record]) -> None:
        """Commit the offsets after these records (synchronously)."""
        if not records:
            return
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            if tp not in offsets or offsets[tp].offset < r.offset + 1:
                offsets[tp] = OffsetAndMetadata(r.offset + 1, "", -1)
        self._consumer.commit(offsets)

    def assignment(self) -> list[tuple[str, int]]:
        """The partitions this member is assigned now."""
        return sorted((tp.topic, tp.partition) for tp in self._consumer.assignment())

    def lag(self) -> int:
        """Messages in the assigned partitions after the group's committed offset."""
        return self._after(lambda tp: self._consumer.committed(tp) or 0)

    def behind(self) -> int:
        """Messages in the assigned partitions after this member's fetch position (what a poll should return).

        ``position()`` also finishes any pending offset reset or leader-epoch validation, which a plain poll only
        schedules (kafka-python 3.x).
        """
        return self._after(lambda tp: self._consumer.position(tp, timeout_ms=5000))

    def _after(self, offset_of: Callable[[TopicPartition], int | None]) -> int:
        """Messages in the assigned partitions after the offset ``offset_of`` gives each (None: not counted)."""
        assigned = list(self._consumer.assignment())
        if not assigned:
            return 0
        ends = self._consumer.end_offsets(assigned)
        return sum(max(0, ends.get(tp, 0) - offset) for tp in assigned if (offset := offset_of(tp)) is not None)

    def close(self) -> None:
        """Leave the group (triggers a rebalance for the others)."""
        self._consumer.close(autocommit=False)
