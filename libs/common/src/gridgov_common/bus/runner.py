"""The consumer loop every service uses: poll, handle the batch, dead-letter what keeps failing, commit.

At-least-once: offsets are committed only after the handler returned (its effect is committed). A message
that is not an envelope, or whose handler keeps raising a non-transient error, goes to the topic's ``.dlq``
twin with the error, and the loop goes on. A transient error (database or bus unreachable) is retried
without end and without committing: a message is never dead-lettered because a server was restarting.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from gridgov_common.bus.envelope import Envelope, MalformedMessage
from gridgov_common.bus.interface import Bus, OutgoingMessage, Record
from gridgov_common.bus.topics import dlq
from gridgov_common.errors import Unavailable
from gridgov_common.logs import correlation

log = logging.getLogger(__name__)

Handler = Callable[[list[Envelope]], None]  # handles a batch; idempotent per message

MAX_ATTEMPTS = 3
MAX_BATCH = 200  # records per polled batch (unless the consumer asks for another): one transaction, one offsets commit
# Polls returning nothing while the member's partitions hold unfetched records for this long count as a stall.
# Far above a rebalance (session timeout 10 s) or a broker restart's recovery, far below a test's patience.
STALL_S = 30.0


def is_transient(exc: BaseException) -> bool:
    """Whether a failure is the infrastructure's (retry forever) rather than the message's (dead-letter)."""
    if isinstance(exc, OperationalError | InterfaceError | Unavailable | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return type(exc).__module__.startswith("kafka.")


def dead_letter(record: Record, error: str, consumer: str) -> OutgoingMessage:
    """The DLQ message for a record: the original bytes and why it could not be handled."""
    body = {
        "error": error,
        "consumer": consumer,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key,
        "value": record.value.decode("utf-8", errors="replace"),
        "failed_at": datetime.now(UTC).isoformat(),
    }
    return OutgoingMessage(dlq(record.topic), record.key or "", json.dumps(body, ensure_ascii=False).encode())


class ConsumerRunner(threading.Thread):
    """Runs one consumer-group member in a thread until stopped."""

    def __init__(self, bus: Bus, group: str, topics: list[str], handler: Handler, name: str | None = None,
                 max_batch: int = MAX_BATCH):
        super().__init__(name=name or f"consumer-{group}", daemon=True)
        self.max_batch = max_batch
        self.bus = bus
        self.group = group
        self.topics = topics
        self.handler = handler
        self._stopping = threading.Event()
        self.handled = 0
        self.batches = 0  # polls that returned records: handled / batches is the mean batch size
        self.dead_lettered = 0
        self.assigned: list[tuple[str, int]] = []
        self.lag = 0
        self._lag_checked = 0.0
        self.stalls = 0  # times the member found itself stalled and rejoined
        self.stall_s = STALL_S
        self.ready = threading.Event()

    def stop(self) -> None:
        """Finish the current record and stop."""
        self._stopping.set()

    def run(self) -> None:
        """Consume until stopped; reconnects after bus failures."""
        while not self._stopping.is_set():
            try:
                consumer = self.bus.consumer(self.group, self.topics)
            except Exception as exc:  # noqa: BLE001 - the bus may be restarting
                log.warning("consumer %s cannot join: %s", self.group, exc)
                self._stopping.wait(1.0)
                continue
            self.ready.set()
            try:
                self._loop(consumer)
            except Exception as exc:  # noqa: BLE001
                log.warning("consumer %s failed, rejoining: %s", self.group, exc)
                self._stopping.wait(1.0)
            finally:
                self.assigned = []
                try:
                    consumer.close()
                except Exception:  # noqa: BLE001, S110 - closing a broken consumer may fail too
                    pass

    def _loop(self, consumer) -> None:  # noqa: ANN001
        progressed = time.monotonic()  # last time this member got records, or had nothing left to get
        while not self._stopping.is_set():
            records = consumer.poll(timeout=0.5, max_records=self.max_batch)
            self.assigned = consumer.assignment()
            now = time.monotonic()
            if now - self._lag_checked > 1.0:  # lag costs a query (a request on Kafka)
                self.lag = consumer.lag()
                self._lag_checked = now
                if self.lag == 0:
                    progressed = now
            if records:
                progressed = now
            elif self.lag > 0 and now - progressed > self.stall_s:
                if self._stalled(consumer):
                    return  # leave the group and join again: a new member fetches from the committed offsets
                progressed = now
            if not records:
                continue
            self.batches += 1
            batch: list[tuple[Record, Envelope]] = []
            for record in records:
                try:
                    batch.append((record, Envelope.from_bytes(record.value)))
                except MalformedMessage as exc:
                    self._dead_letter(record, str(exc))
            if batch and not self._handle_batch(batch):
                return  # stopping: nothing after the last commit is committed; it is delivered again
            consumer.commit(records)
            progressed = time.monotonic()  # a long batch is work, not a stall

    def _stalled(self, consumer) -> bool:  # noqa: ANN001
        """Whether the member has records to fetch that its polls have not returned for ``stall_s``.

        Uncommitted lag alone is not a stall: a compacted topic can leave a gap with nothing to fetch. The fetch
        position is what tells: kafka-python 3.x was seen (CI, twice in ~90 distributed runs) to keep polling
        empty while its assigned partitions held records; rejoining the group cures it, and redelivery after the
        committed offset is harmless because every handler is idempotent.
        """
        try:
            behind = consumer.behind()
        except Exception as exc:  # noqa: BLE001 - the check must not kill the loop; a failed check is a stall
            log.warning("consumer %s: cannot read its fetch positions (%s); rejoining", self.group, exc)
            return True
        if behind <= 0:
            return False
        self.stalls += 1
        log.warning("consumer %s stalled: %d records after its fetch position on %s, none returned for %.0f s; "
                    "rejoining the group", self.group, behind, self.assigned, self.stall_s)
        return True

    def _handle_batch(self, batch: list[tuple[Record, Envelope]]) -> bool:
        """Handle the whole batch in one go; on a message's error, one message at a time. False if stopping."""
        attempt = 0
        while True:
            attempt += 1
            try:
                self.handler([envelope for _, envelope in batch])
                self.handled += len(batch)
                return True
            except Exception as exc:  # noqa: BLE001 - decide below: retry, or isolate the culprit
                if not is_transient(exc):
                    break
                log.warning("transient failure on a batch of %d from %s, retrying: %s",
                            len(batch), batch[0][0].topic, exc)
                if self._stopping.wait(min(0.2 * attempt, 2.0)):
                    return False
        if len(batch) == 1:
            return self._handle_one(*batch[0])
        return all(self._handle_one(record, envelope) for record, envelope in batch)

    def _handle_one(self, record: Record, envelope: Envelope) -> bool:
        attempt = 0
        with correlation(envelope.correlation_id):
            while True:
                attempt += 1
                try:
                    self.handler([envelope])
                    self.handled += 1
                    return True
                except Exception as exc:  # noqa: BLE001 - decide below: retry, or dead-letter
                    if is_transient(exc):
                        log.warning("transient failure on %s@%s, retrying: %s", record.topic, record.offset, exc)
                        if self._stopping.wait(min(0.2 * attempt, 2.0)):
                            return False
                        continue
                    if attempt >= MAX_ATTEMPTS:
                        log.error("giving up on %s@%s after %d attempts: %r",
                                  record.topic, record.offset, attempt, exc)
                        self._dead_letter(record, f"{type(exc).__name__}: {exc}")
                        return True
                    time.sleep(0.05 * attempt)

    def _dead_letter(self, record: Record, error: str) -> None:
        while True:
            try:
                self.bus.publish([dead_letter(record, error, self.group)])
                self.dead_lettered += 1
                return
            except Exception as exc:  # noqa: BLE001 - the DLQ must not lose the message either
                log.warning("cannot dead-letter yet: %s", exc)
                if self._stopping.wait(1.0):
                    raise
