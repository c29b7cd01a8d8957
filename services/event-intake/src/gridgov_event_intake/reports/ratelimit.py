"""Rate-limit arithmetic, pure: recent submission times (or amounts) in, a verdict out; and the caller's address."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from datetime import datetime, timedelta


def retry_after(recent: Sequence[datetime], now: datetime, limit: int, window: timedelta) -> int | None:
    """Seconds to wait before one more submission is allowed (sliding window), or None if allowed now.

    ``recent`` are the times of earlier accepted submissions; those older than ``window`` do not count.
    With ``limit`` or more inside the window, the caller may try again when the oldest of the newest
    ``limit`` leaves it.
    """
    inside = sorted(t for t in recent if now - t < window)
    if len(inside) < limit:
        return None
    if limit <= 0:
        return max(1, math.ceil(window.total_seconds()))
    frees_at = inside[len(inside) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def retry_after_amount(recent: Sequence[tuple[datetime, int]], now: datetime, quota: int, window: timedelta,
                       incoming: int) -> int | None:
    """Seconds until ``incoming`` more units (bytes) fit under ``quota`` in the sliding window, or None if now.

    ``recent`` are (time, amount) of earlier accepted uses. An ``incoming`` amount larger than the whole
    quota never fits: the answer is then the full window (the caller should refuse it anyway).
    """
    inside = sorted((t, n) for t, n in recent if now - t < window)
    used = sum(n for _, n in inside)
    if used + incoming <= quota:
        return None
    if incoming > quota:
        return max(1, math.ceil(window.total_seconds()))
    for moment, amount in inside:  # the oldest leave first
        used -= amount
        if used + incoming <= quota:
            return max(1, math.ceil((moment + window - now).total_seconds()))
    return max(1, math.ceil(window.total_seconds()))  # unreachable: with nothing left inside it fits


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str | None:
    """The caller's address: the ASGI peer, or, when the peer is a trusted proxy, the nearest untrusted hop of
    X-Forwarded-For (read right to left: each proxy appends who it heard from, so the left part is the
    client's to forge).
    """
    networks = [_network(t) for t in trusted]
    networks = [n for n in networks if n is not None]

    def is_trusted(address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in n for n in networks)

    if peer is None or not forwarded_for or not is_trusted(peer):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if _ip(hop) is None:
            return peer  # a malformed chain: believe only the peer we saw
        if not is_trusted(hop):
            return hop
    return hops[0] if hops else peer


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
