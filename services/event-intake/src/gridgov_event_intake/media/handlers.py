"""Use cases of media: accept an upload (checked by content, size-limited, EXIF stripped), read it back."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from gridgov_common.auth import STAFF
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import MEDIA_STORED
from gridgov_common.db import Database
from gridgov_common.errors import (
    ErrorDetail,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
    ValidationFailed,
)
from gridgov_common.events.media import MEDIA_STORED_TYPE, MediaStored
from gridgov_event_intake.media import evidence, inspect
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.media.storage import MediaStorage
from gridgov_event_intake.reports import access, ratelimit
from gridgov_event_intake.reports import service as report_service
from gridgov_event_intake.reports.access import Reader
from gridgov_event_intake.reports.models import Report

log = logging.getLogger(__name__)

SERVICE = "event-intake"
CITY_ZONE = ZoneInfo("Asia/Shanghai")  # the settings' default; the view passes the configured one


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
    check_pixels(width, height, max_pixels, max_side)
    return content_type


def check_pixels(width: int, height: int, max_pixels: int, max_side: int) -> None:
    """422 naming ``file`` (English, and Chinese for clients that ask) when a canvas is over the limits."""
    if max(width, height) > max_side:
        reason = (f"{width} x {height} pixels: a side is longer than {max_side}",
                  f"图片为 {width} x {height} 像素：边长超过 {max_side} 像素")
    elif width * height > max_pixels:
        reason = (f"{width} x {height} pixels: more than {max_pixels} pixels",
                  f"图片为 {width} x {height} 像素：超过 {max_pixels} 像素")
    else:
        return
    refused = ValidationFailed("image too large", [ErrorDetail("file", reason[0], reason_zh=reason[1])])
    refused.message_zh = "图片尺寸过大"
    raise refused


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
           source_address: str | None = None, uploader_role: str | None = None,
           local_tz: tzinfo = CITY_ZONE) -> Media:
    """Store an upload: checked (size, type, dimensions, quotas), the bytes first (orphans are harmless), then
    its row with what the original proves (EXIF position and time read in ``local_tz`` when the camera wrote no
    offset, perceptual hash) and ``media.stored`` in the same transaction; nothing recorded on failure."""
    content_type = check_upload(data, limits.max_bytes, limits.max_pixels, limits.max_side)
    try:
        public = inspect.strip_metadata(data, content_type)
    except ValueError as exc:
        raise UnsupportedMediaType("body", f"malformed image: {exc}") from exc
    with db.session() as session:  # before decoding anything: an uploader over quota costs no CPU
        _check_quota(session, limits, uploader_id, source_address, len(data))
    try:
        found = evidence.examine(data, local_tz, limits.max_pixels, limits.max_side)
    except evidence.DecoderSeesTooManyPixels as exc:
        check_pixels(exc.width, exc.height, limits.max_pixels, limits.max_side)
        raise  # unreachable: the decoder's canvas is over a limit, so check_pixels raised
    facts = found.exif
    media = Media(id=str(uuid.uuid4()), content_type=content_type, size=len(data),
                  sha256=hashlib.sha256(data).hexdigest(), uploader_id=uploader_id, uploader_role=uploader_role,
                  source_address=source_address, created_at=datetime.now(UTC), phash=found.phash,
                  exif_lat=facts.lat, exif_lon=facts.lon, exif_taken_at=facts.taken_at)
    storage.put(original_key(media.id), data)
    storage.put(public_key(media.id), public)
    with db.session() as session:
        session.add(media)
        if uploader_role is not None:  # every upload through the API names its role
            db.add_outbox(session, MEDIA_STORED, stored_envelope(media, uploader_role, facts.taken_at))
        session.commit()
    log.info("media %s stored: %s, %d bytes, EXIF %s, phash %s", media.id, content_type, len(data),
             "none" if facts.empty else "read", found.phash or "none")
    return media


def stored_envelope(media: Media, uploader_role: str, taken_at: datetime | None) -> Envelope:
    """``media.stored`` for a stored upload; the EXIF time keeps the offset the original gave it."""
    payload = MediaStored(
        media_id=media.id, uploaded_by=media.uploader_id, uploader_role=uploader_role,
        content_type=media.content_type, sha256=media.sha256, phash=media.phash, exif_lat=media.exif_lat,
        exif_lon=media.exif_lon, exif_taken_at=taken_at, stored_at=media.created_at)
    return new_envelope(type=MEDIA_STORED_TYPE, producer=SERVICE, key=media.id, payload=payload,
                        correlation_id=media.id)


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
