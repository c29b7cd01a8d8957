"""SLA arithmetic (时限), pure. Clock hours only in the skeleton; working hours and days come later."""

from __future__ import annotations

from datetime import datetime


def is_overdue(deadline: datetime | None, now: datetime) -> bool:
    """Whether an open ticket has passed its deadline (超期); no deadline is never overdue."""
    return deadline is not None and deadline < now
