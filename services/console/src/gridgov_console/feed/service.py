"""The live feed's source: dispatch's ticket list, read with the watcher's own token."""

from __future__ import annotations

from typing import Any

import httpx

from gridgov_common.errors import DomainError, Unavailable


async def newest_tickets(client: httpx.AsyncClient, dispatch_url: str, token: str, window: int) -> list[dict[str, Any]]:
    """The newest ``window`` tickets the token may see (dispatch lists oldest first, so this reads the last page)."""
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{dispatch_url.rstrip('/')}/v1/tickets"
    try:
        resp = await client.get(url, params={"limit": window, "offset": 0}, headers=headers)
        page = _page(resp)
        if page["total"] > window:
            resp = await client.get(url, params={"limit": window, "offset": page["total"] - window}, headers=headers)
            page = _page(resp)
    except httpx.HTTPError as exc:
        raise Unavailable(f"dispatch cannot be reached ({type(exc).__name__})") from exc
    return page["items"]


def _page(resp: httpx.Response) -> dict[str, Any]:
    if resp.status_code != 200:
        try:
            error = resp.json()["error"]
            message = error["message"]
        except (ValueError, KeyError, TypeError):
            message = resp.text[:200]
        raise DomainError(f"dispatch answered {resp.status_code}: {message}", code="feed_source_failed")
    return resp.json()
