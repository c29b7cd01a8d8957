"""When a delivery is sent: backoff after failures, quiet hours, urgency. Pure: values in, values out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from gridgov_common.events.tickets import TicketEvent

# Channels that wake people up at night; the inbox is read when its owner chooses, so it never waits.
DEFERRABLE_CHANNELS = frozenset({"sms", "email"})
# 超期升级 and 督办 are the command centre pressing a case: they go at any hour.
URGENT_EVENT_TYPES = frozenset({"ticket.escalated", "ticket.supervised"})
URGENT_PRIORITY = "urgent"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: attempt n (1-based) failed → wait base × 2^(n-1) seconds, at most ``cap``."""

    max_attempts: int = 6
    base_s: float = 10.0
    cap_s: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        """The wait after ``attempts`` failed attempts."""
        seconds = self.base_s * (2 ** max(attempts - 1, 0))
        return timedelta(seconds=min(seconds, self.cap_s))

    def gives_up(self, attempts: int) -> bool:
        """Whether ``attempts`` failed attempts are the last allowed (the delivery goes dead)."""
        return attempts >= self.max_attempts


@dataclass(frozen=True)
class QuietHours:
    """A nightly window in a local time zone; ``start > end`` spans midnight (22:00–07:00)."""

    start: time = time(22, 0)
    end: time = time(7, 0)
    timezone: str = "Asia/Shanghai"

    def release(self, now: datetime) -> datetime | None:
        """The end of the quiet hours ``now`` falls in (as an aware time in ``now``'s zone), or None if outside."""
        if self.start == self.end:
            return None
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            inside = self.start <= clock < self.end
        else:
            inside = clock >= self.start or clock < self.end
        if not inside:
            return None
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end.astimezone(now.tzinfo)


def is_urgent(event_type: str, event: TicketEvent) -> bool:
    """Escalations, supervision (督办) and urgent-priority tickets are urgent."""
    return event_type in URGENT_EVENT_TYPES or event.priority == URGENT_PRIORITY


def first_attempt_at(now: datetime, channel: str, urgent: bool, quiet: QuietHours | None) -> datetime:
    """When to send first: now, or the end of quiet hours for a non-urgent SMS or e-mail."""
    if urgent or quiet is None or channel not in DEFERRABLE_CHANNELS:
        return now
    return quiet.release(now) or now
