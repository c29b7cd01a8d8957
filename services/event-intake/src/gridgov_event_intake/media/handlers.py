"""Use cases of media: accept an upload (checked by content, size-limited, EXIF stripped), read it back."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import UTC, datetime

from gridgov_common.db import Database
from gridgov_common.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from gridgov_event_intake.media import inspect
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.media.storage import MediaStorage

log = logging.getLogger(__name__)


def original_key(media_id: str) -> str:
    """Storage key of the original upload (kept private: it may carry GPS)."""
    return f"original/{media_id}"


def public_key(media_id: str) -> str:
    """Storage key of the public copy (metadata stripped)."""
    return f"public/{media_id}"


def check_upload(data: bytes, max_bytes: int) -> str:
    """The content type of an acceptable upload; 413 when too big, 415 when not a JPEG, PNG or WebP."""
    if len(data) > max_bytes:
        raise PayloadTooLarge("body", max_bytes)
    content_type = inspect.sniff(data)
    if content_type is None:
        raise UnsupportedMediaType("body", f"content is not one of {', '.join(inspect.ACCEPTED)}")
    return content_type


def upload(db: Database, storage: MediaStorage, uploader_id: str, data: bytes, max_bytes: int) -> Media:
    """Store an upload: the bytes first (orphans are harmless), then its row; nothing recorded on failure."""
    content_type = check_upload(data, max_bytes)
    try:
        public = inspect.strip_metadata(data, content_type)
    except ValueError as exc:
        raise UnsupportedMediaType("body", f"malformed image: {exc}") from exc
    media = Media(id=str(uuid.uuid4()), content_type=content_type, size=len(data),
                  sha256=hashlib.sha256(data).hexdigest(), uploader_id=uploader_id, created_at=datetime.now(UTC))
    storage.put(original_key(media.id), data)
    storage.put(public_key(media.id), public)
    with db.session() as session:
        session.add(media)
        session.commit()
    log.info("media %s stored: %s, %d bytes", media.id, content_type, len(data))
    return media


def public_copy(db: Database, storage: MediaStorage, media_id: str) -> tuple[Media, bytes]:
    """The media row and its public (stripped) bytes, or NotFound."""
    with db.session() as session:
        media = session.get(Media, media_id)
    if media is None:
        raise NotFound("media", media_id)
    try:
        return media, storage.get(public_key(media_id))
    except KeyError as exc:
        raise NotFound("media", media_id) from exc
