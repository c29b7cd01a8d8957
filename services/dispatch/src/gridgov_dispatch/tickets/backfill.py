"""Bulk load of past cases (the demo city's history): tickets and their audit trail, made by dispatch's own rules.

Each case is routed by the published rule set (``rules.engine.decide`` on the routing context of the departments),
every step is checked by the lifecycle table (``lifecycle.apply``), each stage's deadline comes from the SLA clock
on the working calendar (``transitions._clock_after``, the very function a live transition uses), the clock's own
warnings 预警 and escalations 升级 are those the SLA scan would have made (``clocks.due_steps`` at the moment each
is due), and a bad rating reopens a case by the feedback rules (``feedback.backfill.Ratings``, passed in: feedback
builds on tickets, not the other way round). Each transition yields the
``TicketEvent`` a live one would publish (built by ``lifecycle.ticket_event``), returned to the caller for the
read models that learn from events (analytics).

No outbox messages: the history is old cases, closed long ago (and a few still open). Publishing them would make
notification write 200,000 inbox messages and follow-ups and intake replay every status; the caller loads intake's
reports and the analytics read model directly instead. Rows are written with multi-row inserts in chunks (one
short transaction each, so a running service's SQLite writer is never held up long), with deterministic ids and
ON CONFLICT DO NOTHING: a run interrupted half-way completes when run again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gridgov_common.db import bind_rows, positional_insert
from gridgov_common.demo_names import person_name_of
from gridgov_common.events.feedback import FeedbackReceived
from gridgov_common.events.tickets import TicketEvent, ticket_event_type
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.rules import engine as rules
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.tickets import handlers, lifecycle, transitions
from gridgov_dispatch.tickets.access import SYSTEM, TicketFacts
from gridgov_dispatch.tickets.lifecycle import Action, State
from gridgov_dispatch.tickets.models import Ticket, TicketTransition, clock_of, clock_values
from gridgov_dispatch.worktime import clock as clocks

CHUNK = 20_000  # cases per transaction
MIN_GAP = timedelta(minutes=20)  # a step never comes sooner than this after the last, however little time is left
NOTES = {
    "return": "非本部门职责，申请退单", "rule_return": "退单审核：维持原派遣，请按职责处置",
    "request_extension": "需协调多部门，申请延期", "approve_extension": "同意延期",
    "supervise": "超时未处置，请加快办理",
    "claim": None, "handle": "已按要求处置完毕", "verify": "现场核查通过", "rework": "现场核查未通过，问题仍存在，返工",
    "close": "结案", "refuse_extension": "理由不充分，驳回延期", "suspend": "等待外部条件，挂起", "resume": "恢复办理",
}


class PastStep(Protocol):
    """One planned step: an action, and the share of the stage's time left before it (or hours, no clock)."""

    action: str
    value: float


class PastRating(Protocol):
    """A reporter's answer to the follow-up (回访)."""

    satisfaction: int
    solved: bool


class PastCase(Protocol):
    """A past report and what became of it (``gridgov_cli.history.plan.PlannedCase`` has this shape)."""

    ticket_id: str | None
    report_id: str
    submitted_at: datetime
    channel: str
    category_code: str
    description: str
    lon: float
    lat: float
    reporter_id: str
    grid_code: str
    village_code: str
    town_code: str
    handled_on_spot: bool
    steps: Sequence[PastStep]
    rating: PastRating | None
    checker_id: str  # the grid worker who checks (核查) and closes it (a roster id; "" for ``gw-<grid code>``)


class RatingRules(Protocol):
    """What the feedback side decides about a past rating (``gridgov_dispatch.feedback.backfill.Ratings``)."""

    table: sa.Table  # where ratings are stored

    def row(self, feedback: FeedbackReceived) -> dict[str, Any]:
        """The stored rating of a reporter's answer."""
        ...

    def reopen_note(self, feedback: FeedbackReceived, state: str, department: str | None,
                    closed_at: datetime | None) -> str | None:
        """The audit note of the reopen a bad rating makes, or None when dispatch would leave the case closed."""
        ...


class Actor(NamedTuple):
    """Who took a past step (a tuple: millions are made)."""

    sub: str
    role: str
    department: str | None = None
    grid: str | None = None
    name: str | None = None


COMMAND_CENTRE = Actor("history-command-centre", "command_centre", name=person_name_of("history-command-centre"))


@dataclass
class Chunk:
    """What one chunk of cases made: counts, each case's final ticket (for intake) and the events (analytics)."""

    tickets: int = 0
    transitions: int = 0
    ratings: int = 0
    # report id → (state, department, deadline, last change) of its ticket
    finals: dict[str, tuple[str, str | None, datetime | None, datetime]] = field(default_factory=dict)
    events: list[tuple[str, TicketEvent | FeedbackReceived]] = field(default_factory=list)


_COLUMNS: tuple[str, ...] = tuple(Ticket.__table__.columns.keys())
_BLANK: dict[str, Any] = dict.fromkeys(_COLUMNS)


class _Ticket:
    """The ticket as it moves through its past (the columns a ``Ticket`` row has, as attributes; a plain object is
    cheaper): its ``__dict__`` holds exactly the columns, in the table's order, so it is its row."""

    def __init__(self, **values: Any) -> None:
        unknown = values.keys() - _BLANK.keys()
        if unknown:
            raise TypeError(f"not ticket columns: {sorted(unknown)}")
        self.__dict__.update(_BLANK)
        self.__dict__.update(values)

    def set(self, values: dict[str, Any]) -> None:
        """Change columns (a transition's values or clock)."""
        self.__dict__.update(values)

    def row(self) -> dict[str, Any]:
        """The ticket's row (its columns)."""
        return dict(self.__dict__)


def _event_id(ticket_id: str, seq: int) -> str:
    """A deterministic id of a past ticket's ``seq``-th transition's event (or of its rating): the uuid5 of
    ``"<ticket id>/<seq>"`` in the OID namespace, written out as ``str(uuid.uuid5(...))`` writes it (1.4 million
    are made: the hex digest is cut and the version and variant digits set here, without UUID objects)."""
    x = hashlib.sha1(_NS + f"{ticket_id}/{seq}".encode()).hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


def _evolve(base: TicketEvent, changes: dict[str, Any]) -> TicketEvent:
    """``base.model_copy(update=changes)`` for a ticket's next event, without pydantic's generic copy (1.3 million
    are made: 3.6 → 2.0 µs each). As there, nothing is validated again: the values come from the checked ticket."""
    event = object.__new__(TicketEvent)
    object.__setattr__(event, "__dict__", {**base.__dict__, **changes})
    object.__setattr__(event, "__pydantic_fields_set__", base.__pydantic_fields_set__ | changes.keys())
    object.__setattr__(event, "__pydantic_extra__", None)  # TicketEvent allows no extra fields
    object.__setattr__(event, "__pydantic_private__", None)  # nor private attributes
    return event


_NS = uuid.NAMESPACE_OID.bytes
_ACTIONS = {a.value: a for a in Action}
# the first hex digit of the 9th byte with the RFC 4122 variant bits (10xx) set
_VARIANT = {d: "89ab"[int(d, 16) & 0x3] for d in "0123456789abcdef"}


def trimmed_trace(decision: rules.Decision) -> str:
    """The decision as a past ticket stores it: the form dispatch stores when a trace is too long (the matching
    rules only, ``trace_trimmed``), so 200,000 past tickets do not carry every rule's verdict (~1 GB)."""
    data = decision.to_data()
    data["trace"] = [t for t in data["trace"] if t.get("matched")]
    data["trace_trimmed"] = True
    return json.dumps(data, ensure_ascii=False)[:handlers.TRACE_MAX]


class Router:
    """``rules.decide`` with a memory: a decision depends only on the facts the rules for its category look at.

    The trace is stored trimmed to the matching rules (``trimmed_trace``).

    The key holds, per category, exactly what those rules read (town, channel, the keywords found, the department
    areas they name, the local minute when one has hours …), so two reports with the same key get the same
    decision and trace; the first of them is decided by the engine itself.
    """

    def __init__(self, rule_set: rules.RuleSet, context: rules.RoutingContext):
        self.rule_set, self.context = rule_set, context
        self._relevant: dict[str, tuple[rules.Rule, ...]] = {}
        self._memo: dict[tuple, tuple[rules.Decision, str]] = {}

    def decide(self, facts: rules.ReportFacts) -> tuple[rules.Decision, str]:
        """The decision for a report and its trace as stored on the ticket."""
        key = self._key(facts)
        hit = self._memo.get(key)
        if hit is None:
            decision = rules.decide(facts, self.rule_set, self.context)
            hit = self._memo[key] = (decision, trimmed_trace(decision))
        return hit

    def _key(self, f: rules.ReportFacts) -> tuple:
        relevant = self._relevant.get(f.category_code)
        if relevant is None:
            relevant = self._relevant[f.category_code] = tuple(
                r for r in self.rule_set.rules
                if r.match.category_prefix is None or f.category_code.startswith(r.match.category_prefix))
        parts: list[Any] = [f.category_code, f.location_status, f.town_code, f.priority]
        for r in relevant:
            m = r.match
            parts.append((f.grid_code if m.grids is not None else None,
                          f.village_code if m.villages is not None else None,
                          tuple(sorted(m.department_areas & f.department_areas)) if m.department_areas else None,
                          f.channel if m.channels is not None else None,
                          next((k for k in m.keywords if k in f.description), None) if m.keywords else None,
                          f.at.astimezone(self.context.timezone).strftime("%H:%M") if m.hours else None))
        return tuple(parts)


class Loader:
    """Makes and writes the tickets of past cases, chunk by chunk.

    ``department_areas`` tells the department areas (责任区) at a case's point; it is asked once per point.
    """

    def __init__(self, ctx: DispatchContext, now: datetime, ratings: RatingRules,
                 department_areas: Callable[[PastCase], frozenset[str]] | None = None):
        self.ctx = ctx.snapshot()
        self.now = now
        self.cal, self.share = self.ctx.calendar(), self.ctx.warning_share
        with self.ctx.db.session() as session:
            routing = rule_sets.routing_context(session)
        self.router = Router(self.ctx.rule_set(), routing)
        self.active = {code for code, info in routing.departments.items() if info.active}
        self.department_areas = department_areas or (lambda _case: frozenset())
        self.rule_set_version = self.ctx.rule_set().version
        self.catalog_version = self.ctx.catalog().version
        self.ratings = ratings
        self._actors: dict[tuple[str, str], Actor] = {}
        self._areas: dict[tuple[float, float], tuple[frozenset[str], str]] = {}
        self._event_types: dict[str, str] = {}
        self._facts: dict[tuple[str | None, str | None], TicketFacts] = {}

    # --- one case ---------------------------------------------------------------------------------------------

    def case(self, case: PastCase, out: Chunk, trs: list[dict], ratings: list[dict]) -> dict[str, Any] | None:
        """Make one case's ticket (None: no ticket, e.g. answered at intake); its rows and events go to the lists."""
        if case.ticket_id is None:
            return None
        at = case.submitted_at
        areas, areas_text = self._areas_at(case)
        facts = rules.ReportFacts(
            category_code=case.category_code, channel=case.channel, description=case.description,
            location_status="located", town_code=case.town_code, village_code=case.village_code,
            grid_code=case.grid_code, department_areas=areas, priority="normal", at=at)
        routed, trace = (None, None) if case.handled_on_spot else self.router.decide(facts)
        t = _Ticket(
            id=case.ticket_id, report_id=case.report_id, category_code=case.category_code,
            description=case.description, lon=case.lon, lat=case.lat, reporter_id=case.reporter_id,
            grid_code=case.grid_code, village_code=case.village_code, town_code=case.town_code,
            location_status="located", state=lifecycle.apply(None, Action.REGISTER, SYSTEM,
                                                              TicketFacts(None, case.grid_code)).value,
            version=1, created_at=at, updated_at=at, channel=case.channel,
            department_areas=areas_text,
            priority=(routed.priority if routed else None) or "normal", decision_trace=trace,
            rule_set_version=self.rule_set_version if routed else None, catalog_version=self.catalog_version,
            deadline_provisional=False, sla_level="green", escalation_level=0, supervised=False, return_count=0,
            rework_count=0)
        base = lifecycle.ticket_event(t, Action.REGISTER.value, None, SYSTEM, routed.reason if routed else None, at,
                                      [])
        self._record(t, base, Action.REGISTER, None, SYSTEM, base.note, at, out, trs)
        if case.handled_on_spot:  # 自行处置: the grid worker's fix awaits verification, never dispatched
            self._step(t, base, Action.HANDLE, SYSTEM, f"handled on the spot by {case.reporter_id}", at, out, trs)
        prev = at
        rating: FeedbackReceived | None = None
        for n, step in enumerate(case.steps):
            if step.action == "dispatch":
                if routed is None or routed.department not in self.active:
                    break  # 人工分拨: left for the command centre's triage
                due = at
            elif step.action == "reopen":  # dispatch reopens as the rating arrives
                due = prev + timedelta(minutes=1)
            else:
                due = self._when(t, prev, step.value)
            if due > self.now:
                break  # not happened yet: the case is still open
            self._clock_steps(t, base, due, out, trs)
            if step.action == "rate":
                rating = self._rate(t, case, n, due, out, ratings)
            elif step.action == "reopen":
                assert rating is not None, "a reopen follows a rating"
                note = self.ratings.reopen_note(rating, t.state, t.department, t.closed_at)
                if note is None:
                    raise ValueError(f"case {case.report_id}: dispatch would not reopen after this rating")
                self._step(t, base, Action.REOPEN, SYSTEM, note, due, out, trs,
                           {"rework_count": t.rework_count + 1, "closed_at": None})
            else:
                self._act(t, base, _ACTIONS[step.action], routed, due, out, trs, case.checker_id)
            prev = due
        if t.state != State.CLOSED.value:
            self._clock_steps(t, base, self.now, out, trs)
        out.finals[case.report_id] = (t.state, t.department, t.deadline, t.updated_at)
        return t.row()

    def _areas_at(self, case: PastCase) -> tuple[frozenset[str], str]:
        """The department areas at the case's point, and as the ticket stores them (asked once per point)."""
        point = (case.lon, case.lat)
        hit = self._areas.get(point)
        if hit is None:
            areas = self.department_areas(case)
            hit = self._areas[point] = (areas, ",".join(sorted(areas)))
        return hit

    def _when(self, t: _Ticket, prev: datetime, value: float) -> datetime:
        """When a step comes: a share of the running stage's time left, or hours when no clock runs."""
        if t.stage is not None and t.paused_at is None and t.deadline is not None:
            left = t.deadline - prev
            if left <= timedelta(0):  # already late: count in lengths of the whole stage
                left = t.deadline - t.stage_started_at
            return prev + max(left * value, MIN_GAP)
        return prev + max(timedelta(hours=value), MIN_GAP)

    def _clock_steps(self, t: _Ticket, base: TicketEvent, until: datetime, out: Chunk, trs: list[dict]) -> None:
        """The SLA scan's warnings and escalations due by ``until``, each at its moment."""
        while t.next_check_at is not None and t.next_check_at <= until and t.state in lifecycle.STAGE_OF:
            moment = t.next_check_at
            steps, after = clocks.due_steps(self.cal, clock_of(t), moment, self.share)  # type: ignore[arg-type]
            if not steps:
                t.next_check_at = after.next_check_at
                continue
            for step in steps:
                changes = {"sla_level": "yellow" if step.action == "warn" else "red",
                           "escalation_level": step.level or t.escalation_level}
                self._step(t, base, Action(step.action), SYSTEM, step.note, moment, out, trs, changes,
                           clock=after if step is steps[-1] else None)

    def _actor(self, role: str, who: str, grid: str | None = None) -> Actor:
        """A department's dispatcher (``who``: the department), or grid worker ``who`` of ``grid`` (``who`` empty:
        ``gw-<grid>`` stands in for a grid without a roster)."""
        key = (role, who, grid)
        actor = self._actors.get(key)
        if actor is None:
            if role == "dept_dispatcher":
                sub = f"{who}-dispatcher"
                actor = Actor(sub, role, department=who, name=person_name_of(sub))
            else:
                actor = Actor(who or f"gw-{grid}", role, grid=grid)
            self._actors[key] = actor
        return actor

    def _act(self, t: _Ticket, base: TicketEvent, action: Action, routed: rules.Decision | None, at: datetime,
             out: Chunk, trs: list[dict], checker: str = "") -> None:
        """A person's (or the rules') step, with what it changes besides the state and clock (as ``handlers``)."""
        changes: dict[str, Any] = {}
        if action is Action.DISPATCH:
            assert routed is not None and routed.department is not None
            actor, note = SYSTEM, routed.reason
            changes = {"department": routed.department, "first_department": routed.department}
        elif action in (Action.CLAIM, Action.HANDLE, Action.RETURN, Action.REQUEST_EXTENSION):
            actor, note = self._actor("dept_dispatcher", t.department), NOTES[action.value]
            if action is Action.RETURN:
                changes = {"return_count": t.return_count + 1}
            elif action is Action.REQUEST_EXTENSION:  # one more working day, in the stage clock's unit
                unit = t.stage_limit_unit or "working_days"
                changes = {"extension_s": self.cal.working_seconds_between(
                    at, self.cal.add(at, 1, "working_days").at, unit)}
        elif action in (Action.VERIFY, Action.REWORK, Action.CLOSE):
            actor, note = self._actor("grid_worker", checker, t.grid_code), NOTES[action.value]
            if action is Action.REWORK:
                changes = {"rework_count": t.rework_count + 1, "closed_at": None}
        else:  # the command centre's: rule a return, approve an extension, supervise
            actor, note = COMMAND_CENTRE, NOTES[action.value]
            if action is Action.RULE_RETURN:
                changes = {"department": t.department, "first_department": t.first_department or t.department}
            elif action is Action.APPROVE_EXTENSION:
                changes = {"extension_s": None}
            elif action is Action.SUPERVISE:
                changes = {"supervised": True}
        self._step(t, base, action, actor, note, at, out, trs, changes)

    def _step(self, t: _Ticket, base: TicketEvent, action: Action, actor: Any, note: str | None, at: datetime,
              out: Chunk, trs: list[dict], changes: dict[str, Any] | None = None,
              clock: clocks.Clock | None = None) -> None:
        """One transition as ``transitions.transition`` makes it: table, clock, columns, audit row, event."""
        source = t.state
        facts = self._facts.get((t.department, t.grid_code))
        if facts is None:  # immutable, so one per department and grid
            facts = self._facts[(t.department, t.grid_code)] = TicketFacts(t.department, t.grid_code)
        target = lifecycle.apply(source, action, actor, facts)
        t.state, t.updated_at = target.value, at
        if changes:
            t.set(changes)
        if target is State.CLOSED:
            t.closed_at = at
        after = clock or transitions._clock_after(self.ctx, t, action, target, at)  # type: ignore[arg-type]
        if after is not None:
            t.set(clock_values(after))
        t.version += 1
        self._record(t, base, action, source, actor, note, at, out, trs)

    def _record(self, t: _Ticket, base: TicketEvent, action: Action, source: str | None, actor: Any,
                note: str | None, at: datetime, out: Chunk, trs: list[dict]) -> None:
        """The audit row and the event of the transition just made (the event a copy of the ticket's first one,
        built by ``lifecycle.ticket_event``, with what changed)."""
        name = action.value
        event = base if action is Action.REGISTER else _evolve(base, {
            "action": name, "from_state": source, "to_state": t.state, "department": t.department,
            "deadline": t.deadline, "actor_id": actor.sub, "actor_role": actor.role, "note": note,
            "occurred_at": at, "priority": t.priority, "stage": t.stage,
            "deadline_provisional": t.deadline_provisional, "sla_level": t.sla_level,
            "escalation_level": t.escalation_level, "supervised": t.supervised})
        trs.append({"ticket_id": t.id, "seq": t.version, "action": name, "from_state": source,
                    "to_state": t.state, "actor_id": actor.sub, "actor_role": actor.role,
                    "actor_name": actor.name, "note": note, "photos": None, "event_id": _event_id(t.id, t.version),
                    "geofence": None, "at": at})
        kind = self._event_types.get(name)
        if kind is None:
            kind = self._event_types[name] = ticket_event_type(name)
        out.events.append((kind, event))

    def _rate(self, t: _Ticket, case: PastCase, n: int, at: datetime, out: Chunk,
              ratings: list[dict]) -> FeedbackReceived:
        """The reporter's answer to the follow-up: dispatch's rating row and the ``feedback.received`` payload."""
        assert case.rating is not None, "a rate step needs the case's rating"
        followup = _event_id(t.id, 1000 + n)
        feedback = FeedbackReceived(
            followup_id=followup, ticket_id=t.id, report_id=case.report_id, reporter_id=case.reporter_id,
            channel=case.channel, solved=case.rating.solved, satisfaction=case.rating.satisfaction,
            answered_at=at, answered_by="reporter", closed_at=t.closed_at)
        ratings.append(self.ratings.row(feedback))
        out.events.append(("feedback.received", feedback))
        return feedback

    # --- chunks -----------------------------------------------------------------------------------------------

    def load(self, cases: Iterable[PastCase], chunk: int = CHUNK) -> Iterator[Chunk]:
        """Make and write the tickets of ``cases``, one transaction per ``chunk`` cases; yields each chunk."""
        batch: list[PastCase] = []
        for case in cases:
            batch.append(case)
            if len(batch) >= chunk:
                yield self.write(batch)
                batch = []
        if batch:
            yield self.write(batch)

    def write(self, cases: Sequence[PastCase]) -> Chunk:
        """Make one chunk of tickets and insert them (ON CONFLICT DO NOTHING) in one transaction."""
        out = Chunk()
        tickets: list[dict] = []
        trs: list[dict] = []
        ratings: list[dict] = []
        for case in cases:
            row = self.case(case, out, trs, ratings)
            if row is not None:
                tickets.append(row)
        db = self.ctx.db
        # The page cache of a bulk load is the caller's to set on its own engine (``gridgov history generate``
        # does, for the load only): this engine may be a live service's, whose pooled connections keep pragmas.
        with db.engine.begin() as conn:
            for table, rows in ((Ticket.__table__, tickets), (TicketTransition.__table__, trs),
                                (self.ratings.table, ratings)):
                if rows:
                    insert_rows(conn, table, rows)
        out.tickets, out.transitions, out.ratings = len(tickets), len(trs), len(ratings)
        return out


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` of ``rows`` (dicts with the same keys) as one driver ``executemany``,
    each value through its column's own bind processor (``gridgov_common.db.bind_rows``): SQLAlchemy's per-row
    parameter handling was ~20 % of the history's CPU with 1.4 million audit rows."""
    keys = list(rows[0])
    sql, processors = positional_insert(conn.dialect, table, keys)
    values = list(map(itemgetter(*keys), rows)) if len(keys) > 1 else [(row[keys[0]],) for row in rows]
    conn.exec_driver_sql(sql, bind_rows(values, processors))


def insert_ignore(dialect: str, table: sa.Table) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING on SQLite or PostgreSQL: a row loaded before stays as it is."""
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return ins.on_conflict_do_nothing()
