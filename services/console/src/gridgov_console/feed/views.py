"""HTTP route of the live feed: server-sent events of ticket changes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from gridgov_common.auth import STAFF
from gridgov_common.deps import authenticate
from gridgov_common.errors import DomainError, ErrorDetail, Forbidden, Unauthenticated
from gridgov_console.deps import Settings, Upstream
from gridgov_console.feed.changes import Snapshot, ticket_changes
from gridgov_console.feed.service import newest_tickets

router = APIRouter(prefix="/api", tags=["feed"])


def _sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _bearer(authorization: str | None, query: dict[str, str]) -> str:
    # A token in the URL ends up in access logs, proxy logs and the browser's history, so one there is refused
    # outright (even beside a header): the page reads the stream with fetch() and an Authorization header instead.
    if "access_token" in query:
        raise DomainError("a token in the URL is refused", [ErrorDetail(
            "access_token", "send the token in the Authorization header (Bearer), never in the URL")],
            code="token_in_url")
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    raise Unauthenticated("missing bearer token (Authorization header)")


@router.get("/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "the event stream"}})
async def get_events(request: Request, settings: Settings, client: Upstream,
                     authorization: Annotated[str | None, Header()] = None) -> StreamingResponse:
    """Server-sent events: ``ticket`` for each ticket created or changed that the caller may see (first a ``ready``
    with how many are watched), ``problem`` when dispatch cannot be read. The token comes in the Authorization
    header only (the page reads the stream with fetch); ``?access_token=`` is refused with 400.
    Who: any staff role (dispatch scopes what each sees)."""
    token = _bearer(authorization, dict(request.query_params))
    # The same verifier as every service: local tokens and, when configured, the city's OpenID Connect tokens.
    principal = await authenticate(request.app, token)
    if principal.role not in STAFF:  # who watches tickets change
        raise Forbidden(f"role {principal.role} may not watch the live feed; allowed: {', '.join(STAFF)}")

    async def stream() -> AsyncIterator[bytes]:
        snapshot = Snapshot()
        first = True
        last_sent = time.monotonic()
        while not await request.is_disconnected():
            try:
                items = await newest_tickets(client, settings.dispatch_url, token, settings.feed_window)
            except DomainError as exc:
                yield _sse("problem", {"message": exc.message})
                last_sent = time.monotonic()
            else:
                events = ticket_changes(snapshot, items)
                if first:
                    # The tickets already there are the starting point, not news.
                    yield _sse("ready", {"watching": len(snapshot.seen), "role": principal.role})
                    first = False
                    last_sent = time.monotonic()
                else:
                    for event in events:
                        yield _sse("ticket", event)
                        last_sent = time.monotonic()
            if time.monotonic() - last_sent > settings.feed_keepalive_s:
                yield b": keepalive\n\n"  # keeps proxies from closing an idle stream
                last_sent = time.monotonic()
            await asyncio.sleep(settings.feed_poll_s)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
