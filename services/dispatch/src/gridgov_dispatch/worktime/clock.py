"""SLA clocks (时限), pure: a stage's deadline, pausing and resuming it, and the steps it owes at a moment.

Each running stage (claim 签收, handle 处置, verify 核查) has a limit in one of three units; the deadline is
``calendar.add(start, amount, unit)`` and ``total_s`` is the stage's whole length in that unit's seconds (working
seconds for working hours and days, natural seconds for clock hours), so "share of time used" and "time left"
mean the same thing in every unit. While a return awaits its ruling, an extension awaits approval or the ticket
is suspended, the clock stands: the time left is kept and a resume starts counting it again from then.

The clock owes two kinds of steps, each published as a ticket event by the caller:
- warn 预警 (yellow) once the share of time used reaches the warning share (e.g. 0.8);
- escalate 升级 (red) at the deadline to the village (level 1), then one more whole stage length later to the
  town (2), and one more to the city (3): the ladder village → town → city.
``next_check_at`` is when the clock owes its next step; the scanner reads only tickets whose moment has come.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

ESCALATION_LADDER: tuple[str, ...] = ("", "village", "town", "city")  # level → who is told
TOP_LEVEL = len(ESCALATION_LADDER) - 1


class DeadlineLike(Protocol):
    """A deadline from the calendar: the instant, and whether a year without an official table was crossed."""

    at: datetime
    provisional: bool


class Calendar(Protocol):
    """The working calendar the clock counts on (``worktime.working_calendar.WorkingCalendar``)."""

    def add(self, start: datetime, amount: float, unit: str) -> DeadlineLike:
        """The deadline ``amount`` of ``unit`` after ``start``."""
        ...

    def add_seconds(self, start: datetime, seconds: float, unit: str) -> DeadlineLike:
        """The instant ``seconds`` of the unit's time after ``start``."""
        ...

    def working_seconds_between(self, a: datetime, b: datetime, unit: str) -> float:
        """The unit's seconds between two instants (a ≤ b)."""
        ...


@dataclass(frozen=True)
class Clock:
    """The SLA clock of a ticket's current stage, as the ticket row stores it."""

    stage: str | None = None  # claim | handle | verify; None: no clock runs
    started_at: datetime | None = None
    deadline: datetime | None = None
    unit: str | None = None
    amount: float | None = None
    total_s: float | None = None
    provisional: bool = False
    paused_at: datetime | None = None
    remaining_s: float | None = None
    sla_level: str = "green"  # green | yellow | red
    escalation_level: int = 0
    next_check_at: datetime | None = None


STOPPED = Clock()


def _with(clock: Clock, **changes: Any) -> Clock:
    """``dataclasses.replace(clock, **changes)``: the same clock, without replace's generic walk over the fields
    (a clock is made at every transition and every check; every field of a Clock is an init field)."""
    return Clock(**{**clock.__dict__, **changes})


def start(calendar: Calendar, stage: str, amount: float, unit: str, now: datetime, warning_share: float) -> Clock:
    """A fresh clock for a stage starting ``now`` (green, not escalated)."""
    due = calendar.add(now, amount, unit)
    deadline = due.at
    total = calendar.working_seconds_between(now, deadline, unit)
    if stage is None or not now <= deadline:  # not a running stage (or a calendar going back): the general rule
        clock = Clock(stage=stage, started_at=now, deadline=deadline, unit=unit, amount=amount, total_s=total,
                      provisional=due.provisional)
        return _with(clock, next_check_at=next_check(calendar, clock, now, warning_share))
    # A fresh running clock is green with ``now`` ≤ its deadline, so its next check is the warning's moment
    # (``next_check`` → ``warning_due_at``) and the time left now is ``total`` itself (the very same question):
    # the same arithmetic, with one clock made instead of two and one question fewer to the calendar.
    wait = total - (1.0 - warning_share) * (total or 0.0)
    check = now if wait <= 0 else calendar.add_seconds(now, wait, unit).at
    return Clock(stage=stage, started_at=now, deadline=deadline, unit=unit, amount=amount, total_s=total,
                 provisional=due.provisional, next_check_at=check)


def pause(calendar: Calendar, clock: Clock, now: datetime) -> Clock:
    """Stop the clock, keeping the time left (negative when already past the deadline)."""
    if clock.stage is None or clock.paused_at is not None or clock.deadline is None or clock.unit is None:
        return clock
    return _with(clock, paused_at=now, remaining_s=time_left(calendar, clock, now), next_check_at=None)


def resume(calendar: Calendar, clock: Clock, now: datetime, warning_share: float, extra_s: float = 0.0) -> Clock:
    """Run the clock again from ``now`` with the time it had left plus ``extra_s`` (an approved extension)."""
    if clock.stage is None or clock.paused_at is None or clock.unit is None:
        return clock
    left = (clock.remaining_s or 0.0) + extra_s
    if left > 0:
        due = calendar.add_seconds(now, left, clock.unit)
        deadline, provisional = due.at, clock.provisional or due.provisional
    else:  # breached before the pause and not extended past it: the breach stands where it was
        deadline, provisional = clock.deadline, clock.provisional
    total = (clock.total_s or 0.0) + extra_s
    level = clock.sla_level
    if extra_s > 0 and left > 0:
        level = "green"  # an approved extension gives the department a fresh share of time
    resumed = _with(clock, deadline=deadline, provisional=provisional, paused_at=None,
                      remaining_s=None, total_s=total, sla_level=level,
                      escalation_level=clock.escalation_level if level == "red" else 0)
    return _with(resumed, next_check_at=next_check(calendar, resumed, now, warning_share))


def time_left(calendar: Calendar, clock: Clock, now: datetime) -> float:
    """The unit's seconds left until the deadline (negative past it)."""
    assert clock.deadline is not None and clock.unit is not None
    if now <= clock.deadline:
        return calendar.working_seconds_between(now, clock.deadline, clock.unit)
    return -calendar.working_seconds_between(clock.deadline, now, clock.unit)


def escalation_due_at(calendar: Calendar, clock: Clock, level: int) -> datetime:
    """When the ladder reaches ``level`` (1 at the deadline, then one more whole stage length per step)."""
    assert clock.deadline is not None and clock.unit is not None
    if level <= 1:
        return clock.deadline
    return calendar.add_seconds(clock.deadline, (level - 1) * (clock.total_s or 0.0), clock.unit).at


def warning_due_at(calendar: Calendar, clock: Clock, now: datetime, warning_share: float) -> datetime:
    """When the share of time used reaches ``warning_share`` (``now`` if it already has)."""
    wait = time_left(calendar, clock, now) - (1.0 - warning_share) * (clock.total_s or 0.0)
    if wait <= 0:
        return now
    assert clock.unit is not None
    return calendar.add_seconds(now, wait, clock.unit).at


def next_check(calendar: Calendar, clock: Clock, now: datetime, warning_share: float) -> datetime | None:
    """When the clock next owes a step, or None (stopped, paused, or at the top of the ladder)."""
    if clock.stage is None or clock.paused_at is not None or clock.deadline is None:
        return None
    if clock.sla_level == "green":
        return warning_due_at(calendar, clock, now, warning_share)
    if clock.escalation_level < TOP_LEVEL:
        return escalation_due_at(calendar, clock, clock.escalation_level + 1)
    return None


@dataclass(frozen=True)
class Step:
    """One step the clock owes: ``warn`` (yellow) or ``escalate`` to ``level`` (red)."""

    action: str
    level: int = 0

    @property
    def note(self) -> str:
        """The audit note of the step."""
        if self.action == "warn":
            return "SLA warning: most of the stage's time is used"
        return f"SLA breach: escalated to the {ESCALATION_LADDER[self.level]} level"


def due_steps(calendar: Calendar, clock: Clock, now: datetime, warning_share: float) -> tuple[list[Step], Clock]:
    """The steps owed at ``now`` (in order) and the clock after them, with its next check."""
    if clock.stage is None or clock.paused_at is not None or clock.deadline is None:
        return [], _with(clock, next_check_at=None)
    steps: list[Step] = []
    if now < clock.deadline:
        if clock.sla_level == "green" and warning_due_at(calendar, clock, now, warning_share) <= now:
            steps.append(Step("warn"))
            clock = _with(clock, sla_level="yellow")
    else:
        level = clock.escalation_level
        while level < TOP_LEVEL and escalation_due_at(calendar, clock, level + 1) <= now:
            level += 1
            steps.append(Step("escalate", level))
        if level != clock.escalation_level:
            clock = _with(clock, sla_level="red", escalation_level=level)
    return steps, _with(clock, next_check_at=next_check(calendar, clock, now, warning_share))


def is_overdue(deadline: datetime | None, now: datetime) -> bool:
    """Whether an open ticket has passed its deadline (超期); no deadline is never overdue."""
    return deadline is not None and deadline < now
