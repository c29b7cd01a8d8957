"""What runs inside one service process besides its API: the database, the bus, the outbox relay and the
consumers. Views declare it as a dependency (``gridgov_common.deps.Runtime``, or their service's own alias);
consumers are handed what they need when the runtime is built."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.interface import Bus, open_bus
from gridgov_common.bus.runner import MAX_BATCH, ConsumerRunner
from gridgov_common.bus.topics import COMPACTED_TOPICS, all_topics_with_dlq
from gridgov_common.db import Database, OutboxRelay
from gridgov_common.periodic import Periodic
from gridgov_common.settings import ServiceSettings

log = logging.getLogger(__name__)
# Handled-message records outlive the bus's retention by this much: a copy of a message may still arrive a little
# after the original left the log (a relay resending after a crash, clocks of two machines apart).
HANDLED_GRACE = timedelta(days=1)


@dataclass
class ConsumerSpec:
    """A consumer group this service runs: its topics and the handler of a batch of envelopes.

    The runner hands over each polled batch at once and, if the batch fails, each message alone.
    """

    group: str
    topics: list[str]
    handler: Callable[[list[Envelope]], None]
    instances: int = 1
    max_batch: int = MAX_BATCH  # records per polled batch


@dataclass
class ServiceRuntime:
    """Database, bus, relay and consumers of one service process."""

    settings: ServiceSettings
    db: Database
    consumers: list[ConsumerSpec] = field(default_factory=list)
    # The service package whose ``migrations/`` build its schema (None: create tables from metadata).
    migrations_package: str | None = None
    bus: Bus | None = None
    relay: OutboxRelay | None = None
    runners: list[ConsumerRunner] = field(default_factory=list)
    retention: Periodic | None = None

    def open_bus(self) -> Bus:
        """The bus named by the settings (opened once)."""
        if self.bus is None:
            common = self.settings.common
            self.bus = open_bus(common.bus_url, client_id=self.settings.service_name,
                                namespace=common.topic_namespace)
        return self.bus

    def start(self, ensure_topics_timeout: float = 120.0) -> None:
        """Migrate, prepare, create topics, then start the relay and the consumers the settings ask for."""
        if self.migrations_package:
            from gridgov_common.migrations import upgrade_to_head

            upgrade_to_head(self.db, self.migrations_package)
        else:
            self.db.create_all()
        self.prepare()
        bus = self.open_bus()
        deadline = time.monotonic() + ensure_topics_timeout
        while True:
            try:
                bus.ensure_topics(all_topics_with_dlq(), self.settings.common.topic_partitions, COMPACTED_TOPICS,
                                  self.retention_s())
                break
            except Exception as exc:  # noqa: BLE001 - the broker may still be starting
                if time.monotonic() > deadline:
                    raise
                log.warning("bus not ready yet (%s); retrying", exc)
                time.sleep(1.0)
        if self.settings.run_relay:
            self.relay = OutboxRelay(self.db, bus)
            self.relay.start()
        if self.settings.run_consumers:
            for spec in self.consumers:
                for i in range(spec.instances):
                    runner = ConsumerRunner(bus, spec.group, spec.topics, spec.handler,
                                            name=f"{spec.group}-{i}", max_batch=spec.max_batch)
                    runner.start()
                    self.runners.append(runner)
        if math.isfinite(self.retention_s()):
            self.retention = Periodic(f"{self.settings.service_name}-retention", self.prune_expired,
                                      self.settings.common.retention_check_s)
            self.retention.start()

    def prepare(self) -> None:
        """Service-specific set-up after the schema exists and before any consumer runs (seeds, caches)."""

    def retention_s(self) -> float:
        """How long the bus keeps messages, in seconds (``GRIDGOV_BUS_RETENTION_HOURS``; 0 there: ``math.inf``)."""
        hours = self.settings.common.bus_retention_hours
        return hours * 3600 if hours else math.inf

    def prune_expired(self) -> int:
        """One pass of retention: the bus's expired messages (the embedded log; Kafka's brokers prune their own)
        and this service's handled-message records no copy of whose message can arrive any more."""
        retention_s = self.retention_s()
        if math.isinf(retention_s):
            return 0
        messages = self.open_bus().prune()
        records = self.db.prune_handled(datetime.now(UTC) - timedelta(seconds=retention_s) - HANDLED_GRACE)
        if messages or records:
            log.info("retention: %d expired messages and %d handled-message records deleted", messages, records)
        return messages + records

    def retention_deleted(self) -> int:
        """What this process's retention passes deleted so far (``/metrics``: ``gridgov_retention_deleted_total``)."""
        return self.retention.steps if self.retention else 0

    def stop(self) -> None:
        """Stop consumers and relay, then release the bus and the database."""
        for runner in self.runners:
            runner.stop()
        if self.relay:
            self.relay.stop()
        if self.retention:
            self.retention.stop()
            self.retention.join(timeout=10)
        for runner in self.runners:
            runner.join(timeout=10)
        if self.relay:
            self.relay.join(timeout=10)
        if self.bus:
            self.bus.close()
        self.db.dispose()

    def ready(self) -> dict[str, bool]:
        """Whether each dependency answers now (for /readyz)."""
        return {"database": self.db.ping(), "bus": self.bus.healthy() if self.bus else False}
