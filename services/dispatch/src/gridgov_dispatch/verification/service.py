"""Queries and writes on what dispatch learned of grids and photos.

A grid's announcement is staged and upserted with the transaction's others as it commits (``stage_latest``): a
grid set of thousands of grids was a primary-key lookup, an autoflush and an ORM insert per grid (1.3 ms each).

A stored photo's facts are staged in the consumer's transaction and written as it commits, one multi-row
``INSERT … ON CONFLICT DO NOTHING`` for the batch (issue #18): per photo it was a primary-key lookup, which also
flushed the photo before it, and an ORM insert. A photo never changes, so the first facts kept win, as before;
the primary key stays the guard against a duplicate (a redelivery, the same photo twice in one batch, another
instance). A read of the photos in the same transaction writes the staged ones first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from gridgov_common.db import stage_latest, write_staged
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


_STAGED = "gridgov_dispatch_staged_media"  # session.info: {media_id: row}, in staging order, per transaction


def store_media(session: Session, stored: MediaStored, now: datetime) -> None:
    """Keep what intake said of a stored photo unless it is known (a photo never changes): staged, and written
    with the transaction's other photos as it commits."""
    staged: dict[str, dict[str, Any]] | None = session.info.get(_STAGED)
    if staged is None:
        staged = session.info[_STAGED] = {}
        if not session.info.get(_STAGED + "_hooked"):
            event.listen(session, "before_commit", write_staged_media)
            event.listen(session, "after_rollback", _forget_staged_media)
            session.info[_STAGED + "_hooked"] = True
    staged.setdefault(stored.media_id, {
        "media_id": stored.media_id, "uploaded_by": stored.uploaded_by, "uploader_role": stored.uploader_role,
        "content_type": stored.content_type, "sha256": stored.sha256, "phash": stored.phash,
        "exif_lat": stored.exif_lat, "exif_lon": stored.exif_lon, "exif_taken_at": stored.exif_taken_at,
        "stored_at": stored.stored_at, "learned_at": now})


def write_staged_media(session: Session) -> None:
    """Insert the staged photos now, skipping those already kept (before commit, or before a read of them)."""
    staged = session.info.pop(_STAGED, None)
    if not staged:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(LearnedMedia.__table__).on_conflict_do_nothing(index_elements=["media_id"]),
                    list(staged.values()))


def _forget_staged_media(session: Session) -> None:
    session.info.pop(_STAGED, None)


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
    write_staged_media(session)
    return {m.media_id: m for m in session.exec(select(LearnedMedia).where(LearnedMedia.media_id.in_(ids))).all()}


def known_media_ids(session: Session, media_ids: Iterable[str]) -> set[str]:
    """Which of ``media_ids`` are learned."""
    ids = sorted(set(media_ids))
    if not ids:
        return set()
    write_staged_media(session)
    return set(session.exec(select(LearnedMedia.media_id).where(LearnedMedia.media_id.in_(ids))).all())


def hashes(session: Session, media_ids: Iterable[str]) -> set[str]:
    """The perceptual hashes of the learned photos among ``media_ids``."""
    ids = sorted(set(media_ids))
    if not ids:
        return set()
    write_staged_media(session)
    rows = session.exec(select(LearnedMedia.phash).where(LearnedMedia.media_id.in_(ids),
                                                         LearnedMedia.phash.is_not(None))).all()
    return {h for h in rows if h}
