"""A consumer's copy of dispatch's event catalog: store each published version, read the version in effect, cache it.

Dispatch owns the catalog and announces each version on ``gridgov.catalog.published``; a service that learns it
(event-intake checks reports against it, notification names categories from it) keeps every version in two
tables of its own (a version row and its categories, each service declaring them on its own metadata) and uses
the highest one, or the packaged first version (``catalog_seed.csv``) while it has learned none. ``LearnedCatalog``
holds the queries on those two tables and the in-memory copy that keeps them off the hot path.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from gridgov_common.categories import Category, CategoryBook, seed_book
from gridgov_common.db import Database
from gridgov_common.events.catalog import CatalogPublished

# How long a process trusts its copy of the version in effect before one cheap query checks it: a version
# learned by another instance's consumer takes effect here within this time (this instance's at once).
REFRESH_SECONDS = 10.0


@dataclass(frozen=True)
class _Entry:
    learned: int | None  # the highest learned version the book was built from (None: the packaged seed)
    book: CategoryBook
    checked_at: float  # time.monotonic()


class LearnedCatalog:
    """The learned versions of one service: ``version_model`` rows (``version``, ``published_at``,
    ``learned_at``, ``category_count``) and ``category_model`` rows (``version``, ``code``, ``name_zh``,
    ``name_en``), and the version in effect per ``Database``, kept in memory.

    ``forget`` (after this process's consumer learned a version) bumps a generation, so a reload that read the
    database before that commit cannot put the older book back.
    """

    def __init__(self, version_model: Any, category_model: Any, refresh_s: float = REFRESH_SECONDS):
        self.version_model = version_model
        self.category_model = category_model
        self.refresh_s = refresh_s
        self._entries: weakref.WeakKeyDictionary[Database, _Entry] = weakref.WeakKeyDictionary()
        self._generations: weakref.WeakKeyDictionary[Database, int] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def store(self, session: Session, published: CatalogPublished, now: datetime | None = None) -> bool:
        """Add a published version unless it is known (versions never change); the caller commits. True if
        added."""
        if session.get(self.version_model, published.version) is not None:
            return False
        session.add(self.version_model(version=published.version, published_at=published.published_at,
                                       learned_at=now or datetime.now(UTC),
                                       category_count=len(published.categories)))
        session.flush()  # the version row first: the categories refer to it
        session.add_all([self.category_model(version=published.version, code=c.code, name_zh=c.name_zh,
                                             name_en=c.name_en) for c in published.categories])
        return True

    def latest_version_number(self, session: Session) -> int | None:
        """The highest learned version, or None before any is learned."""
        return session.exec(select(func.max(self.version_model.version))).one()

    def load_book(self, session: Session) -> CategoryBook:
        """The categories in effect: the highest learned version (dispatch's current one, as dispatch decides
        it), or the packaged first version while none is learned."""
        head = session.exec(select(self.version_model).order_by(self.version_model.version.desc()).limit(1)).first()
        if head is None:
            return seed_book()
        rows = session.exec(select(self.category_model).where(self.category_model.version == head.version)
                            .order_by(self.category_model.code)).all()
        return CategoryBook(head.version, tuple(Category(r.code, r.name_zh, r.name_en) for r in rows),
                            published_at=head.published_at)

    def fresh(self, db: Database) -> CategoryBook | None:
        """The cached book if it was checked within ``refresh_s``, else None (``load`` it)."""
        with self._lock:
            entry = self._entries.get(db)
        if entry is not None and time.monotonic() - entry.checked_at < self.refresh_s:
            return entry.book
        return None

    def load(self, db: Database, session: Session) -> CategoryBook:
        """The book in effect read in ``session`` (one cheap query when the cached one is still current)."""
        with self._lock:
            generation = self._generations.get(db, 0)
            entry = self._entries.get(db)
        learned = self.latest_version_number(session)
        book = entry.book if entry is not None and entry.learned == learned else self.load_book(session)
        with self._lock:
            if self._generations.get(db, 0) == generation:
                self._entries[db] = _Entry(learned, book, time.monotonic())
        return book

    def forget(self, db: Database) -> None:
        """Drop the cached book of ``db``: the next use reads the database."""
        with self._lock:
            self._entries.pop(db, None)
            self._generations[db] = self._generations.get(db, 0) + 1
