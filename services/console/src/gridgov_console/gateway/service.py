"""The same-origin proxy: pass a page's request to a service and its answer back unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from gridgov_common.errors import ErrorDetail, NotFound, PayloadTooLarge, Unavailable, ValidationFailed

# Request headers the services read; everything else (cookies, the browser's own headers) stays here.
# accept-language: the services answer their errors in Chinese when the page asks for it.
FORWARDED_REQUEST_HEADERS = ("authorization", "content-type", "accept", "accept-language", "if-none-match",
                             "idempotency-key", "x-correlation-id")
# Response headers the page needs: the body's type, caching (ETag → 304 saves the map its GeoJSON), back-off.
FORWARDED_RESPONSE_HEADERS = ("content-type", "etag", "cache-control", "vary", "retry-after", "last-modified")
# Routes whose bodies are uploads, allowed the larger upload limit: (service, path as proxied) — a photo, and the
# admin's device import file (a city's cameras as CSV or GeoJSON, megabytes).
UPLOAD_ROUTES = frozenset({("intake", "v1/media"), ("sensing", "v1/devices/import")})


@dataclass(frozen=True)
class Upstream:
    """What a service answered."""

    status: int
    body: bytes
    headers: dict[str, str]


def target_url(services: dict[str, str], service: str, path: str) -> str:
    """The service URL a proxied path stands for; NotFound for an unknown service, refused for ``..``."""
    base = services.get(service)
    if base is None:
        raise NotFound("service", service)
    segments = path.split("/")
    if any(s in (".", "..") for s in segments):
        raise ValidationFailed("the path may not climb out of the service", [ErrorDetail("path", "contains ..")])
    # Starlette hands the path over decoded: quote it again so a space or '?' in an id stays part of the path.
    return base.rstrip("/") + "/" + quote(path, safe="/:@!$&'()*+,;=-._~")


def body_limit(service: str, path: str, json_limit: int, upload_limit: int) -> int:
    """The largest body the proxy passes on to this route: the upload limit for photo uploads, else the JSON one."""
    return upload_limit if (service, path.strip("/")) in UPLOAD_ROUTES else json_limit


async def read_bounded(chunks: AsyncIterator[bytes], declared_length: str | None, limit: int) -> bytes:
    """The request body, refused with 413 before any of it is read when its declared length is over ``limit``, and
    as soon as the bytes read pass it otherwise: never more than ``limit`` bytes held (a chunked body declares
    nothing)."""
    if declared_length and declared_length.strip().isdigit() and int(declared_length) > limit:
        raise PayloadTooLarge("body", limit)
    body = bytearray()
    async for chunk in chunks:
        if len(body) + len(chunk) > limit:
            raise PayloadTooLarge("body", limit)
        body += chunk
    return bytes(body)


def forwarded_headers(headers: dict[str, str]) -> dict[str, str]:
    """The request headers passed on to a service."""
    return {k: v for k, v in headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}


async def forward(client: httpx.AsyncClient, method: str, url: str, query: str, headers: dict[str, str],
                  body: bytes, service: str) -> Upstream:
    """Send one request on; Unavailable (503) if the service cannot be reached."""
    try:
        resp = await client.request(method, url + (f"?{query}" if query else ""), headers=forwarded_headers(headers),
                                    content=body or None)
    except httpx.TimeoutException as exc:
        raise Unavailable(f"{service} did not answer in time ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise Unavailable(f"{service} cannot be reached ({type(exc).__name__}: {exc})") from exc
    kept = {k: v for k, v in resp.headers.items() if k.lower() in FORWARDED_RESPONSE_HEADERS}
    return Upstream(resp.status_code, resp.content, kept)
