"""Grouping: what each accepted alarm does to its alarm group, and what a ticket's end does to its group.

The consumer of ``gridgov.alarms.received`` (``sensing.alarms``) takes each alarm in the batch's transaction:

1. the suppression verdict (``suppression/engine.py``): enforced rules hold a firing alarm back (it is logged with
   the rule, opens and counts nothing); monitored rules are recorded on the alarm and its group;
2. a firing alarm closes its fingerprint's quiet group first (no case, nothing within the type's dedupe window),
   then ``INSERT … ON CONFLICT (fingerprint) WHERE is_open DO UPDATE``: it opens the group or counts into it —
   the database decides, so two consumers or two transactions never open two groups;
3. a NEW group follows its type's case policy: ``auto`` → ``report.received`` (outbox), ``verify_first`` → a 核实
   task for the grid, ``record_only`` → recorded;
4. a repeat on a case tells dispatch (``alarm_group.repeated``) at most once per ``repeat_event_interval_s``;
5. a resolved alarm closes a group without a case; on a case it records ``resolved_at`` and tells dispatch
   (``alarm_group.resolved``), and the group stays open — firing again after it is a flap; a flapping group's
   "resolved" is not passed on (a rocking sensor must not verify its own case).

The consumer of ``gridgov.tickets.events`` (``sensing.tickets``) follows the ticket of each case and closes the
group when its ticket closes; the next alarm of that fingerprint opens a new group (and case).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    event,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gridgov_common import ids
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import ALARMS_EVENTS, REPORTS_RECEIVED
from gridgov_common.db import Database, unnest_sql, write_outbox
from gridgov_common.events.alarms import (
    ALARM_GROUP_REPEATED,
    ALARM_GROUP_RESOLVED,
    AlarmGroupEvent,
    AlarmReceived,
)
from gridgov_common.events.tickets import TicketEvent
from gridgov_sensing.alarms import cases
from gridgov_sensing.alarms.directory import Directory, TypeFacts, directory_of
from gridgov_sensing.alarms.models import OPEN_INDEX, OPEN_TYPE_INDEX, Alarm, AlarmGroup
from gridgov_sensing.alarms.storage import row_values
from gridgov_sensing.suppression.engine import Candidate, FlapDetector, Verdict, evaluate, needs_sources
from gridgov_sensing.suppression.service import VERSION_NAME, RuleBook, inhibit_sources, utc
from gridgov_sensing.verification.models import VerificationTask

SERVICE = "sensing"
SOURCES_MAX = 200  # open superior groups looked at for one alarm's inhibition
# States of an open group that has no case yet and may close when quiet (pending_verification waits for the
# worker instead: the task is theirs to decide).
QUIET_CLOSABLE = ("open", "recorded")
CASE_CHANNELS = frozenset({"video_ai", "iot"})  # the channels of the reports sensing files
INITIAL_STATE = {"auto": "case", "verify_first": "pending_verification", "record_only": "recorded"}

G = AlarmGroup.__table__
A = Alarm.__table__
T = VerificationTask.__table__


@dataclass
class GroupingContext:
    """What a batch of alarms needs besides its transaction: the directory, the rules, the clock, the settings."""

    db: Database
    directory: Directory
    types: dict[str, TypeFacts]
    rules: tuple
    sources: frozenset[str]
    repeat_interval: timedelta
    now: Callable[[], datetime]


_rulebooks: weakref.WeakKeyDictionary[Database, RuleBook] = weakref.WeakKeyDictionary()


def grouping_context(db: Database, repeat_interval_s: int,
                     now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> GroupingContext:
    """The context of one batch: caches refreshed by their version counters (one small query)."""
    directory = directory_of(db)
    book = _rulebooks.get(db) or _rulebooks.setdefault(db, RuleBook())
    with db.session() as session:
        versions = directory.refresh(session)
        rules = book.rules(session, versions.get(VERSION_NAME, 0))
        session.commit()
    return GroupingContext(db, directory, directory.types(), rules, inhibit_sources(rules),
                           timedelta(seconds=repeat_interval_s), now)


# --- alarms ------------------------------------------------------------------------------------------------------


def group_alarm(ctx: GroupingContext, session: Session, envelope: Envelope) -> None:
    """Apply one accepted alarm (``alarm.received``) to its group, in the batch's transaction."""
    received = AlarmReceived.model_validate(envelope.payload)
    alarm = received.alarm
    kind = ctx.types.get(alarm.alarm_type)
    if kind is None:  # types are never deleted; a message naming none is not ours to guess about
        raise ValueError(f"unknown alarm type {alarm.alarm_type!r}")
    occurred = alarm.occurred_at.astimezone(UTC)
    candidate = Candidate(alarm.alarm_type, alarm.device_id, received.grid_code, received.village_code,
                          received.town_code, alarm.confidence, occurred, dict(alarm.labels))
    row: dict[str, Any] = {
        "id": str(envelope.id), "alarm_id": alarm.alarm_id, "fingerprint": received.fingerprint,
        "alarm_type": alarm.alarm_type, "device_id": alarm.device_id, "grid_code": received.grid_code,
        "village_code": received.village_code, "town_code": received.town_code, "state": alarm.state,
        "severity": alarm.severity, "occurred_at": occurred, "received_at": ctx.now(),
        "confidence": alarm.confidence,
        "evidence": alarm.evidence.model_dump(mode="json", exclude_none=True) if alarm.evidence else None,
        "labels": dict(alarm.labels), "source": received.source, "suppressed_by": None, "monitored_by": [],
    }
    if alarm.state == "firing":
        sources = _sources(session, ctx, candidate) if needs_sources(ctx.rules, candidate) else []
        verdict = evaluate(candidate, ctx.rules, sources, kind.min_confidence)
        row["monitored_by"] = list(verdict.monitored_by)
        if verdict.suppressed:
            row.update(verdict="suppressed", suppressed_by=verdict.suppressed_by, group_id=None)
        else:
            row["verdict"] = "grouped"
            _stage_fire(session, ctx, received, kind, row, verdict)
    else:
        _flush_fires(session, received.fingerprint)  # the firing alarms before it, first
        group_id = _resolve(session, ctx, received, kind, occurred)
        row.update(verdict="grouped" if group_id else "unmatched", group_id=group_id)
    _batch(session).rows.append(row)


# --- the batch: firing runs folded, log rows written at once ------------------------------------------------------
#
# A batch's consecutive firing alarms of one fingerprint (one partition keeps them together) are one upsert with
# their count, and every alarm's log row is written in one multi-row INSERT, both just before the batch's
# transaction commits (the session's before_commit): what one statement per alarm cost was SQLAlchemy's, not the
# database's. A resolved alarm first flushes its fingerprint's pending run, so the order of events holds; where
# inhibit rules exist, runs are flushed at once (a source opened earlier in the batch must be visible).

_BATCH = "sensing_grouping_batch"


@dataclass
class _Run:
    """Consecutive firing alarms of one fingerprint, not yet applied to the group."""

    ctx: GroupingContext
    received: AlarmReceived  # the first alarm's (a new group's case is described by it)
    kind: TypeFacts
    row: dict[str, Any]
    verdict: Verdict
    rows: list[dict[str, Any]]
    first_seen: datetime
    last_seen: datetime
    evidence: dict[str, Any] | None
    labels: dict[str, str]


@dataclass
class _Batch:
    runs: dict[str, _Run]
    rows: list[dict[str, Any]]


def _batch(session: Session) -> _Batch:
    found = session.info.get(_BATCH)
    if found is None:
        found = session.info[_BATCH] = _Batch({}, [])
        event.listen(session, "before_commit", _before_commit)
        event.listen(session, "after_rollback", _forget)
    return found


def _stage_fire(session: Session, ctx: GroupingContext, received: AlarmReceived, kind: TypeFacts,
                row: dict[str, Any], verdict: Verdict) -> None:
    """Fold a firing alarm into its fingerprint's pending run (applied at the latest before commit)."""
    runs = _batch(session).runs
    occurred: datetime = row["occurred_at"]
    run = runs.get(received.fingerprint)
    if run is None:
        runs[received.fingerprint] = _Run(ctx, received, kind, row, verdict, [row], occurred, occurred,
                                          row["evidence"], row["labels"])
    else:
        run.rows.append(row)
        run.first_seen = min(run.first_seen, occurred)
        if occurred >= run.last_seen:
            run.last_seen, run.labels = occurred, row["labels"]
            if row["evidence"] is not None:
                run.evidence = row["evidence"]
    if ctx.sources:
        _flush_fires(session, received.fingerprint)


def _flush_fires(session: Session, fingerprint: str | None = None) -> None:
    """Apply the pending runs (of one fingerprint, or all) to their groups."""
    runs = _batch(session).runs
    for key in [fingerprint] if fingerprint is not None else list(runs):
        run = runs.pop(key, None)
        if run is None:
            continue
        group_id = _fire(session, run)
        for row in run.rows:
            row["group_id"] = group_id


def _flush_all(session: Session) -> None:
    """Apply every pending run of the batch: several at once with one multi-row upsert (``_fire_many``)."""
    runs = _batch(session).runs
    if len(runs) <= 1:
        _flush_fires(session)  # one statement, the quiet check in its own WHERE
        return
    pending = list(runs.values())
    runs.clear()
    for run, group_id in zip(pending, _fire_many(session, pending), strict=True):
        for row in run.rows:
            row["group_id"] = group_id


def _before_commit(session: Session) -> None:
    batch = session.info.get(_BATCH)
    if batch is None:
        return
    _flush_all(session)
    if batch.rows:
        _write_log(session.connection(), batch.rows)
        batch.rows.clear()
    # OutboxSession.commit wrote the outbox rows staged before this hook ran; write the ones the runs just staged
    # (cases, repeats) the same way, in staging order.
    late = session.info.pop("outbox_rows", None)
    if late:
        write_outbox(session, [(r["topic"], r["key"], r["message_id"], r["value"], r["created_at"]) for r in late])


_LOG_COLUMNS = tuple(c.name for c in A.columns)
_log_sql: dict[str, str] = {}


def _write_log(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """The batch's alarm log rows in one driver call, the values converted here (times in UTC, JSON by
    orjson): SQLAlchemy's per-value processing of every row cost more than the insert itself."""
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        conn.execute(insert(A), rows)
        return
    sqlite = dialect == "sqlite"
    sql = _log_sql.get(dialect)
    if sql is None:
        quote = conn.dialect.identifier_preparer.quote
        into = f"INSERT INTO {quote(A.name)} ({', '.join(quote(c) for c in _LOG_COLUMNS)}) "
        sql = _log_sql[dialect] = (into + f"VALUES ({', '.join('?' for _ in _LOG_COLUMNS)})" if sqlite
                                   else into + unnest_sql(A, _LOG_COLUMNS, conn.dialect))
    values = _converters(dialect, A, _LOG_COLUMNS)
    if sqlite:  # sqlite3's executemany: one prepared statement stepped per row, in C
        conn.exec_driver_sql(sql, [values(row) for row in rows])
    else:  # one statement whatever the row count (psycopg's executemany sends a statement per row)
        conn.exec_driver_sql(sql, tuple(list(column) for column in zip(*map(values, rows), strict=True)))


_row_values: dict[tuple[str, str], Callable[[dict[str, Any]], tuple]] = {}


def _converters(dialect: str, table: Any, columns: Sequence[str]) -> Callable[[dict[str, Any]], tuple]:
    """``storage.row_values`` of a table's columns, built once per dialect."""
    found = _row_values.get((dialect, table.name))
    if found is None:
        found = _row_values[(dialect, table.name)] = row_values(table, columns, dialect == "sqlite")
    return found


def _forget(session: Session) -> None:
    batch = session.info.get(_BATCH)
    if batch is not None:
        batch.runs.clear()
        batch.rows.clear()


SOURCE_STATES = ("case", "pending_verification", "recorded", "open")  # a superior group that still counts
_SOURCE_COLUMNS = (G.c.alarm_type, G.c.device_id, G.c.grid_code, G.c.village_code, G.c.town_code, G.c.last_seen,
                   G.c.labels)
_SOURCES_SQLITE: dict[tuple[str, ...], Any] = {}


def _sql_strings(values: Sequence[str]) -> str:
    """Fixed codes (states) as SQL string literals for an ``IN (…)`` written out in a statement's text."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _sources_sqlite(present: tuple[str, ...]) -> Any:
    """``_sources``' query on SQLite for the places the alarm has (built once per combination): the same
    conditions, by ``ix_alarm_group_open_type`` (see ``_OPEN_OF_SQLITE`` for why the index is named). With 212,000
    open groups, a sixteenth of them of the superior type, one look-up took 56.6 ms walking every open group and
    12.0 ms by this index (``bench/sensing_open_groups.py``, median of five, 200 sources found)."""
    found = _SOURCES_SQLITE.get(present)
    if found is None:
        found = _SOURCES_SQLITE[present] = text(
            f"SELECT {', '.join(col.name for col in _SOURCE_COLUMNS)} FROM alarm_group INDEXED BY {OPEN_TYPE_INDEX} "
            f"WHERE alarm_type IN :sources AND is_open AND resolved_at IS NULL "
            f"AND state IN ({_sql_strings(SOURCE_STATES)}) "
            f"AND ({' OR '.join(f'{name} = :{name}' for name in present)}) LIMIT {SOURCES_MAX}"
        ).bindparams(bindparam("sources", expanding=True)).columns(*_SOURCE_COLUMNS)
    return found


def _sources(session: Session, ctx: GroupingContext, c: Candidate) -> list[Candidate]:
    """The open, firing groups of an inhibit rule's superior types around the alarm (none when no rule needs
    them)."""
    if not ctx.sources:
        return []
    places = {"grid_code": c.grid_code, "village_code": c.village_code, "town_code": c.town_code}
    present = tuple(name for name, value in places.items() if value is not None)
    if not present:
        return []
    if _sqlite(session):  # by the open groups of the superior types, never a walk of every open group
        rows = session.execute(_sources_sqlite(present), {"sources": sorted(ctx.sources), **places})
    else:
        rows = session.execute(select(*_SOURCE_COLUMNS)
                               .where(G.c.is_open, G.c.resolved_at.is_(None), G.c.alarm_type.in_(sorted(ctx.sources)),
                                      G.c.state.in_(SOURCE_STATES), or_(*(G.c[name] == places[name]
                                                                          for name in present)))
                               .limit(SOURCES_MAX))
    return [Candidate(r.alarm_type, r.device_id, r.grid_code, r.village_code, r.town_code, None,
                      utc(r.last_seen), dict(r.labels or {})) for r in rows]


# The hot path's statements are built once per dialect with bound parameters: building SQLAlchemy constructs per
# alarm cost more than executing them.
_INSERT_COLUMNS = ("id", "fingerprint", "alarm_type", "catalog_code", "kind", "device_id", "device_kind",
                   "owner_department", "grid_code", "village_code", "town_code", "lon", "lat", "state", "is_open",
                   "count", "first_seen", "last_seen", "flaps", "flapping", "refired", "state_changes", "report_id",
                   "monitored_by", "last_evidence", "labels", "last_event_at", "created_at")
_upserts: dict[str, Any] = {}


def _upsert_statement(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (fingerprint) WHERE is_open DO UPDATE … WHERE <not quiet> RETURNING …``.

    The DO UPDATE's own WHERE leaves a quiet group without a case alone (nothing returned): the caller then closes
    it and inserts again — so the common case, a repeat, is one statement.
    """
    found = _upserts.get(dialect)
    if found is not None:
        return found
    insert_of = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert_of(G).values({c: bindparam(c, type_=G.c[c].type) for c in _INSERT_COLUMNS})
    found = _upserts[dialect] = stmt.on_conflict_do_update(
        index_elements=[G.c.fingerprint], index_where=G.c.is_open, set_=_counted_into(stmt.excluded),
        # Plain comparisons, not NOT IN: an expanding IN is re-rendered at every execution.
        where=or_(G.c.report_id.is_not(None), and_(*(G.c.state != s for s in QUIET_CLOSABLE)),
                  G.c.last_seen >= bindparam("quiet_before", type_=G.c.last_seen.type)),
    ).returning(*_RETURNED)
    return found


def _counted_into(ex: Any) -> dict[str, Any]:
    """The DO UPDATE of a run counted into the open group (``ex``: the statement's ``excluded`` row)."""
    later = ex.last_seen >= G.c.last_seen
    return {
        "count": G.c.count + ex.count,
        "last_seen": case((later, ex.last_seen), else_=G.c.last_seen),
        "first_seen": case((ex.first_seen < G.c.first_seen, ex.first_seen), else_=G.c.first_seen),
        "last_evidence": case((and_(later, ex.last_evidence.is_not(None)), ex.last_evidence),
                              else_=G.c.last_evidence),
        "labels": case((later, ex.labels), else_=G.c.labels),
        # Firing after a resolved is a flap; ``refired`` tells this statement's caller it was one. Literals, not
        # bound values: a bound value outside VALUES would stop SQLAlchemy from sending many rows as one statement.
        "flaps": G.c.flaps + case((G.c.resolved_at.is_not(None), literal_column("1")), else_=literal_column("0")),
        "refired": G.c.resolved_at.is_not(None),
        "resolved_at": null(),
    }


_RETURNED = (G.c.id, G.c.fingerprint, G.c.count, G.c.state, G.c.report_id, G.c.refired, G.c.state_changes,
             G.c.first_seen, G.c.last_seen, G.c.last_evidence, G.c.device_id, G.c.last_event_at)
_upserts_many: dict[str, Any] = {}


def _upsert_many_statement(dialect: str) -> Any:
    """The same upsert for many runs of distinct fingerprints in one statement (executed with a list of rows,
    SQLAlchemy's "insertmanyvalues" renders one multi-row VALUES), without the quiet check: a run's dedupe window
    is its own and a DO UPDATE's WHERE can only see the target and ``excluded`` rows, so ``_fire_many`` closes
    the quiet groups first."""
    found = _upserts_many.get(dialect)
    if found is None:
        stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(G)
        found = _upserts_many[dialect] = stmt.on_conflict_do_update(
            index_elements=[G.c.fingerprint], index_where=G.c.is_open, set_=_counted_into(stmt.excluded),
        ).returning(*_RETURNED)
    return found


_CLOSE_QUIET = update(G).where(
    G.c.fingerprint == bindparam("b_fingerprint"), G.c.is_open, G.c.report_id.is_(None),
    or_(*(G.c.state == s for s in QUIET_CLOSABLE)),
    G.c.last_seen < bindparam("quiet_before", type_=G.c.last_seen.type),
).values(is_open=False, state="closed", closed_at=bindparam("b_now", type_=G.c.closed_at.type))

# On SQLite the statements that find open groups by fingerprint (or a case's by report id) name their index.
# Why (issue #16): SQLite has no statistics here, and ``is_open = 1`` (how SQLAlchemy writes the condition) is an
# equality on the leading column of ``ix_alarm_group_open_grid``; the planner chose that index and walked every open
# group for each statement. Harmless with a few thousand groups, it was 76 % of the grouping consumer's samples in a
# replay of 1,000,000 alarms over 222,401 fingerprints (332.6 ms per 500-fingerprint query; 0.8 ms by the open
# groups' unique index). ``INDEXED BY`` makes the plan the statement's own: SQLite refuses the statement rather than
# walk another index, and the bare ``is_open`` is the partial index's own condition. PostgreSQL keeps its planner
# (it has statistics, and proves ``is_open = true`` implies the partial index's ``is_open``).
_QUIET_OF_SQLITE = text(
    f"SELECT fingerprint, last_seen FROM alarm_group INDEXED BY {OPEN_INDEX} WHERE fingerprint IN :prints "
    f"AND is_open AND report_id IS NULL AND state IN ({_sql_strings(QUIET_CLOSABLE)})"
).bindparams(bindparam("prints", expanding=True)).columns(G.c.fingerprint, G.c.last_seen)
_CLOSE_QUIET_SQLITE = text(
    f"UPDATE alarm_group INDEXED BY {OPEN_INDEX} SET is_open = 0, state = 'closed', closed_at = :b_now "
    f"WHERE fingerprint = :b_fingerprint AND is_open AND report_id IS NULL "
    f"AND state IN ({_sql_strings(QUIET_CLOSABLE)}) AND last_seen < :quiet_before"
).bindparams(bindparam("b_now", type_=G.c.closed_at.type), bindparam("quiet_before", type_=G.c.last_seen.type))
_OPEN_OF_SQLITE = text(
    f"SELECT {', '.join(c.name for c in G.c)} FROM alarm_group INDEXED BY {OPEN_INDEX} "
    "WHERE fingerprint = :fingerprint AND is_open").columns(*G.c)
# PostgreSQL has statistics, but they lag a table that grows fast (a new deployment, a storm), and psycopg
# prepares a statement run five times: its generic plan for ``fingerprint IN ($1 … $500) AND is_open …`` then read
# every open group and compared each with the whole list — 2.0 s per 500 fingerprints at 100,000 groups, against
# 0.6 ms for this form, one index probe per fingerprint whatever the plan (a LATERAL subquery must be a nested loop;
# ``db.handled_lookup`` is the same fix, bench/handled_lookup.py measures it).
_QUIET_OF_POSTGRES = text(
    "SELECT g.fingerprint, g.last_seen FROM unnest(CAST(:prints AS varchar[])) AS f(fp) CROSS JOIN LATERAL "
    "(SELECT fingerprint, last_seen FROM alarm_group WHERE fingerprint = f.fp AND is_open AND report_id IS NULL "
    f"AND state IN ({_sql_strings(QUIET_CLOSABLE)}) LIMIT 1) AS g"
).columns(G.c.fingerprint, G.c.last_seen)
_OPEN_OF_REPORTS_SQLITE = text(
    "SELECT id FROM alarm_group INDEXED BY ix_alarm_group_report_id WHERE report_id IN :report_ids AND is_open"
).bindparams(bindparam("report_ids", expanding=True)).columns(G.c.id)


def _sqlite(session_or_conn: Session | Connection) -> bool:
    """Whether the statement runs on SQLite (where the open groups' statements name their index)."""
    bind = session_or_conn.get_bind() if isinstance(session_or_conn, Session) else session_or_conn
    return bind.dialect.name == "sqlite"


def _group_params(run: _Run, now: datetime) -> dict[str, Any]:
    """The row a run would open as a new group (its id new; a case's report id derived from it)."""
    received, kind = run.received, run.kind
    new_id = ids.new_id()
    state = INITIAL_STATE.get(kind.case_policy, "recorded")
    report_id = cases.report_id_of(new_id) if state == "case" else None
    return {
        "id": new_id, "fingerprint": received.fingerprint, "alarm_type": kind.code, "catalog_code": kind.catalog_code,
        "kind": kind.kind, "device_id": run.row["device_id"], "device_kind": received.device_kind,
        "owner_department": received.owner_department, "grid_code": received.grid_code,
        "village_code": received.village_code, "town_code": received.town_code, "lon": received.lon,
        "lat": received.lat, "state": state, "is_open": True, "count": len(run.rows), "first_seen": run.first_seen,
        "last_seen": run.last_seen, "flaps": 0, "flapping": False, "refired": False, "state_changes": [],
        "report_id": report_id, "monitored_by": list(run.verdict.monitored_by), "last_evidence": run.evidence,
        "labels": run.labels, "last_event_at": now if report_id else None, "created_at": now,
    }


def _quiet_before(run: _Run) -> datetime:
    """An open group without a case last seen before this is over for the run (its type's dedupe window)."""
    return run.first_seen - timedelta(seconds=run.kind.dedupe_window_s)


def _fire(session: Session, run: _Run) -> str:
    """Open the fingerprint's group with a run of firing alarms, or count them into it; a new group follows the
    case policy. Returns the group id."""
    now = run.ctx.now()
    conn = session.connection()
    quiet_before = _quiet_before(run)
    params = _group_params(run, now)
    params["quiet_before"] = quiet_before
    upsert = _upsert_statement(conn.dialect.name)
    group = conn.execute(upsert, params).first()
    if group is None:
        # The open group is quiet and has no case: it is over, and this run starts a new one.
        conn.execute(_CLOSE_QUIET_SQLITE if _sqlite(conn) else _CLOSE_QUIET,
                     {"b_fingerprint": run.received.fingerprint, "quiet_before": quiet_before, "b_now": now})
        group = conn.execute(upsert, params).one()
    tasks: list[dict[str, Any]] = []
    _after_fire(session, run, group, params, now, tasks)
    if tasks:
        session.execute(insert(T), tasks)
    return group.id


FETCH_CHUNK = 500  # fingerprints per IN list (far below SQLite's 32,766 variables)


def _fire_many(session: Session, runs: Sequence[_Run]) -> list[str]:
    """``_fire`` for runs of distinct fingerprints at once: the quiet groups among theirs closed first (one query,
    an UPDATE only for those), then one multi-row upsert; the group ids in the runs' order.

    The upsert's rows are aggregated by fingerprint already (a run is one fingerprint's alarms), so no statement
    touches a row twice; the database still decides between opening and counting, as for one run."""
    ctx = runs[0].ctx
    now = ctx.now()
    conn = session.connection()
    quiet = {run.received.fingerprint: _quiet_before(run) for run in runs}
    prints = list(quiet)
    closing = []
    on_sqlite = _sqlite(conn)
    for start in range(0, len(prints), FETCH_CHUNK):
        chunk = prints[start:start + FETCH_CHUNK]
        found = conn.execute(_QUIET_OF_SQLITE if on_sqlite else _QUIET_OF_POSTGRES, {"prints": chunk})
        for r in found:
            if utc(r.last_seen) < quiet[r.fingerprint]:
                closing.append({"b_fingerprint": r.fingerprint, "quiet_before": quiet[r.fingerprint], "b_now": now})
    if closing:  # the same guarded UPDATE as one run's: it closes only what is still quiet
        conn.execute(_CLOSE_QUIET_SQLITE if on_sqlite else _CLOSE_QUIET, closing)
    params = [_group_params(run, now) for run in runs]
    # Rows in fingerprint order: two consumers upserting overlapping batches lock the groups in one order (no
    # deadlock between them); the returned groups are matched by fingerprint.
    returned = {g.fingerprint: g for g in _upsert_rows(conn, sorted(params, key=lambda p: p["fingerprint"]))}
    # The devices of the cases this batch opens, in one look-up (the directory caches them for ``_open_case``):
    # one query per new case, a round trip each on PostgreSQL, was 27-33 % of the grouping handler's time in a
    # replay on Kafka + PostgreSQL (py-spy --idle on both sensing processes; 15 % of the alarms opened cases).
    opening = [run.received.alarm.device_id for run, p in zip(runs, params, strict=True)
               if returned[p["fingerprint"]].id == p["id"] and _reports_now(p["state"], p["report_id"])]
    if opening:
        ctx.directory.devices(session, opening)
    tasks: list[dict[str, Any]] = []
    ids = []
    for run, p in zip(runs, params, strict=True):
        group = returned[p["fingerprint"]]
        _after_fire(session, run, group, p, now, tasks)
        ids.append(group.id)
    if tasks:
        session.execute(insert(T), tasks)
    return ids


# --- the multi-row upsert as driver SQL ---------------------------------------------------------------------------
#
# SQLAlchemy's own multi-row execution ("insertmanyvalues") processed 28 values per group row, one by one, at a
# cost above the statement's; the SQL text is the same statement's (compiled once per dialect), only the values
# are converted here, as ``_log_value`` does for the log.

UPSERT_ROWS_MAX = 500  # rows per statement (28 values each: far below SQLite's 32,766 and PostgreSQL's 65,535)
_upsert_sql: dict[str, tuple[str, str, str, tuple[str, ...]]] = {}


@dataclass(slots=True)
class _Upserted:
    """A group as the upsert returned it (``_RETURNED``'s columns), times and JSON as Python values."""

    id: str
    fingerprint: str
    count: int
    state: str
    report_id: str | None
    refired: bool
    state_changes: list[str] | None
    first_seen: datetime
    last_seen: datetime
    last_evidence: dict[str, Any] | None
    device_id: str
    last_event_at: datetime | None


def _upsert_parts(conn: Connection) -> tuple[str, str, str, tuple[str, ...]]:
    """The multi-row upsert's SQL split around its rows — ``INSERT INTO alarm_group (…)``, the rows (SQLite: one
    ``(?, …)`` per row; PostgreSQL: ``SELECT * FROM unnest(%b::type[], …)``, one array per column, so the text
    is the same whatever the row count and the driver does not parse a new one every batch), ``ON CONFLICT …`` —
    and the columns in order."""
    name = conn.dialect.name
    found = _upsert_sql.get(name)
    if found is None:
        stmt = _upsert_many_statement(name).values({c: bindparam(c) for c in _INSERT_COLUMNS})
        sql = str(stmt.compile(dialect=conn.dialect))
        head, rest = sql.split(" VALUES (", 1)
        row, tail = rest.split(") ON CONFLICT ", 1)
        columns = tuple(head[head.index("(") + 1:head.rindex(")")].split(", "))
        rows = "VALUES (" + row + ")" if name == "sqlite" else unnest_sql(G, columns, conn.dialect)
        found = _upsert_sql[name] = (head, rows, " ON CONFLICT " + tail, columns)
    return found


def _upsert_rows(conn: Connection, params: list[dict[str, Any]]) -> list[_Upserted]:
    """Run the multi-row upsert over the rows (by ``UPSERT_ROWS_MAX``); the groups it returned."""
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return [_Upserted(*r) for r in conn.execute(_upsert_many_statement(dialect), params)]
    sqlite = dialect == "sqlite"
    head, rows, tail, columns = _upsert_parts(conn)
    convert = _converters(dialect, G, columns)
    out: list[_Upserted] = []
    for start in range(0, len(params), UPSERT_ROWS_MAX):
        chunk = params[start:start + UPSERT_ROWS_MAX]
        if sqlite:
            sql = head + " VALUES " + ", ".join([rows[len("VALUES "):]] * len(chunk)) + tail
            values: tuple = tuple(v for p in chunk for v in convert(p))
        else:
            sql = head + " " + rows + tail
            values = tuple(list(column) for column in zip(*map(convert, chunk), strict=True))
        for r in conn.exec_driver_sql(sql, values):
            out.append(_Upserted(r[0], r[1], r[2], r[3], r[4], bool(r[5]), _json(r[6]), _time(r[7]), _time(r[8]),
                                 _json(r[9]), r[10], _time(r[11])))
    return out


def _time(value: Any) -> datetime | None:
    """A returned time (SQLite: text of the UTC wall time) as an aware UTC datetime."""
    if value is None:
        return None
    return utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _json(value: Any) -> Any:
    """A returned JSON value (SQLite: text; psycopg parses it already)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _after_fire(session: Session, run: _Run, group: Any, params: dict[str, Any], now: datetime,
                tasks: list[dict[str, Any]]) -> None:
    """What follows the upsert of a run: a new group's case policy (its 核实 task appended to ``tasks``), a flap
    recorded, a repeat told to dispatch."""
    ctx, kind = run.ctx, run.kind
    if group.id == params["id"]:
        _open_case(session, ctx, run.received, kind, run.row, group.id, params["state"], params["report_id"], now,
                   tasks)
        return
    if group.refired:
        _record_change(session, group.id, group.state_changes, run.first_seen, kind)
    if group.report_id is not None and group.state == "case" and (
            group.last_event_at is None or utc(group.last_event_at) <= now - ctx.repeat_interval):
        _tell_repeat(session, ctx, kind, group, now)


def _reports_now(state: str, report_id: str | None) -> bool:
    """Whether a new group's case policy reports it at once (a case with its report id), rather than a 核实 task
    or only the record."""
    return state == "case" and report_id is not None


def _open_case(session: Session, ctx: GroupingContext, received: AlarmReceived, kind: TypeFacts,
               row: dict[str, Any], group_id: str, state: str, report_id: str | None, now: datetime,
               tasks: list[dict[str, Any]]) -> None:
    """What a new group's case policy asks: a report now, a 核实 task (appended to ``tasks``, inserted by the
    caller with the batch's others), or only the record."""
    if _reports_now(state, report_id):
        device = ctx.directory.devices(session, [received.alarm.device_id]).get(received.alarm.device_id)
        payload = cases.report_payload(
            report_id=report_id, kind=kind, device=device, device_id=received.alarm.device_id,
            device_kind=received.device_kind, lon=received.lon, lat=received.lat,
            confidence=received.alarm.confidence, evidence=row["evidence"], reporter_id=received.alarm.device_id,
            reporter_role="device", submitted_at=now)
        ctx.db.add_outbox(session, REPORTS_RECEIVED, cases.report_envelope(payload, causation_id=row["id"]))
    elif state == "pending_verification":
        tasks.append({"id": ids.new_id(), "group_id": group_id, "grid_code": received.grid_code,
                      "alarm_type": kind.code, "device_id": received.alarm.device_id, "state": "pending",
                      "created_at": now})


def _record_change(session: Session, group_id: str, changes: Sequence[str] | None, at: datetime,
                   kind: TypeFacts) -> bool:
    """Record a state change (firing ↔ resolved) on the group; whether it is flapping now."""
    window = timedelta(seconds=kind.flap_window_s)
    times = FlapDetector.record([datetime.fromisoformat(t) for t in changes or ()], at, window)
    flapping = FlapDetector.is_flapping(times, at, kind.flap_threshold, window)
    session.execute(update(G).where(G.c.id == group_id).values(
        state_changes=[t.isoformat() for t in times], flapping=flapping))
    return flapping


def _tell_repeat(session: Session, ctx: GroupingContext, kind: TypeFacts, group: Any, now: datetime) -> None:
    """``alarm_group.repeated`` to dispatch, unless one went out within the interval (a storm stays one message per
    interval; every repeat is still counted here)."""
    claimed = session.execute(update(G).where(
        G.c.id == group.id,
        or_(G.c.last_event_at.is_(None), G.c.last_event_at <= now - ctx.repeat_interval),
    ).values(last_event_at=now))
    if claimed.rowcount:
        _publish(session, ctx, ALARM_GROUP_REPEATED, kind, group.id, group.report_id, group.device_id, group.count,
                 group.first_seen, group.last_seen, group.last_evidence)


def _publish(session: Session, ctx: GroupingContext, event_type: str, kind: TypeFacts, group_id: str,
             report_id: str, device_id: str, count: int, first_seen: datetime, last_seen: datetime,
             evidence: dict[str, Any] | None) -> None:
    """Stage an ``alarm_group.*`` event for the case's ticket (key: the report id)."""
    payload = AlarmGroupEvent(group_id=group_id, report_id=report_id, alarm_type=kind.code,
                              catalog_code=kind.catalog_code, device_id=device_id, count=count,
                              first_seen=utc(first_seen), last_seen=utc(last_seen), evidence=evidence,
                              resolved_verifies=kind.resolved_verifies and event_type == ALARM_GROUP_RESOLVED)
    ctx.db.add_outbox(session, ALARMS_EVENTS, new_envelope(type=event_type, producer=SERVICE, key=report_id,
                                                           payload=payload, correlation_id=report_id))


def _resolve(session: Session, ctx: GroupingContext, received: AlarmReceived, kind: TypeFacts,
             occurred: datetime) -> str | None:
    """The device says the condition is over: close a group without a case; on a case, pass it on. Returns the
    group id (None when no group is open)."""
    if _sqlite(session):  # one writer: the row is this transaction's anyway
        group = session.execute(_OPEN_OF_SQLITE, {"fingerprint": received.fingerprint}).first()
    else:  # the row is this transaction's until it commits
        group = session.execute(select(G).where(G.c.fingerprint == received.fingerprint, G.c.is_open)
                                .with_for_update()).first()
    if group is None:
        return None
    now = ctx.now()
    if group.report_id is None or group.state != "case":
        session.execute(update(G).where(G.c.id == group.id).values(
            is_open=False, state="resolved", resolved_at=occurred, closed_at=now))
        session.execute(update(T).where(T.c.group_id == group.id, T.c.state == "pending").values(
            state="cancelled", decided_at=now, decided_by="system:sensing", note="设备报告告警已解除"))
        return group.id
    if group.resolved_at is not None:
        return group.id  # resolved already: a repeated "resolved" changes nothing
    flapping = _record_change(session, group.id, group.state_changes, occurred, kind)
    session.execute(update(G).where(G.c.id == group.id).values(resolved_at=occurred))
    if not flapping:
        evidence = (received.alarm.evidence.model_dump(mode="json", exclude_none=True)
                    if received.alarm.evidence else group.last_evidence)
        _publish(session, ctx, ALARM_GROUP_RESOLVED, kind, group.id, group.report_id, group.device_id, group.count,
                 group.first_seen, max(utc(group.last_seen), occurred), evidence)
    return group.id


# --- tickets -----------------------------------------------------------------------------------------------------


def concerns_cases(envelope: Envelope) -> bool:
    """Whether a ticket event may concern an alarm group: its ticket is of a device's report, has one merged into
    it, or does not say its channel. A person's report alone is nothing of ours (most of the topic)."""
    payload = envelope.payload
    channel = payload.get("channel")
    return channel is None or channel in CASE_CHANNELS or bool(payload.get("merged_report_ids"))


def follow_ticket(_deps: object, session: Session, envelope: Envelope) -> None:
    """Record a case's ticket state on its group(s); a closed ticket closes them."""
    if not concerns_cases(envelope):
        return  # the consumer's table refuses these before its transaction; a direct call changes nothing either
    event = TicketEvent.model_validate(envelope.payload)
    report_ids = [event.report_id, *event.merged_report_ids]
    closing = event.action == "close" or event.to_state == "closed"
    values: dict[str, Any] = {"ticket_id": event.ticket_id, "ticket_state": event.to_state}
    if closing:
        values.update(is_open=False, state="closed", closed_at=datetime.now(UTC))
    if _sqlite(session):  # the open groups of these reports by the report id's index (see _OPEN_OF_SQLITE)
        group_ids = session.execute(_OPEN_OF_REPORTS_SQLITE, {"report_ids": report_ids}).scalars().all()
        if group_ids:
            session.execute(update(G).where(G.c.id.in_(group_ids)).values(**values))
        return
    session.execute(update(G).where(G.c.report_id.in_(report_ids), G.c.is_open).values(**values))


# --- quiet groups ------------------------------------------------------------------------------------------------


def close_quiet_groups(db: Database, now: datetime) -> int:
    """Close the open groups without a case that heard nothing within their type's dedupe window (the grouping
    consumer does the same lazily, per fingerprint; this keeps the lists and the map honest in between)."""
    directory = directory_of(db)
    with db.session() as session:
        directory.refresh(session)
        kinds = directory.types().values()
        if not kinds:
            return 0
        # One statement for every type, each with its own window (a type not in the directory has none: NULL,
        # never closed): the open groups are walked once per sweep, not once per type. Why (issue #16): on SQLite
        # each type's UPDATE walked every open group (``is_open = 1`` by ``ix_alarm_group_open_grid``); with
        # 212,000 open groups and the 16 seeded types a sweep held the write lock 1,561.5 ms, now 134.5 ms
        # (``bench/sensing_open_groups.py``, median of five, nothing to close).
        quiet_before = case({kind.code: literal(now - timedelta(seconds=kind.dedupe_window_s), G.c.last_seen.type)
                             for kind in kinds}, value=G.c.alarm_type, else_=null())
        result = session.execute(update(G).where(
            G.c.is_open, G.c.report_id.is_(None), G.c.state.in_(QUIET_CLOSABLE), G.c.last_seen < quiet_before,
        ).values(is_open=False, state="closed", closed_at=now))
        closed = result.rowcount or 0
        session.commit()
    return closed


# --- the alarm log's retention -----------------------------------------------------------------------------------


def prune_alarm_log(db: Database, before: datetime, batch: int = 2_000, most: int = 1_000_000) -> int:
    """Delete the logged alarms that occurred before ``before``, oldest first; how many (at most ``most``).

    Only the log: a group keeps its count, first and last seen and latest evidence, a ticket its own evidence, a
    verification task its outcome (the false-positive rates). Transactions of at most ``batch`` alarms by the
    ``occurred_at`` index, so the grouping consumer writing the same table waits a few milliseconds at a time.
    """
    deleted = 0
    while deleted < most:
        size = min(batch, most - deleted)
        oldest = select(A.c.id).where(A.c.occurred_at < before).order_by(A.c.occurred_at).limit(size)
        with db.session() as session:
            gone = session.execute(delete(A).where(A.c.id.in_(oldest))).rowcount or 0
            session.commit()
        deleted += gone
        if gone < size:
            break
    return deleted
