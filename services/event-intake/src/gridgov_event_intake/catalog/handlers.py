"""Use cases of the learned catalog: learn a published version (consumer), and check a report's category
against the version in effect.

Dispatch owns the catalog and announces each version on ``gridgov.catalog.published``; intake keeps every
version it learns and checks each report against the highest one. Until it has learned any, it uses the
packaged first version (``gridgov_common/catalog_seed.csv``, the file dispatch seeds its version 1 from), so a
fresh intake accepts exactly what a fresh dispatch routes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.categories import CategoryBook
from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, ValidationFailed
from gridgov_common.events.catalog import CatalogPublished
from gridgov_event_intake.catalog import service
from gridgov_event_intake.settings import IntakeSettings

if TYPE_CHECKING:
    from gridgov_event_intake.groupcommit import GroupCommitter

log = logging.getLogger(__name__)


def learn_catalog(_settings: IntakeSettings, session: Session, envelope: Envelope) -> None:
    """Store a catalog version dispatch published, in the consumer's transaction (a known version: nothing)."""
    published = CatalogPublished.model_validate(envelope.payload)
    if service.store(session, published):
        log.info("learned catalog version %d: %d categories, in effect from %s", published.version,
                 len(published.categories), published.published_at.isoformat())


def forget_cached(db: Database) -> Callable[[], None]:
    """After a consumer batch commits: the next report is checked against what it learned."""
    return partial(service.books.forget, db)


def load_job(db: Database) -> Callable[[Session], CategoryBook]:
    """A job reading the version in effect in a transaction someone else owns (the group committer's)."""
    return partial(service.books.load, db)


def categories_in_effect(db: Database) -> CategoryBook:
    """The categories in effect now (cached; read from the database at most every few seconds)."""
    book = service.books.fresh(db)
    if book is None:
        with db.session() as session:
            book = service.books.load(db, session)
    return book


def categories_for_write(db: Database, committer: GroupCommitter | None) -> CategoryBook:
    """``categories_in_effect``, read through the writer when one is given (SQLite has one connection)."""
    book = service.books.fresh(db)
    if book is not None:
        return book
    return committer.run(load_job(db)) if committer is not None else categories_in_effect(db)


async def categories_for_write_async(db: Database, committer: GroupCommitter) -> CategoryBook:
    """``categories_for_write`` for async views: a stale copy is refreshed by the writer, off the event loop."""
    return service.books.fresh(db) or await committer.run_async(load_job(db))


def require_known(book: CategoryBook, code: str, field: str = "category_code") -> None:
    """422 naming ``field`` when the version in effect does not list ``code``."""
    if not book.is_known(code):
        raise ValidationFailed(f"unknown category {code}",
                               [ErrorDetail(field, f"unknown category {code}")])
