"""Use case of the grids consumer: learn a grid's boundary from grid-registry's announcement."""

from __future__ import annotations

from sqlmodel import Session

from gridgov_analytics.grids import service
from gridgov_common.bus.envelope import Envelope
from gridgov_common.events.grids import GridPublished


def learn_grid(deps: object, session: Session, envelope: Envelope) -> None:
    """Keep the boundary grid-registry announced for a grid (``grid.published``), or that it was retired."""
    published = GridPublished.model_validate(envelope.payload)
    service.store_grid(session, published)  # written with the batch's others as it commits
