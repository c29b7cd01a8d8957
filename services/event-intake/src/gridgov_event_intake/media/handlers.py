"""Use cases of media: accept an upload (checked by content, size-limited, EXIF stripped), read it back."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from gridgov_common.auth import STAFF
from gridgov_common.db import Database
from gridgov_common.errors import (
    ErrorDetail,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
    ValidationFailed,
)
from gridgov_event_intake.media import inspect
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.media.storage import MediaStorage
from gridgov_event_intake.reports import access, ratelimit
from gridgov_event_intake.reports import service as report_service
from gridgov_event_intake.reports.access import Reader
from gridgov_event_intake.reports.models import Report

log = logging.getLogger(__name__)


def original_key(media_id: str) -> str:
    """Storage key of the original upload (kept private: it may carry GPS)."""
    return f"original/{media_id}"


def public_key(media_id: str) -> str:
    """Storage key of the public copy (metadata stripped)."""
    return f"public/{media_id}"


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may be (bytes, pixels, longest side) and the rolling-day quotas of an uploader and of a
    source address (count and bytes)."""

    max_bytes: int
    max_pixels: int = 50_000_000
    max_side: int = 20_000
    count_per_account: int | None = None
    bytes_per_account: int | None = None
    count_per_address: int | None = None
    bytes_per_address: int | None = None


QUOTA_WINDOW = timedelta(days=1)


def check_upload(data: bytes, max_bytes: int, max_pixels: int = 50_000_000, max_side: int = 20_000) -> str:
    """The content type of an acceptable upload; 413 when too big, 415 when not a JPEG, PNG or WebP or its
    header declares no readable size, 422 naming ``file`` when it declares too many pixels or too long a side.

    The dimensions come from the header before anything else touches the image, so a small file declaring a
    gigapixel canvas (a decompression bomb) is refused before any decoder, thumbnailer or browser sees it.
    """
    if len(data) > max_bytes:
        raise PayloadTooLarge("body", max_bytes)
    content_type = inspect.sniff(data)
    if content_type is None:
        raise UnsupportedMediaType("body", f"content is not one of {', '.join(inspect.ACCEPTED)}")
    try:
        width, height = inspect.dimensions(data, content_type)
    except ValueError as exc:
        raise UnsupportedMediaType("file", f"image header unreadable: {exc}") from exc
    if max(width, height) > max_side:
        raise ValidationFailed("image too large", [ErrorDetail(
            "file", f"{width} x {height} pixels: a side is longer than {max_side}")])
    if width * height > max_pixels:
        raise ValidationFailed("image too large", [ErrorDetail(
            "file", f"{width} x {height} pixels: more than {max_pixels} pixels")])
    return content_type


def _check_quota(session: Session, limits: UploadLimits, uploader_id: str, source_address: str | None,
                 size: int) -> None:
    """429 when the uploader or the source address has used its rolling-day quota (count or bytes).

    Counted from the media table, so every instance of intake counts the same uploads.
    """
    now = datetime.now(UTC)
    for field_name, column, value, count, total in (
            ("account", Media.uploader_id, uploader_id, limits.count_per_account, limits.bytes_per_account),
            ("source_address", Media.source_address, source_address, limits.count_per_address,
             limits.bytes_per_address)):
        if value is None or (count is None and total is None):
            continue
        rows = [(t, n) for t, n in session.exec(select(Media.created_at, Media.size).where(
            column == value, Media.created_at >= now - QUOTA_WINDOW)).all()]
        if count is not None:
            wait = ratelimit.retry_after([t for t, _ in rows], now, count, QUOTA_WINDOW)
            if wait is not None:
                raise RateLimited(field_name, f"at most {count} uploads a day", wait)
        if total is not None:
            wait = ratelimit.retry_after_amount(rows, now, total, QUOTA_WINDOW, size)
            if wait is not None:
                raise RateLimited(field_name, f"at most {total} bytes of uploads a day", wait)


def upload(db: Database, storage: MediaStorage, uploader_id: str, data: bytes, limits: UploadLimits,
           source_address: str | None = None, uploader_role: str | None = None) -> Media:
    """Store an upload: checked (size, type, dimensions, quotas), the bytes first (orphans are harmless), then
    its row; nothing recorded on failure."""
    content_type = check_upload(data, limits.max_bytes, limits.max_pixels, limits.max_side)
    try:
        public = inspect.strip_metadata(data, content_type)
    except ValueError as exc:
        raise UnsupportedMediaType("body", f"malformed image: {exc}") from exc
    media = Media(id=str(uuid.uuid4()), content_type=content_type, size=len(data),
                  sha256=hashlib.sha256(data).hexdigest(), uploader_id=uploader_id, uploader_role=uploader_role,
                  source_address=source_address,
                  created_at=datetime.now(UTC))
    with db.session() as session:
        _check_quota(session, limits, uploader_id, source_address, len(data))
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


def readable_copy(db: Database, storage: MediaStorage, media_id: str, reader: Reader) -> tuple[Media, bytes]:
    """The public copy of a photo for a caller who may read a report it belongs to; of a photo that belongs to
    none, for its uploader, and for the city's staff when staff uploaded it; NotFound for everyone else, as if it
    did not exist."""
    with db.session() as session:
        media = session.get(Media, media_id)
        report = session.get(Report, media.report_id) if media is not None and media.report_id else None
    if media is None:
        raise NotFound("media", media_id)
    if report is None:
        # A staff photo no report holds is a fix or an on-site check (处置/核查照片) that a ticket's audit trail
        # names: the staff who follow the ticket (command centre, the verifying grid worker) must see it. A
        # citizen's upload stays theirs alone until their report holds it.
        allowed = media.uploader_id == reader.sub or (reader.role in STAFF and media.uploader_role in STAFF)
    else:
        allowed = access.may_read(reader, report_service.facts(report))
    if not allowed:
        raise NotFound("media", media_id)
    return public_copy(db, storage, media_id)
