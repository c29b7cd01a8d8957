"""Queries and writes on what dispatch learned of grids and photos.

Both are staged in the consumer's transaction and written as it commits, one statement per batch
(gridgov_common.db's staged writes, issue #18). A grid's announcement is upserted, the latest winning
(``stage_latest``): per grid it was a primary-key lookup, an autoflush and an ORM insert (1.3 ms each). A stored
photo's facts are inserted ``ON CONFLICT DO NOTHING`` (``stage_insert``): a photo never changes, so the first facts
kept win; the primary key is the guard against a duplicate (a redelivery, the same photo twice in one batch,
another instance). A read of grids or photos in the same transaction writes the staged rows first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, select

from gridgov_common.db import stage_insert, stage_latest, write_staged
from gridgov_common.events.grids import GridPublished
from gridgov_common.events.media import MediaStored
from gridgov_dispatch.verification.models import LearnedGrid, LearnedMedia


def store_grid(session: Session, published: GridPublished, now: datetime) -> None:
    """Keep a grid's announced boundary, replacing an older one; an announcement older than the one kept (a
    replay) changes nothing. Staged, and written with the transaction's other grids as it commits."""
    boundary = json.dumps(published.boundary.model_dump(), separators=(",", ":")) if published.boundary else None
    stage_latest(session, LearnedGrid.__table__, {
        "grid_code": published.grid_code, "grid_name": published.grid_name, "village_code": published.village_code,
        "town_code": published.town_code, "grid_set_version": published.grid_set_version,
        "boundary": None if published.retired else boundary, "retired": published.retired,
        "published_at": published.published_at, "learned_at": now}, key="grid_code", order="published_at")


def store_media(session: Session, stored: MediaStored, now: datetime) -> None:
    """Keep what intake said of a stored photo unless it is known (a photo never changes): staged, and written
    with the transaction's other photos as it commits."""
    stage_insert(session, LearnedMedia.__table__, [{
        "media_id": stored.media_id, "uploaded_by": stored.uploaded_by, "uploader_role": stored.uploader_role,
        "content_type": stored.content_type, "sha256": stored.sha256, "phash": stored.phash,
        "exif_lat": stored.exif_lat, "exif_lon": stored.exif_lon, "exif_taken_at": stored.exif_taken_at,
        "stored_at": stored.stored_at, "learned_at": now}], ("media_id",))


def grid(session: Session, grid_code: str) -> LearnedGrid | None:
    """The learned grid, or None (grids staged in this transaction written first)."""
    write_staged(session)
    # populate_existing: a row loaded earlier in the transaction may have been replaced by a staged upsert.
    return session.get(LearnedGrid, grid_code, populate_existing=True)


def media(session: Session, media_ids: Iterable[str]) -> dict[str, LearnedMedia]:
    """The learned photos among ``media_ids``, by id."""
    ids = sorted(set(media_ids))
    if not ids:
        return {}
    write_staged(session)
    return {m.media_id: m for m in session.exec(select(LearnedMedia).where(LearnedMedia.media_id.in_(ids))).all()}


def known_media_ids(session: Session, media_ids: Iterable[str]) -> set[str]:
    """Which of ``media_ids`` are learned."""
    ids = sorted(set(media_ids))
    if not ids:
        return set()
    write_staged(session)
    return set(session.exec(select(LearnedMedia.media_id).where(LearnedMedia.media_id.in_(ids))).all())


def hashes(session: Session, media_ids: Iterable[str]) -> set[str]:
    """The perceptual hashes of the learned photos among ``media_ids``."""
    ids = sorted(set(media_ids))
    if not ids:
        return set()
    write_staged(session)
    rows = session.exec(select(LearnedMedia.phash).where(LearnedMedia.media_id.in_(ids),
                                                         LearnedMedia.phash.is_not(None))).all()
    return {h for h in rows if h}
