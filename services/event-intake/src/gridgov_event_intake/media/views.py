"""HTTP routes of media (thin): upload a photo as the raw request body, read its public copy."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gridgov_common.auth import REPORTERS, Principal
from gridgov_common.deps import AnyRole, require
from gridgov_common.errors import PayloadTooLarge
from gridgov_event_intake.deps import MediaStore, Runtime
from gridgov_event_intake.media import handlers
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.reports.limits import caller_address

router = APIRouter(prefix="/v1/media", tags=["media"])

# Reporters upload the photos of their reports; a department's dispatcher uploads the photo of a fix (处置照片),
# which its handling report (dispatch's POST /v1/tickets/{id}/handle) then names.
UPLOADERS = (*REPORTERS, "dept_dispatcher")
Uploader = Annotated[Principal, Depends(require(*UPLOADERS))]


class ExifRead(BaseModel):
    """What the original's EXIF says: where (WGS84) and when the photo was taken; informational (the app may warn
    early), the server judges evidence itself."""

    lat: float | None
    lon: float | None
    taken_at: datetime | None


class MediaRead(BaseModel):
    """An accepted upload."""

    media_id: str
    content_type: str
    size: int
    exif: ExifRead | None = Field(description="from the original (the public copy has no EXIF); null: none")

    @classmethod
    def of(cls, media: Media) -> "MediaRead":
        """The answer for a stored upload."""
        exif = None
        if media.exif_lat is not None or media.exif_taken_at is not None:
            exif = ExifRead(lat=media.exif_lat, lon=media.exif_lon, taken_at=media.exif_taken_at)
        return cls(media_id=media.id, content_type=media.content_type, size=media.size, exif=exif)


async def _body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 as soon as it passes the limit (never read whole into memory)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge("body", max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge("body", max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MediaRead,
             responses={413: {"description": "body too large"}, 415: {"description": "not an image we read"},
                        422: {"description": "too many pixels (file), as the header or the decoder reads it"},
                        429: {"description": "daily upload quota used; see Retry-After"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 t: {"schema": {"type": "string", "format": "binary"}}
                 for t in ("image/jpeg", "image/png", "image/webp")}}})
async def post_media(request: Request, principal: Uploader, runtime: Runtime, storage: MediaStore) -> MediaRead:
    """Upload one photo as the raw body (JPEG, PNG or WebP, judged by content; at most so many pixels, by its
    header), under daily quotas per account and per source address. The answer carries what the original's EXIF
    says (position, time), which the public copy no longer has. Who: grid_worker, citizen; dept_dispatcher (the
    photo of a fix)."""
    settings = runtime.settings
    limits = handlers.UploadLimits(
        max_bytes=settings.media_max_bytes, max_pixels=settings.media_max_pixels, max_side=settings.media_max_side,
        count_per_account=settings.media_daily_count_per_account,
        bytes_per_account=settings.media_daily_bytes_per_account,
        count_per_address=settings.media_daily_count_per_address,
        bytes_per_address=settings.media_daily_bytes_per_address)
    data = await _body(request, limits.max_bytes)
    media = await run_in_threadpool(handlers.upload, runtime.db, storage,
                                    principal.sub, data, limits, caller_address(request), principal.role,
                                    settings.zone)
    return MediaRead.of(media)


@router.get("/{media_id}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
def get_media(media_id: str, principal: AnyRole, runtime: Runtime, storage: MediaStore) -> Response:
    """The public copy of a photo, without EXIF/GPS. Who: whoever may read a report it belongs to (see
    GET /v1/reports/{id}); a photo of no report (a fix or an on-site check, named by a ticket's audit trail):
    its uploader and the city's staff; anyone else: 404."""
    media, data = handlers.readable_copy(runtime.db, storage, media_id, principal)
    # nosniff: a browser must never take an uploaded photo for HTML or script, whatever its bytes look like.
    return Response(content=data, media_type=media.content_type, headers={"X-Content-Type-Options": "nosniff"})
