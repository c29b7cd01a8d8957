"""Use cases of the learned catalog: learn a published version (consumer), and the category names in effect.

Dispatch owns the catalog and announces each version on ``gridgov.catalog.published``; notification keeps
every version it learns and names a ticket's category from the highest one in its inbox messages, deliveries and
follow-ups. Until it has learned any, it uses the packaged first version (``gridgov_common/catalog_seed.csv``,
the file dispatch seeds its version 1 from). Same design as event-intake's learned catalog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.categories import CategoryBook
from gridgov_common.db import Database
from gridgov_common.events.catalog import CatalogPublished
from gridgov_notification.catalog import service

log = logging.getLogger(__name__)


def learn_catalog(_deps: object, session: Session, envelope: Envelope) -> None:
    """Store a catalog version dispatch published, in the consumer's transaction (a known version: nothing)."""
    published = CatalogPublished.model_validate(envelope.payload)
    if service.store(session, published):
        log.info("learned catalog version %d: %d categories, in effect from %s", published.version,
                 len(published.categories), published.published_at.isoformat())


def forget_cached(db: Database) -> Callable[[], None]:
    """After a catalog batch commits: the next message is named from what it learned."""
    return partial(service.books.forget, db)


def names_in(db: Database, session: Session) -> CategoryBook:
    """The categories in effect, read in ``session`` (the consumer's) only when the cached copy is stale."""
    return service.books.fresh(db) or service.books.load(db, session)


def names_reader(db: Database) -> Callable[[Session], CategoryBook]:
    """``names_in`` bound to ``db``: what the notifier and the follow-up planner call per event."""
    return partial(names_in, db)
