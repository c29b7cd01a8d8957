"""Announce the grid set in effect on ``gridgov.grids.published``: every grid's boundary, once per set.

Dispatch keeps the grids' boundaries to judge whether on-site evidence was taken inside a ticket's grid
(geofenced verification) without reading this service's tables. When a set takes effect (imported for now, or
its date reached, or seeded at first start) every grid of it is published through the outbox, in the same
transaction as the ``grid_announcement`` row that records the set as announced; grids of the previously
announced set that the new one no longer has are published as retired. A set already announced is never
announced again: a restart costs one primary-key lookup, not thousands of messages. Envelope ids are derived
from grid code and set version (``grid_message_id``), so a message relayed twice is handled once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import shapely
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import GRIDS_PUBLISHED
from gridgov_common.db import Database
from gridgov_common.events.grids import GRID_PUBLISHED_TYPE, GridBoundary, GridPublished, grid_key, grid_message_id
from gridgov_grid_registry.grids import service
from gridgov_grid_registry.grids.models import Area, GridAnnouncement

log = logging.getLogger(__name__)

SERVICE = "grid-registry"


def announce_in_effect(db: Database, now: datetime | None = None) -> int | None:
    """Announce the grid set in effect (at ``now``) unless it was announced before; the number of messages
    staged and committed, or None when there was nothing to announce.

    Safe across processes: the ``grid_announcement`` row is written first, so of two processes announcing the
    same set at once one fails on the key and rolls back, leaving the other's messages.
    """
    now = now or datetime.now(UTC)
    with db.session() as session:
        active = service.effective_grid_set(session, now)
        if active is None or session.get(GridAnnouncement, active.version) is not None:
            return None
        previous = session.exec(select(GridAnnouncement.grid_set)
                                .order_by(GridAnnouncement.announced_at.desc()).limit(1)).first()  # type: ignore[union-attr]
        version = active.version
        try:
            record = GridAnnouncement(grid_set=version, announced_at=now, grids=0, retired=0)
            session.add(record)
            session.flush()  # claim the set before building thousands of messages
        except IntegrityError:
            session.rollback()
            return None
        parents = dict(session.exec(select(Area.code, Area.parent_code).where(
            Area.grid_set == version, Area.level == "village")).all())
        grids = session.exec(select(Area.code, Area.name, Area.parent_code, Area.geometry).where(
            Area.grid_set == version, Area.level == "grid").order_by(Area.code)).all()
        codes = set()
        for (code, name, village, _), boundary in zip(grids, _boundaries([g[3] for g in grids]), strict=True):
            codes.add(code)
            db.add_outbox(session, GRIDS_PUBLISHED, _envelope(GridPublished(
                grid_code=code, grid_name=name, village_code=village or "", town_code=parents.get(village) or "",
                grid_set_version=version, boundary=boundary, published_at=now)))
        retired = _retire(db, session, previous, codes, version, now) if previous else 0
        record.grids, record.retired = len(codes), retired
        session.add(record)
        try:
            session.commit()
        except IntegrityError:  # another process announced the set between our flush and commit
            session.rollback()
            return None
    log.info("announced grid set %s: %d grids, %d retired", version, len(codes), retired)
    return len(codes) + retired


def _retire(db: Database, session, previous: str, kept: set[str], version: str, now: datetime) -> int:  # noqa: ANN001
    """Stage a retiring message for each grid of the ``previous`` set that the new one no longer has."""
    parents = dict(session.exec(select(Area.code, Area.parent_code).where(
        Area.grid_set == previous, Area.level == "village")).all())
    gone = [row for row in session.exec(select(Area.code, Area.name, Area.parent_code).where(
        Area.grid_set == previous, Area.level == "grid").order_by(Area.code)).all() if row[0] not in kept]
    for code, name, village in gone:
        db.add_outbox(session, GRIDS_PUBLISHED, _envelope(GridPublished(
            grid_code=code, grid_name=name, village_code=village or "", town_code=parents.get(village) or "",
            grid_set_version=version, boundary=None, retired=True, published_at=now)))
    return len(gone)


def _boundaries(geometries: list) -> list[GridBoundary]:
    """The stored polygons as GeoJSON, all in one call (a one-part multipolygon is published as the Polygon it
    is)."""
    parts = [g.geoms[0] if g.geom_type == "MultiPolygon" and len(g.geoms) == 1 else g for g in geometries]
    texts = shapely.to_geojson(np.asarray(parts, dtype=object)) if parts else []
    return [GridBoundary.model_validate_json(text) for text in texts]


def _envelope(payload: GridPublished) -> Envelope:
    """The grid's message: keyed by grid (compaction keeps its latest), its id fixed by grid and set version."""
    return Envelope(id=grid_message_id(payload.grid_code, payload.grid_set_version), type=GRID_PUBLISHED_TYPE,
                    producer=SERVICE, key=grid_key(payload.grid_code), correlation_id=payload.grid_set_version,
                    payload=payload.model_dump(mode="json"))
