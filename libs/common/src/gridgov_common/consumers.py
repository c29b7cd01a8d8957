"""Consumers as tables: each consumer group maps message types to handlers, with one handler signature everywhere.

After cosmicpython's message bus (``EVENT_HANDLERS = {event type: [handlers]}``): a service's ``consumers.py``
declares, per consumer group, its topics and a ``{message type: handlers}`` table; ``consumer_spec`` turns that
into the batch handler the runner calls. Every handler has the same signature::

    def handler(deps, session, envelope) -> None

``deps`` is what the service's use cases need besides the transaction (dispatch's context snapshot, intake's
settings, the registry's locator), built once per batch *before* the batch's transaction opens (on SQLite that
transaction holds the one connection); ``session`` is the batch's transaction, which also records the message as
handled; ``envelope`` is the message. A message type the table does not list changes nothing, and neither does a
message the table's ``wants`` test refuses (sensing follows only the tickets of its own cases on a topic that
carries every ticket's events): such messages are not recorded as handled — running nothing twice is harmless —
and a batch of only such messages opens no transaction. Routing by type happens here, never by early returns
inside the handlers.

Delivery guarantees are those of ``Database.idempotent_batch`` and the runner, unchanged: one transaction per
batch with the handled-message records (idempotent), a failing batch retried one message at a time, offsets
committed after the effect, one key's messages in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.runner import MAX_BATCH
from gridgov_common.db import Database
from gridgov_common.runtime import ConsumerSpec

D = TypeVar("D")
Handler = Callable[[D, Session, Envelope], None]  # (deps, the batch's transaction, the message)


@dataclass(frozen=True)
class MessageTable(Generic[D]):
    """One consumer group: its name (also the handled-message record's consumer), its topics, and for each
    message type the handlers that apply it, in order, in the same transaction."""

    group: str
    topics: tuple[str, ...]
    handlers: Mapping[str, Sequence[Handler[D]]]
    # A cheap test of a message as received (its type is listed): False when it can concern none of the handlers.
    # It must depend on the message alone, so that a redelivery is refused the same way.
    wants: Callable[[Envelope], bool] | None = None
    # Records per polled batch (one transaction): larger for a group whose per-batch work folds repeats together.
    max_batch: int = MAX_BATCH

    def follows(self, envelope: Envelope) -> bool:
        """Whether a message is one this group applies: its type is listed and ``wants`` does not refuse it."""
        return envelope.type in self.handlers and (self.wants is None or self.wants(envelope))

    def handlers_of(self, message_type: str) -> Sequence[Handler[D]]:
        """The handlers of a message type (none for a type this group does not follow)."""
        return self.handlers.get(message_type, ())

    def describe(self) -> dict[str, list[str]]:
        """``{message type: [handler names]}``, for documentation and tests."""
        return {t: [getattr(h, "__name__", repr(h)) for h in hs] for t, hs in sorted(self.handlers.items())}


def apply(table: MessageTable[D], deps: D, session: Session, envelope: Envelope) -> None:
    """Apply one message: every handler its type is mapped to, in order, in the caller's transaction."""
    for handler in table.handlers_of(envelope.type):
        handler(deps, session, envelope)


def consumer_spec(db: Database, table: MessageTable[D], deps: Callable[[], D], *,
                  after_batch: Callable[[], None] | None = None, instances: int = 1) -> ConsumerSpec:
    """The runner's consumer of a table: per batch, ``deps()`` first, then one idempotent transaction
    applying each message not handled before; ``after_batch`` runs once that transaction has committed
    (wake a worker, drop a cache)."""
    return batch_consumer_spec(db, table, lambda _envelopes: deps(), after_batch=after_batch, instances=instances)


def batch_consumer_spec(db: Database, table: MessageTable[D], deps_of: Callable[[list[Envelope]], D], *,
                        after_batch: Callable[[], None] | None = None, instances: int = 1) -> ConsumerSpec:
    """``consumer_spec`` whose deps are built from the batch's envelopes (e.g. the report ids they name, so a
    handler reads all the batch's rows in one query)."""

    def handle(envelopes: list[Envelope]) -> None:
        followed = [e for e in envelopes if table.follows(e)]
        if not followed:
            return  # nothing to apply, nothing to record: no transaction
        fixed = deps_of(followed)  # before the batch's transaction takes the database connection
        db.idempotent_batch(table.group, lambda session, envelope: apply(table, fixed, session, envelope))(followed)
        if after_batch is not None:
            after_batch()

    return ConsumerSpec(table.group, list(table.topics), handle, instances, table.max_batch)
