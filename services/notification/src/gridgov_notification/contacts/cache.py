"""The active contact points in memory, checked once per transaction (#18).

Every ticket event looks up the contact points of its notices' addresses; one query per event was a third of
notification's CPU. Each process keeps the active contact points of each database in memory and, once per
transaction (the consumer's batch), reads one row of stamps: the ``reference_version`` counter that adding or
removing a contact point bumps in its own transaction, and the table's row count and newest ``created_at`` (which
also catch a row written without the counter, by a test or by hand). A changed stamp reloads the table. A change
committed by any process is therefore seen by the next batch that starts after its commit, never later.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gridgov_notification.contacts.models import ContactPoint, ReferenceVersion
from gridgov_notification.deliveries.planning import Contact

CONTACT_POINTS = "contact_point"  # the reference_version row of contact points
_CHECKED = "gridgov_notification_contacts"  # session.info: (transaction, snapshot) checked in that transaction


@dataclass(frozen=True)
class _Snapshot:
    stamp: tuple[Any, ...]  # (version counter, row count, newest created_at) when the rows were read
    by_address: dict[str, tuple[Contact, ...]]


class ContactBook:
    """The active contact points of each database (by engine), reloaded when their stamp changes."""

    def __init__(self) -> None:
        self._snapshots: weakref.WeakKeyDictionary[Engine, _Snapshot] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def active_for(self, session: Session, addresses: list[str]) -> list[Contact]:
        """The active contact points of any of ``addresses``, as of this transaction's first look-up."""
        if not addresses:
            return []
        transaction = session.get_transaction()
        checked = session.info.get(_CHECKED)
        if checked is not None and transaction is not None and checked[0] is transaction:
            snapshot = checked[1]
        else:
            snapshot = self._current(session)
            session.info[_CHECKED] = (session.get_transaction(), snapshot)
        by_address = snapshot.by_address
        return [c for address in dict.fromkeys(addresses) for c in by_address.get(address, ())]

    def _current(self, session: Session) -> _Snapshot:
        """The cached snapshot if its stamp is still the database's, else a fresh one (read in ``session``)."""
        engine = session.get_bind()
        stamp = tuple(session.execute(_STAMP).one())
        with self._lock:
            cached = self._snapshots.get(engine)
        if cached is not None and cached.stamp == stamp:
            return cached
        # Read after the stamp: a change committed in between makes the rows newer than the stamp, so the next
        # batch sees a different stamp and reloads (never the other way round).
        by_address: dict[str, list[Contact]] = {}
        for row in session.execute(_ACTIVE):
            by_address.setdefault(row.address, []).append(Contact(row.id, row.address, row.channel, row.target))
        snapshot = _Snapshot(stamp, {a: tuple(cs) for a, cs in by_address.items()})
        with self._lock:
            self._snapshots[engine] = snapshot
        return snapshot

    def forget(self) -> None:
        """Drop every snapshot: the next look-up reads the table."""
        with self._lock:
            self._snapshots.clear()


_VERSION = (select(ReferenceVersion.version).where(ReferenceVersion.name == CONTACT_POINTS)
            .scalar_subquery())
_STAMP = select(_VERSION, func.count(), func.max(ContactPoint.created_at)).select_from(ContactPoint)
_ACTIVE = (select(ContactPoint.id, ContactPoint.address, ContactPoint.channel, ContactPoint.target)
           .where(ContactPoint.active.is_(True))
           .order_by(ContactPoint.address, ContactPoint.channel, ContactPoint.target))

# The process's contact points, shared by the notifier and the follow-up planner.
book = ContactBook()
