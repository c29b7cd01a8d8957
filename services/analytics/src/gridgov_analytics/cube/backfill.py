"""The history's bulk loader: ticket events and ratings the history generator builds, projected and written with
``origin='history'`` without the bus (``gridgov history generate`` calls :func:`load_history`).

The same :func:`gridgov_analytics.cube.projection.project` as the live consumer, so history and live counts agree.
Facts are read and written in chunks of events; a re-run with the same events changes nothing (the projection
skips what a fact already holds), so an interrupted load completes when run again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from gridgov_analytics.cube import service
from gridgov_analytics.cube.models import HISTORY
from gridgov_analytics.cube.projection import FactState, Increment, project
from gridgov_common.db import Database
from gridgov_common.events.feedback import FeedbackReceived
from gridgov_common.events.tickets import TicketEvent

CHUNK = 50_000  # events per transaction
HISTORY_MARKER = "history_loaded_at"


@dataclass(frozen=True)
class HistoryStats:
    """What a history load did."""

    events: int
    tickets: int
    facts_written: int
    count_keys_written: int
    seconds: float


def load_history(db: Database, events: Iterable[tuple[str, TicketEvent | FeedbackReceived]]) -> HistoryStats:
    """Project ``(event type, payload)`` pairs, in the order they happened, into facts and daily counts of origin
    'history', one transaction per chunk."""
    started = time.perf_counter()
    iterator = iter(events)
    n_events = facts_written = keys_written = 0
    tickets: set[str] = set()
    while chunk := list(islice(iterator, CHUNK)):
        n_events += len(chunk)
        with db.session() as session:
            before = service.load_facts(session, {p.ticket_id for _, p in chunk})
            facts: dict[str, FactState] = {}
            increments: list[Increment] = []
            for event_type, payload in chunk:
                ticket_id = payload.ticket_id
                stored = before.get(ticket_id)
                current = facts.get(ticket_id) or (stored.state if stored else None)
                fact, incs = project(current, event_type, payload)
                if fact is not current:
                    facts[ticket_id] = fact
                increments.extend(incs)
            tickets.update(facts)
            written = service.apply_batch(session, facts, increments, HISTORY, before)
            facts_written += written[0]
            keys_written += written[1]
            service.set_state(session, HISTORY_MARKER, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            session.commit()
    return HistoryStats(n_events, len(tickets), facts_written, keys_written, round(time.perf_counter() - started, 3))
