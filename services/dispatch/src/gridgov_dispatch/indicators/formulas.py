"""The indicators of the comprehensive evaluation (综合评价), pure: plain per-ticket facts in, counts and rates out.

A period P is a half-open interval [start, end) of China time (UTC+8): a day ``2026-11-25``, an ISO week
``2026-W47``, a month ``2026-11``, or days ``2026-11-01..2026-11-15`` (both days included). For each ticket the
service gathers its facts (``CaseFacts``): first dispatch time, every handle, rework, return and escalate time,
closure time, current state, deadline and SLA level. Then, per ticket and P:

- **due** (应结案): closed in P (``closed_at`` in P), or still open with its current stage deadline in P and
  already passed (deadline in [start, min(end, now))). A ticket due in P but closed after P counts, once closed,
  in the period of its closure: figures of a past period are as of the time they are computed.
- **closed**: ``closed_at`` in P. Every closed ticket is also due, so closed ≤ due. A case reopened after a
  bad follow-up (回访) loses its ``closed_at`` and counts again when it is closed again.
- **closed on time**: closed, and never breached — no ``escalate`` transition (red) at any time and not at
  sla_level red: every stage met its deadline, extended deadlines (延期) included.
- **handled**: at least one ``handle`` transition in P; **reworked**: handled, and at least one ``rework``
  transition in P.
- **dispatched**: the first ``dispatch`` transition in P (a re-dispatch after a return is not a new dispatch);
  **returned**: dispatched, and returned (``return`` transition, or ``return_count`` > 0) at any time.
- **handling hours**: for a dispatched ticket whose first ``handle`` after its first dispatch lies in P, the
  clock hours between the two (paused time included: it is what the reporter waited), summed in whole
  microseconds so that the mean is the same whatever order the tickets are added in.
- **breached** (超期): at least one ``escalate`` transition in P.
- **rated** (回访): each rating of the ticket answered in P counts once (a ticket with two reporters may have
  two); **satisfied**: rated with satisfaction ≥ 4 (满意 or 非常满意 on the 1–5 scale).

Indicators (a rate comes with its numerator and denominator; denominator 0 → rate null, not 0):

- 结案率 closure_rate = closed ÷ due
- 按期结案率 on_time_closure_rate = closed on time ÷ due
- 返工率 rework_rate = reworked ÷ handled
- 退单率 return_rate = returned ÷ dispatched
- 首派准确率 first_dispatch_accuracy = (dispatched − returned) ÷ dispatched
- 平均处置时长 mean_handling_hours = mean of handling hours (null when none), with the count
- 超期数 breach_count = breached tickets
- 满意率 satisfaction_rate = satisfied ÷ rated (回访); null until ratings arrive in P

Groups: by town, every indicator uses the ticket's town code; by department, first-dispatch accuracy uses the
department first dispatched to (``first_department``: whose dispatch was right or wrong) and every other
indicator the ticket's current department. Tickets with no town or department fall in group ``none``. The
city total counts every ticket once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridgov_common.periods import CHINA_TIME, MAX_PERIOD_DAYS, Period, parse_period  # noqa: F401 - re-exported

SATISFIED_MIN = 4  # 满意: 4 or 5 on the 1–5 scale  # periods are China calendar days (no daylight saving)
NO_GROUP = "none"
MICROSECOND = timedelta(microseconds=1)
US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class CaseFacts:
    """What the indicators need to know about one ticket (from its row and its transitions)."""

    ticket_id: str
    state: str
    department: str | None = None
    first_department: str | None = None
    town_code: str | None = None
    deadline: datetime | None = None
    closed_at: datetime | None = None
    sla_level: str = "green"
    return_count: int = 0
    dispatched_at: datetime | None = None  # the first dispatch
    handled_at: tuple[datetime, ...] = ()
    reworked_at: tuple[datetime, ...] = ()
    returned_at: tuple[datetime, ...] = ()
    escalated_at: tuple[datetime, ...] = ()
    ratings: tuple[tuple[datetime, int], ...] = ()  # (answered at, satisfaction 1–5) of each follow-up rating


@dataclass(frozen=True)
class Contribution:
    """What tickets add to the counts of one period: one ticket's (``contribution``), or the sums of many tickets
    of one group (the service adds them up in SQL); every field a count but ``handling_us``, a sum."""

    due: int = 0
    closed: int = 0
    closed_on_time: int = 0
    handled: int = 0
    reworked: int = 0
    dispatched: int = 0
    returned: int = 0
    handling_count: int = 0  # tickets with a handling time in the period
    handling_us: int = 0  # their handling times summed, in whole microseconds (exact in any order)
    breached: int = 0
    rated: int = 0
    satisfied: int = 0


def is_due(facts: CaseFacts, period: Period, now: datetime) -> bool:
    """Whether the ticket was due (应结案) in the period: closed in it, or open with its deadline passed in it."""
    if facts.closed_at in period:
        return True
    if facts.state == "closed" or facts.deadline is None:
        return False
    return period.start <= facts.deadline < min(period.end, now)


def ever_breached(facts: CaseFacts) -> bool:
    """Whether any stage deadline of the ticket was missed (an escalate transition, or red now)."""
    return bool(facts.escalated_at) or facts.sla_level == "red"


def is_closed_on_time(facts: CaseFacts, period: Period) -> bool:
    """Whether the ticket was closed in the period without ever breaching (按期结案)."""
    return facts.closed_at in period and not ever_breached(facts)


def handling_time(facts: CaseFacts, period: Period) -> timedelta | None:
    """Clock time from the first dispatch to the first handling after it, if that handling lies in the period."""
    if facts.dispatched_at is None:
        return None
    after = [at for at in facts.handled_at if at >= facts.dispatched_at]
    if not after or min(after) not in period:
        return None
    return min(after) - facts.dispatched_at


def contribution(facts: CaseFacts, period: Period, now: datetime) -> Contribution:
    """What one ticket adds to each count of the period (see the module docstring for each definition)."""
    handled = any(at in period for at in facts.handled_at)
    dispatched = facts.dispatched_at in period
    rated = [satisfaction for at, satisfaction in facts.ratings if at in period]
    took = handling_time(facts, period)
    return Contribution(
        due=int(is_due(facts, period, now)),
        closed=int(facts.closed_at in period),
        closed_on_time=int(is_closed_on_time(facts, period)),
        handled=int(handled),
        reworked=int(handled and any(at in period for at in facts.reworked_at)),
        dispatched=int(dispatched),
        returned=int(dispatched and (bool(facts.returned_at) or facts.return_count > 0)),
        handling_count=int(took is not None),
        handling_us=0 if took is None else took // MICROSECOND,
        breached=int(any(at in period for at in facts.escalated_at)),
        rated=len(rated),
        satisfied=sum(1 for satisfaction in rated if satisfaction >= SATISFIED_MIN),
    )


@dataclass(frozen=True)
class Rate:
    """A rate with the counts it is made of; ``value`` is None when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """numerator ÷ denominator, or None with nothing to divide by."""
        return None if self.denominator == 0 else self.numerator / self.denominator


def rate(numerator: int, denominator: int) -> Rate:
    """A Rate; its value is None (not 0) when the denominator is 0."""
    return Rate(numerator, denominator)


@dataclass
class Tally:
    """Running counts of one group."""

    due: int = 0
    closed: int = 0
    closed_on_time: int = 0
    handled: int = 0
    reworked: int = 0
    dispatched: int = 0  # for the return rate (current department)
    returned: int = 0
    first_dispatched: int = 0  # for first-dispatch accuracy (first department)
    first_returned: int = 0
    handling_count: int = 0
    handling_us: int = 0
    breached: int = 0
    rated: int = 0
    satisfied: int = 0

    def add_outcome(self, c: Contribution) -> None:
        """Add every count except first-dispatch accuracy's."""
        self.due += c.due
        self.closed += c.closed
        self.closed_on_time += c.closed_on_time
        self.handled += c.handled
        self.reworked += c.reworked
        self.dispatched += c.dispatched
        self.returned += c.returned
        self.handling_count += c.handling_count
        self.handling_us += c.handling_us
        self.breached += c.breached
        self.rated += c.rated
        self.satisfied += c.satisfied

    def add_first_dispatch(self, c: Contribution) -> None:
        """Add first-dispatch accuracy's counts."""
        self.first_dispatched += c.dispatched
        self.first_returned += c.returned


@dataclass(frozen=True)
class Indicators:
    """The indicators of one group (or the city) over one period."""

    closure_rate: Rate
    on_time_closure_rate: Rate
    rework_rate: Rate
    return_rate: Rate
    first_dispatch_accuracy: Rate
    mean_handling_hours: float | None
    handled_count: int  # how many handling times the mean is over
    breach_count: int
    satisfaction_rate: Rate | None = None  # null when no rating was answered in the period


def indicators(t: Tally) -> Indicators:
    """The indicators of a tally."""
    return Indicators(
        closure_rate=rate(t.closed, t.due),
        on_time_closure_rate=rate(t.closed_on_time, t.due),
        rework_rate=rate(t.reworked, t.handled),
        return_rate=rate(t.returned, t.dispatched),
        first_dispatch_accuracy=rate(t.first_dispatched - t.first_returned, t.first_dispatched),
        mean_handling_hours=t.handling_us / t.handling_count / US_PER_HOUR if t.handling_count else None,
        handled_count=t.handling_count,
        breach_count=t.breached,
        satisfaction_rate=rate(t.satisfied, t.rated) if t.rated else None,
    )


def _key(value: str | None) -> str:
    return value if value else NO_GROUP


GROUP_KEYS: dict[str, tuple[Callable[[CaseFacts], str], Callable[[CaseFacts], str]]] = {
    # (key for every indicator but first-dispatch accuracy, key for first-dispatch accuracy)
    "department": (lambda f: _key(f.department), lambda f: _key(f.first_department or f.department)),
    "town": (lambda f: _key(f.town_code), lambda f: _key(f.town_code)),
}


def group_keys(group_by: str, department: str | None, first_department: str | None, town_code: str | None
               ) -> tuple[str, str]:
    """A ticket's group for every indicator but first-dispatch accuracy, and its group for that one."""
    if group_by == "town":
        return _key(town_code), _key(town_code)
    return _key(department), _key(first_department or department)


def tally(contributions: Iterable[tuple[str, str, Contribution]]) -> tuple[dict[str, Indicators], Indicators]:
    """The indicators per group and for the city from (outcome group, first-dispatch group, contribution) of each
    ticket, or of each set of tickets sharing both groups."""
    groups: dict[str, Tally] = {}
    city = Tally()
    empty = Contribution()
    for outcome_group, first_group, c in contributions:
        if c == empty:
            continue  # the ticket did nothing in this period; it must not open an empty group
        groups.setdefault(outcome_group, Tally()).add_outcome(c)
        if c.dispatched:
            groups.setdefault(first_group, Tally()).add_first_dispatch(c)
        city.add_outcome(c)
        city.add_first_dispatch(c)
    return {k: indicators(groups[k]) for k in sorted(groups)}, indicators(city)


def evaluate(facts: Iterable[CaseFacts], period: Period, now: datetime, group_by: str
             ) -> tuple[dict[str, Indicators], Indicators]:
    """The indicators per group (``department`` or ``town``) and for the whole city over the period."""
    outcome_key, first_key = GROUP_KEYS[group_by]
    return tally((outcome_key(f), first_key(f), contribution(f, period, now)) for f in facts)
