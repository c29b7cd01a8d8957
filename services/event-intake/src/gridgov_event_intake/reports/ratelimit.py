"""Rate-limit arithmetic for citizen reports, pure: recent submission times in, a verdict out."""

from __future__ import annotations

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
