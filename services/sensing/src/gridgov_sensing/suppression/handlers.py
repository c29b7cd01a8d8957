"""Use cases of suppression rules: list, create, change (each moves the rules' version on, so every grouping
consumer reloads them), and replay a rule over the stored alarms before enforcing it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from gridgov_common.auth import Principal
from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, NotFound, ValidationFailed
from gridgov_common.ids import new_id
from gridgov_sensing.alarms.directory import directory_of
from gridgov_sensing.alarms.durations import parse_duration
from gridgov_sensing.alarms.models import Alarm, AlarmGroup
from gridgov_sensing.settings import REPLAY_MAX_DAYS
from gridgov_sensing.suppression import service
from gridgov_sensing.suppression.engine import Candidate, rule_matches, rule_problems
from gridgov_sensing.suppression.models import SuppressionRule
from gridgov_sensing.suppression.schemas import ReplayResult, RuleRead, RuleWrite

A = Alarm.__table__
G = AlarmGroup.__table__
REPLAY_MAX_ALARMS = 200_000
REPLAY_MAX_PERIOD = timedelta(days=REPLAY_MAX_DAYS)
REPLAY_CHUNK = 5000
SOURCES_MAX = 50_000


def read_of(row: SuppressionRule, now: datetime) -> RuleRead:
    """The API shape of a stored rule."""
    rule = service.engine_rule(row)
    active = (rule.starts_at is None or rule.starts_at <= now) and (rule.ends_at is None or now < rule.ends_at)
    return RuleRead(id=row.id, name=row.name, kind=row.kind, mode=row.mode, starts_at=rule.starts_at,
                    ends_at=rule.ends_at, device_ids=list(row.device_ids), area_codes=list(row.area_codes),
                    alarm_types=list(row.alarm_types), source_types=list(row.source_types), equal=list(row.equal),
                    min_confidence=row.min_confidence, note=row.note, created_by=row.created_by,
                    created_at=service.utc(row.created_at), updated_at=service.utc(row.updated_at), active=active)


def _apply(row: SuppressionRule, body: RuleWrite, known_types: set[str], now: datetime) -> None:
    """Write a rule's fields from the request, refusing what the engine could not use (422 naming the field)."""
    problems: list[ErrorDetail] = []
    ends_at = body.ends_at
    if body.for_ is not None:
        try:
            ends_at = (body.starts_at or now) + parse_duration(body.for_)
        except ValueError as exc:
            problems.append(ErrorDetail("for", str(exc)))
        if body.ends_at is not None:
            problems.append(ErrorDetail("for", "give for or ends_at, not both"))
    for field, codes in (("alarm_types", body.alarm_types), ("source_types", body.source_types)):
        unknown = sorted(set(codes) - known_types)
        if unknown:
            problems.append(ErrorDetail(field, f"unknown alarm type(s): {', '.join(unknown[:5])}"))
    row.name, row.kind, row.mode, row.note = body.name, body.kind, body.mode, body.note
    row.starts_at, row.ends_at = body.starts_at, ends_at
    row.device_ids, row.area_codes = sorted(set(body.device_ids)), sorted(set(body.area_codes))
    row.alarm_types, row.source_types = sorted(set(body.alarm_types)), sorted(set(body.source_types))
    row.equal, row.min_confidence = list(dict.fromkeys(body.equal)), body.min_confidence
    if not problems:
        problems = [ErrorDetail(f, r) for f, r in rule_problems(service.engine_rule(row))]
    if problems:
        raise ValidationFailed("the rule cannot be used", problems)
    row.updated_at = now


def _known_types(db: Database, session) -> set[str]:  # noqa: ANN001
    directory = directory_of(db)
    directory.refresh(session)
    return set(directory.types())


def list_rules(db: Database, now: datetime) -> list[RuleRead]:
    """Every rule, oldest first (the order the engine applies them)."""
    with db.session() as session:
        return [read_of(r, now) for r in service.all_rows(session)]


def create_rule(db: Database, principal: Principal, body: RuleWrite, now: datetime) -> RuleRead:
    """Store a new rule; every grouping consumer applies it from its next batch."""
    with db.session() as session:
        row = SuppressionRule(id=new_id(), name=body.name, kind=body.kind, mode=body.mode,
                              created_by=principal.sub, created_at=now, updated_at=now)
        _apply(row, body, _known_types(db, session), now)
        session.add(row)
        service.changed(session)
        session.commit()
        return read_of(row, now)


def update_rule(db: Database, rule_id: str, body: RuleWrite, now: datetime) -> RuleRead:
    """Change a rule (its mode, its expiry, its scope)."""
    with db.session() as session:
        row = session.get(SuppressionRule, rule_id)
        if row is None:
            raise NotFound("suppression_rule", rule_id)
        _apply(row, body, _known_types(db, session), now)
        session.add(row)
        service.changed(session)
        session.commit()
        return read_of(row, now)


def replay_rule(db: Database, rule_id: str, since: datetime | None, until: datetime | None,
                now: datetime) -> ReplayResult:
    """Count what the rule, whatever its mode, would have suppressed among the stored firing alarms of a period
    (default: the last 7 days; at most 31 days and 200,000 alarms)."""
    until = until or now
    since = since or until - timedelta(days=7)
    if since >= until:
        raise ValidationFailed("bad period", [ErrorDetail("since", "must be before until")])
    if until - since > REPLAY_MAX_PERIOD:
        raise ValidationFailed("bad period", [ErrorDetail("since", "a replay covers at most 31 days")])
    with db.session() as session:
        row = session.get(SuppressionRule, rule_id)
        if row is None:
            raise NotFound("suppression_rule", rule_id)
        rule = service.engine_rule(row)
        sources = _past_sources(session, rule.source_types, since, until) if rule.kind == "inhibit" else []
        seen, hits, truncated = 0, Counter[str](), False
        after: tuple[datetime, str] | None = None
        while True:
            query = select(A.c.id, A.c.alarm_type, A.c.device_id, A.c.grid_code, A.c.village_code, A.c.town_code,
                           A.c.confidence, A.c.occurred_at, A.c.labels).where(
                A.c.state == "firing", A.c.occurred_at >= since, A.c.occurred_at < until)
            if after is not None:
                query = query.where(or_(A.c.occurred_at > after[0],
                                        (A.c.occurred_at == after[0]) & (A.c.id > after[1])))
            rows = session.execute(query.order_by(A.c.occurred_at, A.c.id).limit(REPLAY_CHUNK)).all()
            for r in rows:
                c = Candidate(r.alarm_type, r.device_id, r.grid_code, r.village_code, r.town_code, r.confidence,
                              service.utc(r.occurred_at), dict(r.labels or {}))
                active = [s for s, start, end in sources if start <= c.occurred_at and (end is None or
                                                                                        c.occurred_at < end)]
                if rule_matches(rule, c, active):
                    hits[r.alarm_type] += 1
            seen += len(rows)
            if len(rows) < REPLAY_CHUNK:
                break
            if seen >= REPLAY_MAX_ALARMS:
                truncated = True
                break
            after = (rows[-1].occurred_at, rows[-1].id)
    return ReplayResult(rule_id=rule_id, since=since, until=until, alarms_seen=seen,
                        would_suppress=sum(hits.values()), by_alarm_type=dict(sorted(hits.items())),
                        truncated=truncated)


def _past_sources(session, source_types: frozenset[str], since: datetime,  # noqa: ANN001
                  until: datetime) -> list[tuple[Candidate, datetime, datetime | None]]:
    """The groups of the superior types alive during the period, with when each was firing (first seen until
    resolved or closed)."""
    if not source_types:
        return []
    rows = session.execute(select(G).where(
        G.c.alarm_type.in_(sorted(source_types)), G.c.first_seen < until,
        or_(G.c.closed_at.is_(None), G.c.closed_at > since)).limit(SOURCES_MAX)).all()
    out = []
    for g in rows:
        ends = [t for t in (service.utc(g.resolved_at), service.utc(g.closed_at)) if t is not None]
        out.append((Candidate(g.alarm_type, g.device_id, g.grid_code, g.village_code, g.town_code, None,
                              service.utc(g.last_seen), dict(g.labels or {})), service.utc(g.first_seen),
                    min(ends) if ends else None))
    return out


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)
