"""The bus interface the services rely on, whichever backend carries it.

Semantics (both backends): named topics with a fixed partition count; a key always maps to the same
partition, so one key's messages are delivered in order; consumer groups share a topic's partitions, each
partition read by one member at a time; offsets are committed explicitly, after the effect is committed;
delivery is at-least-once; everything survives a restart.
"""

from __future__ import annotations

import zlib
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

    def close(self) -> None:
        """Leave the group; its partitions go to the other members."""
        ...


class Bus(Protocol):
    """A durable, partitioned log."""

    def ensure_topics(self, topics: list[str], partitions: int) -> None:
        """Create the topics that do not exist yet."""
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

    def close(self) -> None:
        """Release connections."""
        ...


def partition_for(key: str, partitions: int) -> int:
    """The partition of a key in the embedded log (stable across processes and restarts)."""
    return zlib.crc32(key.encode()) % partitions


def open_bus(url: str, client_id: str = "gridgov") -> Bus:
    """Open the bus named by a URL: ``kafka://host:port[,host:port]`` or ``sqlite:///path/bus.db``."""
    if url.startswith("kafka://"):
        from gridgov_common.bus.kafka import KafkaBus

        return KafkaBus(url.removeprefix("kafka://"), client_id=client_id)
    if url.startswith("sqlite:///"):
        from gridgov_common.bus.embedded import EmbeddedBus

        return EmbeddedBus(url.removeprefix("sqlite:///"))
    raise ValueError(f"unknown bus URL {url!r}: expected kafka://... or sqlite:///...")
