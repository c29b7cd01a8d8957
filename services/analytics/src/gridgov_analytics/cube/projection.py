"""The read model's one rule: what a ticket event or a rating does to the ticket's fact and to the daily counts.

Pure: a fact (or None) and a message in, the new fact and the increments out. The live consumer and the history
backfill both call :func:`project`, so the cube the bus builds and the one the history loads are the same.

Measures (``MEASURES``), each counted on the local day (Asia/Shanghai) of the event that made it:

- ``registered``  ``ticket.registered`` (once per ticket)
- ``closed``      ``ticket.closed`` (each closure: a reopened ticket closed again counts again)
- ``closed_late`` a closure of a *late* ticket (below)
- ``returned``    ``ticket.returned`` (退单), ``reworked`` ``ticket.reworked`` (返工), ``reopened`` ``ticket.reopened``
- ``escalated``   the ticket's first ``ticket.escalated`` (超期升级; later levels of the same ticket do not count)
- ``merged``      ``ticket.merged`` (a report attached to the ticket, 并案)
- ``rated``       ``feedback.received`` (a reporter's answer to the follow-up, 回访)
- ``dissatisfied`` a rating with satisfaction ≤ 2 or "not solved"

Late (超期): a ticket is late once it was ever escalated or shown red by the SLA clock (``sla_level == "red"``
on any of its events), or when it is closed after the last deadline known before the closure. Once late, it
stays late (a closure after a reopening is late too).

Counts are kept on the codes the event itself carries (grid, village, town, category, channel): a ticket recorded
in a grid set stays counted on those codes after a new set; ``""`` stands for a missing code (a ticket located
to a town only has grid ``""``).

Idempotent: a fact remembers the time of the last ticket event it applied and the actions applied at that very
instant, so a message applied twice (a history load re-run, a redelivery) changes nothing the second time; one
ticket's events arrive in order (one key, one partition). Ratings are guarded the same way by their answer time
and follow-up id. A rating that arrives before any event of its ticket (two topics are not ordered between them)
is kept pending on a stub fact and counted when the ticket's first event gives it its grid and category.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

from gridgov_common.events.feedback import FEEDBACK_RECEIVED_TYPE, FeedbackReceived
from gridgov_common.events.tickets import TicketEvent

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # China keeps no daylight saving time
MEASURES = ("registered", "closed", "closed_late", "returned", "reworked", "reopened", "escalated", "merged",
            "rated", "dissatisfied")
CHANNELS = ("patrol", "hotline", "citizen", "open311", "video_ai", "iot")  # video_ai, iot: sensing (issue #16)
TICKET_PREFIX = "ticket."
# Transitions counted on every occurrence, with the fact's counter they raise.
_COUNTED = {"return": ("returned_n", "returned"), "rework": ("reworked_n", "reworked"),
            "reopen": ("reopened_n", "reopened"), "merge": ("merged_n", "merged")}


class Increment(NamedTuple):
    """One count to add to the cube: its key and how much."""

    day: date
    grid_code: str
    village_code: str
    town_code: str
    category_code: str
    channel: str
    measure: str
    n: int = 1


# The key of a daily count (its table's conflict target, with the origin): every field of an increment but ``n``.
COUNT_KEY: tuple[str, ...] = Increment._fields[:-1]


@dataclass(frozen=True)
class PendingRating:
    """A rating that came before its ticket's first event: counted once the ticket's codes are known."""

    day: date
    dissatisfied: bool


@dataclass(frozen=True)
class FactState:
    """One ticket's facts as the read model keeps them (``ticket_fact``)."""

    ticket_id: str
    report_id: str = ""
    category_code: str = ""
    channel: str = ""
    grid_code: str = ""
    village_code: str = ""
    town_code: str = ""
    registered_at: datetime | None = None
    registered_day: date | None = None
    state: str = ""
    deadline: datetime | None = None
    closed_at: datetime | None = None
    late: bool = False
    returned_n: int = 0
    reworked_n: int = 0
    reopened_n: int = 0
    escalated: bool = False
    merged_n: int = 0
    satisfaction: int | None = None
    solved: bool | None = None
    rated_n: int = 0
    seen: bool = False  # a ticket event was applied: the codes are known
    last_event_at: datetime | None = None
    last_actions: tuple[str, ...] = ()  # the actions applied at last_event_at
    rated_at: datetime | None = None
    rated_ids: tuple[str, ...] = ()  # the follow-ups rated at rated_at
    pending: tuple[PendingRating, ...] = field(default=())


def local_day(moment: datetime) -> date:
    """The local date (Asia/Shanghai) of a moment."""
    return moment.astimezone(CHINA).date()


def is_dissatisfied(satisfaction: int, solved: bool) -> bool:
    """A rating counted as dissatisfied: satisfaction 1–2, or the reporter says it is not solved."""
    return satisfaction <= 2 or not solved


def project(fact: FactState | None, event_type: str,
            payload: TicketEvent | FeedbackReceived) -> tuple[FactState, list[Increment]]:
    """The ticket's fact after this message and the counts it adds (none for a message applied before)."""
    if event_type == FEEDBACK_RECEIVED_TYPE:
        assert isinstance(payload, FeedbackReceived)
        return _rating(fact, payload)
    assert isinstance(payload, TicketEvent) and event_type.startswith(TICKET_PREFIX)
    return _ticket_event(fact, payload)


def _applied_before(fact: FactState | None, at: datetime, action: str) -> bool:
    """Whether the fact already holds this event (or a later one: one ticket's events come in order)."""
    if fact is None or fact.last_event_at is None:
        return False
    return at < fact.last_event_at or (at == fact.last_event_at and action in fact.last_actions)


def _ticket_event(fact: FactState | None, event: TicketEvent) -> tuple[FactState, list[Increment]]:
    at, action = event.occurred_at, event.action
    if _applied_before(fact, at, action):
        return fact, []  # type: ignore[return-value]
    before = fact or FactState(ticket_id=event.ticket_id)
    # One new fact per event, built from a dict (a history load projects millions of events: replace() per field
    # cost more than the rest of the projection).
    now = dict(before.__dict__)
    now.update(report_id=before.report_id or event.report_id, category_code=event.category_code,
               channel=event.channel or before.channel or "", grid_code=event.grid_code or "",
               village_code=event.village_code or "", town_code=event.town_code or "", state=event.to_state,
               seen=True, last_event_at=at,
               last_actions=(*before.last_actions, action) if before.last_event_at == at else (action,),
               deadline=event.deadline or before.deadline)
    day = local_day(at)
    key = (day, now["grid_code"], now["village_code"], now["town_code"], now["category_code"], now["channel"])
    out: list[Increment] = []
    late = before.late or event.sla_level == "red"
    if action == "register" and before.registered_at is None:
        now.update(registered_at=at, registered_day=day)
        out.append(Increment(*key, "registered"))
    elif action == "close":
        deadline = before.deadline or event.deadline  # the last deadline known before the closure
        late = late or (deadline is not None and at > deadline)
        now["closed_at"] = at
        out.append(Increment(*key, "closed"))
        if late:
            out.append(Increment(*key, "closed_late"))
    elif action in _COUNTED:
        counter, measure = _COUNTED[action]
        now[counter] += 1
        out.append(Increment(*key, measure))
    elif action == "escalate":
        late = True
        if not before.escalated:
            now["escalated"] = True
            out.append(Increment(*key, "escalated"))
    now["late"] = late
    if not before.seen and before.pending:
        # Ratings that came first are counted now, on their own days, with the codes this event gives.
        for rating in before.pending:
            out.append(Increment(rating.day, *key[1:], "rated"))
            if rating.dissatisfied:
                out.append(Increment(rating.day, *key[1:], "dissatisfied"))
        now["pending"] = ()
    return _fact(now), out


def _fact(values: dict) -> FactState:
    """A fact from a complete dict of its fields, without running ``__init__`` again (each was set by a checked
    fact or by this module: a history load makes millions of these)."""
    fact = object.__new__(FactState)
    object.__setattr__(fact, "__dict__", values)
    return fact


def _rating(fact: FactState | None, rating: FeedbackReceived) -> tuple[FactState, list[Increment]]:
    at, followup = rating.answered_at, str(rating.followup_id)
    if fact is not None and fact.rated_at is not None and (
            at < fact.rated_at or (at == fact.rated_at and followup in fact.rated_ids)):
        return fact, []
    before = fact or FactState(ticket_id=str(rating.ticket_id), report_id=str(rating.report_id),
                               channel=rating.channel or "")
    dissatisfied = is_dissatisfied(rating.satisfaction, rating.solved)
    now = replace(before, satisfaction=rating.satisfaction, solved=rating.solved, rated_n=before.rated_n + 1,
                  rated_at=at, rated_ids=(*before.rated_ids, followup) if before.rated_at == at else (followup,))
    day = local_day(at)
    if not before.seen:
        return replace(now, pending=(*before.pending, PendingRating(day, dissatisfied))), []
    key = (day, now.grid_code, now.village_code, now.town_code, now.category_code, now.channel)
    out = [Increment(*key, "rated")]
    if dissatisfied:
        out.append(Increment(*key, "dissatisfied"))
    return now, out
