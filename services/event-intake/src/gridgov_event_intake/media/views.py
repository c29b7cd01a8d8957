"""HTTP routes of media (thin): upload a photo as the raw request body, read its public copy."""

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from gridgov_common.auth import Principal, require
from gridgov_common.errors import PayloadTooLarge
from gridgov_event_intake.media import handlers, storage

router = APIRouter(prefix="/v1/media", tags=["media"])


class MediaRead(BaseModel):
    """An accepted upload."""

    media_id: str
    content_type: str
    size: int


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
             openapi_extra={"requestBody": {"required": True, "content": {
                 t: {"schema": {"type": "string", "format": "binary"}}
                 for t in ("image/jpeg", "image/png", "image/webp")}}})
async def post_media(request: Request,
                     principal: Principal = Depends(require("grid_worker", "citizen"))) -> MediaRead:
    """Upload one photo as the raw body (JPEG, PNG or WebP, judged by content). Who: grid_worker, citizen."""
    runtime = request.app.state.runtime
    max_bytes = runtime.settings.media_max_bytes
    data = await _body(request, max_bytes)
    media = await run_in_threadpool(handlers.upload, runtime.db, storage.for_app(request.app),
                                    principal.sub, data, max_bytes)
    return MediaRead(media_id=media.id, content_type=media.content_type, size=media.size)


@router.get("/{media_id}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
def get_media(media_id: str, request: Request,
              _principal: Principal = Depends(require("grid_worker", "citizen", "dept_dispatcher",
                                                      "command_centre", "admin"))) -> Response:
    """The public copy of a photo, without EXIF/GPS. Who: every role."""
    media, data = handlers.public_copy(request.app.state.runtime.db, storage.for_app(request.app), media_id)
    return Response(content=data, media_type=media.content_type)
