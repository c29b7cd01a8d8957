"""HTTP route of the proxy: ``/api/<service>/<path>`` → the service, status and body unchanged."""

from fastapi import APIRouter, Request, Response

from gridgov_common.errors import PayloadTooLarge
from gridgov_console.gateway.service import forward, target_url

router = APIRouter(prefix="/api", tags=["proxy"])


@router.api_route("/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def proxy(service: str, path: str, request: Request) -> Response:
    """Pass the request to intake, registry, dispatch or notification with its Authorization header, and the
    answer back as it came (so the page shows the service's own error messages). Who: the service decides."""
    settings = request.app.state.settings
    url = target_url(settings.service_urls(), service, path)
    body = await request.body()
    if len(body) > settings.proxy_max_body_bytes:
        raise PayloadTooLarge("body", settings.proxy_max_body_bytes)
    upstream = await forward(request.app.state.http, request.method, url, request.url.query, dict(request.headers),
                             body, service)
    return Response(upstream.body, status_code=upstream.status, headers=upstream.headers)
