"""Use cases of the read model: a consumer batch projected in memory and written once, and the rebuild.

The consumer's handlers keep the one signature ``handler(batch, session, envelope)`` of every consumer table;
``batch`` is a fresh :class:`CubeBatch` per batch (``consumer_spec`` calls its factory before the batch's
transaction opens). Each handler reads its ticket's fact once per batch and projects the message in memory; just
before the batch's transaction commits, the batch writes each changed fact once and one upsert per distinct count
key, in the same transaction as the handled-message records (idempotent as every consumer here).
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlmodel import Session

from gridgov_analytics.cube import service
from gridgov_analytics.cube.models import BUS
from gridgov_analytics.cube.projection import FactState, Increment, project
from gridgov_analytics.cube.service import StoredFact
from gridgov_common.bus.envelope import Envelope
from gridgov_common.db import Database
from gridgov_common.events.feedback import FEEDBACK_RECEIVED_TYPE, FeedbackReceived
from gridgov_common.events.tickets import TicketEvent

log = logging.getLogger(__name__)


class CubeBatch:
    """One consumer batch of a cube generation: facts read once, projected in memory, written before the commit."""

    def __init__(self, generation: int, origin: str = BUS):
        self.generation = generation
        self.origin = origin
        self.before: dict[str, StoredFact | None] = {}
        self.facts: dict[str, FactState] = {}
        self.increments: list[Increment] = []
        self._hooked = False

    def add(self, session: Session, ticket_id: str, event_type: str, payload: TicketEvent | FeedbackReceived) -> None:
        """Project one message onto its ticket's fact (read from the database the first time in this batch)."""
        if not self._hooked:
            # The effect is written once per batch, inside the transaction that records the messages as handled.
            event.listen(session, "before_commit", self.flush, once=True)
            self._hooked = True
        if ticket_id not in self.before:
            self.before[ticket_id] = service.load_facts(session, [ticket_id]).get(ticket_id)
        stored = self.before[ticket_id]
        current = self.facts.get(ticket_id) or (stored.state if stored else None)
        fact, increments = project(current, event_type, payload)
        if fact is not current:
            self.facts[ticket_id] = fact
        self.increments.extend(increments)

    def flush(self, session: Session) -> None:
        """Write the batch's facts and counts, unless a rebuild moved the cube on to another generation."""
        if service.generation(session, lock=True) != self.generation:
            # A rebuild cleared what this generation built; its consumer is being replaced: write nothing.
            log.info("cube batch of superseded generation %s dropped", self.generation)
            return
        service.apply_batch(session, self.facts, self.increments, self.origin, self.before)


def project_ticket_event(batch: CubeBatch, session: Session, envelope: Envelope) -> None:
    """Count a ticket transition (``ticket.*``) and update the ticket's fact."""
    payload = TicketEvent.model_validate(envelope.payload)
    batch.add(session, payload.ticket_id, envelope.type, payload)


def project_rating(batch: CubeBatch, session: Session, envelope: Envelope) -> None:
    """Count a reporter's rating (``feedback.received``) and keep it on the ticket's fact."""
    payload = FeedbackReceived.model_validate(envelope.payload)
    batch.add(session, payload.ticket_id, FEEDBACK_RECEIVED_TYPE, payload)


def rebuild(db: Database) -> int:
    """Rebuild the read model from the bus: drop what the bus built, keep the history, move to a new generation
    (its consumer group reads both topics from the earliest offset). Returns the new generation."""
    with db.session() as session:
        generation = service.clear_bus_rows(session)
        session.commit()
    log.info("cube rebuild: generation %s (group %s)", generation, service.consumer_group(generation))
    return generation


def current_generation(db: Database) -> int:
    """The cube generation in effect."""
    with db.session() as session:
        return service.generation(session)
