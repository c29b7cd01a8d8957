"""The bus interface the services rely on, whichever backend carries it.

Semantics (both backends): named topics with a fixed partition count; a key always maps to the same
partition, so one key's messages are delivered in order; consumer groups share a topic's partitions, each
partition read by one member at a time; offsets are committed explicitly, after the effect is committed;
delivery is at-least-once; everything survives a restart.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to publish: topic, key (chooses the partition) and the encoded envelope."""

    topic: str
    key: str
    value: bytes


@dataclass(frozen=True)
class Record:
    """A message as delivered to a consumer, with its position."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes


class BusConsumer(Protocol):
    """One member of a consumer group."""

    def poll(self, timeout: float = 1.0, max_records: int = 100) -> list[Record]:
        """Next records from the partitions this member owns (may be empty)."""
        ...

    def commit(self, records: list[Record]) -> None:
        """Commit the positions after these records (call only after their effects are committed)."""
        ...

    def assignment(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs this member owns now."""
        ...

    def lag(self) -> int:
        """Messages in the owned partitions not yet committed by the group."""
        ...

    def behind(self) -> int:
        """Messages in the owned partitions after this member's fetch position (a poll should return them)."""
        ...

    def close(self) -> None:
        """Leave the group; its partitions go to the other members."""
        ...


class Bus(Protocol):
    """A durable, partitioned log."""

    def ensure_topics(self, topics: list[str], partitions: int, compacted: Collection[str] = (),
                      retention_s: float | None = None) -> None:
        """Create the topics that do not exist yet; those named in ``compacted`` keep the latest message per key,
        the others their messages for ``retention_s`` seconds (``math.inf``: for ever; None: the broker's default
        on Kafka, and on the embedded log for ever for a new topic, as before for an existing one)."""
        ...

    def publish(self, messages: list[OutgoingMessage]) -> None:
        """Append messages durably; returns only once every message is acknowledged, in order per key."""
        ...

    def consumer(self, group: str, topics: list[str]) -> BusConsumer:
        """Join a consumer group on these topics."""
        ...

    def healthy(self) -> bool:
        """Whether the bus can be reached now."""
        ...

    def prune(self) -> int:
        """Delete the messages past their topic's retention, where the bus does not do it itself; how many."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def partition_for(key: str, partitions: int) -> int:
    """The partition of a key in the embedded log (stable across processes and restarts)."""
    return zlib.crc32(key.encode()) % partitions


class NamespacedBus:
    """A bus whose physical topic names carry a prefix (one cluster shared by several environments)."""

    def __init__(self, inner: Bus, namespace: str):
        self.inner = inner
        self.namespace = namespace

    def ensure_topics(self, topics: list[str], partitions: int, compacted: Collection[str] = (),
                      retention_s: float | None = None) -> None:
        """Create the prefixed topics."""
        self.inner.ensure_topics([self.namespace + t for t in topics], partitions,
                                 [self.namespace + t for t in compacted], retention_s)

    def publish(self, messages: list[OutgoingMessage]) -> None:
        """Publish to the prefixed topics."""
        self.inner.publish([OutgoingMessage(self.namespace + m.topic, m.key, m.value) for m in messages])

    def consumer(self, group: str, topics: list[str]) -> BusConsumer:
        """Join the prefixed group on the prefixed topics; records come back with logical topic names."""
        return _NamespacedConsumer(self.inner.consumer(self.namespace + group,
                                                       [self.namespace + t for t in topics]), self.namespace)

    def healthy(self) -> bool:
        """Whether the underlying bus answers."""
        return self.inner.healthy()

    def prune(self) -> int:
        """Delete the expired messages of every namespace (see the underlying bus)."""
        return self.inner.prune()

    def close(self) -> None:
        """Close the underlying bus."""
        self.inner.close()


class _NamespacedConsumer:
    def __init__(self, inner: BusConsumer, namespace: str):
        self.inner = inner
        self.namespace = namespace

    def poll(self, timeout: float = 1.0, max_records: int = 100) -> list[Record]:
        n = len(self.namespace)
        return [Record(r.topic[n:], r.partition, r.offset, r.key, r.value)
                for r in self.inner.poll(timeout, max_records)]

    def commit(self, records: list[Record]) -> None:
        self.inner.commit([Record(self.namespace + r.topic, r.partition, r.offset, r.key, r.value)
                           for r in records])

    def assignment(self) -> list[tuple[str, int]]:
        n = len(self.namespace)
        return [(t[n:], p) for t, p in self.inner.assignment()]

    def lag(self) -> int:
        return self.inner.lag()

    def behind(self) -> int:
        return self.inner.behind()

    def close(self) -> None:
        self.inner.close()


def open_bus(url: str, client_id: str = "gridgov", namespace: str = "") -> Bus:
    """Open the bus named by a URL: ``kafka://host:port[,host:port]`` or ``sqlite:///path/bus.db``.

    A ``namespace`` prefixes every physical topic and group name (e.g. one per test run or environment).
    """
    if url.startswith("kafka://"):
        from gridgov_common.bus.kafka import KafkaBus

        bus: Bus = KafkaBus(url.removeprefix("kafka://"), client_id=client_id)
    elif url.startswith("sqlite:///"):
        from gridgov_common.bus.embedded import EmbeddedBus

        bus = EmbeddedBus(url.removeprefix("sqlite:///"))
    else:
        raise ValueError(f"unknown bus URL {url!r}: expected kafka://... or sqlite:///...")
    return NamespacedBus(bus, namespace) if namespace else bus
