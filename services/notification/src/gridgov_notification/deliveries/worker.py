"""The delivery worker: sends due deliveries on their channels, retries with backoff, dead-letters the rest.

A thread beside the outbox relay. It claims due rows with a lease (a guarded UPDATE, so two instances never
send one row at once), sends them on a bounded pool, and records the outcomes in one transaction per round.
One slow or failing endpoint cannot hold up the others: every send has a timeout, at most
``per_target`` sends to one target are in flight while the other slots serve the rest, and at most
``per_target × HOLD_FACTOR`` rows of one target are held claimed, so a held row waits at most about
``HOLD_FACTOR`` send timeouts — well inside its lease.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from gridgov_common.db import Database
from gridgov_notification.channels import Channel, PermanentDeliveryError, TransientDeliveryError
from gridgov_notification.contacts import service as contacts
from gridgov_notification.deliveries import service
from gridgov_notification.deliveries.handlers import outgoing
from gridgov_notification.deliveries.models import DEAD, FAILED, SENT, Delivery
from gridgov_notification.deliveries.policy import RetryPolicy

log = logging.getLogger(__name__)
ERROR_MAX = 1000
HOLD_FACTOR = 4  # rows held claimed per target, in multiples of the per-target concurrency

Key = tuple[str, str]  # (channel, target)


class DeliveryWorker(threading.Thread):
    """Claims, sends and settles deliveries until stopped."""

    def __init__(self, db: Database, channels: dict[str, Channel], retry: RetryPolicy, *, concurrency: int = 8,
                 per_target: int = 2, lease_s: float = 120.0, poll_interval_s: float = 1.0, batch: int = 100,
                 wake: threading.Event | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        super().__init__(name=f"{db.service_name}-delivery-worker", daemon=True)
        self.db = db
        self.channels = channels
        self.retry = retry
        self.concurrency = concurrency
        self.per_target = per_target
        self.lease = timedelta(seconds=lease_s)
        self.poll_interval_s = poll_interval_s
        self.hold_max = max(min(batch, concurrency * HOLD_FACTOR), 1)
        self.wake = wake or threading.Event()
        self.clock = clock
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="delivery-send")
        self._lock = threading.Lock()
        self._in_flight: Counter[Key] = Counter()
        self._held: Counter[Key] = Counter()  # claimed and not yet finished: waiting or in flight
        self._ready: dict[Key, deque] = {}  # claimed rows waiting for a slot, per target
        self._outcomes: list[tuple[str, str, dict]] = []  # (id, lease owner, columns), recorded by flush()
        self.sent = 0
        self.failed = 0
        self.dead = 0

    def stop(self) -> None:
        """Stop claiming; sends in flight finish (each has its timeout), rows still waiting are released."""
        self._stopping.set()
        self.wake.set()

    def run(self) -> None:
        """Claim and send until stopped; database errors are logged and retried."""
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                self.flush()
                claimed = self.run_once()
                backoff = 0.1
                if not claimed:
                    self.wake.wait(self.poll_interval_s)
                    self.wake.clear()
            except Exception as exc:  # noqa: BLE001 - keep delivering after a transient database failure
                log.warning("delivery worker failed, retrying in %.1fs: %s", backoff, exc)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self._release_waiting()
        self._pool.shutdown(wait=True)
        self.flush()

    def run_once(self) -> int:
        """Claim due rows up to the hold limits and start sending them; returns how many it claimed."""
        with self._lock:
            room = self.hold_max - sum(self._held.values())
            held = Counter(self._held)
        if room < max(self.hold_max // 2, 1) and sum(held.values()) > 0:
            return 0  # enough in hand; claim in bigger bites once sends finish
        now = self.clock()
        owner = str(uuid.uuid4())
        cap = self.per_target * HOLD_FACTOR
        with self.db.session() as session:
            chosen: list[str] = []
            for delivery_id, channel, target in service.due_candidates(session, now, self.hold_max * 2):
                if len(chosen) >= room:
                    break
                if held[(channel, target)] >= cap:
                    continue  # this endpoint has its share in hand; serve the others
                held[(channel, target)] += 1
                chosen.append(delivery_id)
            rows = service.claim(session, chosen, owner, now, now + self.lease)
            secrets = {c.id: c.secret for c in contacts.get_many(session, {r.contact_id for r in rows
                                                                            if r.contact_id})}
        with self._lock:
            for row in rows:
                key = (row.channel, row.target)
                gone = row.contact_id is not None and row.contact_id not in secrets
                self._held[key] += 1
                self._ready.setdefault(key, deque()).append((row, owner, secrets.get(row.contact_id), gone))
        self._dispatch()
        return len(rows)

    def _dispatch(self) -> None:
        """Start waiting sends while slots are free, never more than ``per_target`` to one target."""
        with self._lock:
            for key in list(self._ready):
                queue = self._ready[key]
                while queue and self._in_flight[key] < self.per_target and \
                        sum(self._in_flight.values()) < self.concurrency and not self._stopping.is_set():
                    self._in_flight[key] += 1
                    self._pool.submit(self._send, key, *queue.popleft())
                if not queue:
                    del self._ready[key]

    def flush(self) -> int:
        """Record the outcomes of finished sends, all in one transaction; returns how many."""
        with self._lock:
            outcomes, self._outcomes = self._outcomes, []
        if outcomes:
            with self.db.session() as session:
                service.finish_many(session, outcomes)
                session.commit()
        return len(outcomes)

    def _release_waiting(self) -> None:
        with self._lock:
            waiting = [(row.id, owner) for queue in self._ready.values() for row, owner, _, _ in queue]
            self._ready.clear()
        if waiting:
            with self.db.session() as session:
                service.finish_many(session, [(delivery_id, owner, {}) for delivery_id, owner in waiting])
                session.commit()

    def _send(self, key: Key, row: Delivery, owner: str, secret: str | None, contact_gone: bool) -> None:
        try:
            values = self.attempt(row, secret, contact_gone)
            with self._lock:
                self._outcomes.append((row.id, owner, values))
        except Exception:  # noqa: BLE001 - the lease expires and another round retries it
            log.exception("delivery %s: the attempt failed unexpectedly", row.id)
        finally:
            with self._lock:
                for counter in (self._in_flight, self._held):
                    counter[key] -= 1
                    if counter[key] <= 0:
                        del counter[key]
            self._dispatch()
            self.wake.set()

    def attempt(self, row: Delivery, secret: str | None = None, contact_gone: bool = False) -> dict:
        """Send one claimed delivery; returns the columns that record the outcome (status, attempts, …)."""
        error: str | None = None
        permanent = False
        channel = self.channels.get(row.channel)
        try:
            if channel is None:
                raise PermanentDeliveryError(f"no channel {row.channel!r} in this process")
            if contact_gone:
                raise PermanentDeliveryError("contact point removed")
            channel.send(outgoing(row, secret))
        except PermanentDeliveryError as exc:
            error, permanent = str(exc) or type(exc).__name__, True
        except TransientDeliveryError as exc:
            error = str(exc) or type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - a channel bug must not kill the worker: retry it like a glitch
            error = f"{type(exc).__name__}: {exc}"
        attempts = row.attempts + 1
        now = self.clock()
        if error is None:
            self.sent += 1
            return {"status": SENT, "attempts": attempts, "sent_at": now, "last_error": None}
        if permanent or self.retry.gives_up(attempts):
            self.dead += 1
            log.warning("delivery %s to %s %s dead after %d attempt(s): %s", row.id, row.channel, row.target,
                        attempts, error)
            return {"status": DEAD, "attempts": attempts, "last_error": error[:ERROR_MAX]}
        self.failed += 1
        return {"status": FAILED, "attempts": attempts, "last_error": error[:ERROR_MAX],
                "next_attempt_at": now + self.retry.delay(attempts)}
