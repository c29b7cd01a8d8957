"""Use cases of what dispatch learns for geofenced verification: a grid's boundary, a stored photo's facts.

Both run in their consumer's transaction, which also records the envelope id (a redelivered message is handled
once); ``ctx`` is the batch's snapshot of the dispatch context (unused: learning needs no policy).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.events.grids import GridPublished
from gridgov_common.events.media import MediaStored
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.verification import service

log = logging.getLogger(__name__)


def learn_grid(ctx: DispatchContext, session: Session, envelope: Envelope) -> None:
    """Keep the boundary grid-registry announced for a grid (``grid.published``), or that it was retired."""
    published = GridPublished.model_validate(envelope.payload)
    service.store_grid(session, published, datetime.now(UTC))  # written with the batch's others as it commits


def learn_media(ctx: DispatchContext, session: Session, envelope: Envelope) -> None:
    """Keep what intake said of a stored photo (``media.stored``): its EXIF GPS and time, its hashes."""
    stored = MediaStored.model_validate(envelope.payload)
    service.store_media(session, stored, datetime.now(UTC))  # written with the batch's others as it commits
    log.debug("media %s learned", stored.media_id)
