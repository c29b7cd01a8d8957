"""HTTP route of the proxy: ``/api/<service>/<path>`` → the service, status and body unchanged."""

from fastapi import APIRouter, Request, Response

from gridgov_console.deps import Settings, Upstream
from gridgov_console.gateway.service import body_limit, forward, read_bounded, target_url

router = APIRouter(prefix="/api", tags=["proxy"])


@router.api_route("/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def proxy(service: str, path: str, request: Request, settings: Settings, client: Upstream) -> Response:
    """Pass the request to intake, registry, dispatch, notification, analytics or sensing with its Authorization
    header, and the answer back as it came (so the page shows the service's own error messages). Who: the service
    decides."""
    url = target_url(settings.service_urls(), service, path)
    limit = body_limit(service, path, settings.proxy_max_body_bytes, settings.proxy_max_upload_bytes)
    body = await read_bounded(request.stream(), request.headers.get("content-length"), limit)
    upstream = await forward(client, request.method, url, request.url.query, dict(request.headers), body, service)
    return Response(upstream.body, status_code=upstream.status, headers=upstream.headers)
