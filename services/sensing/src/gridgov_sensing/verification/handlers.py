"""Use cases of 核实 tasks: the worker's list, the decision (confirmed → a case reported with the worker as
reporter; rejected → a false positive, the group closed), and the false-positive rates from those outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, false, func, select, update

from gridgov_common.auth import Principal
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.db import Database
from gridgov_common.errors import Conflict, ErrorDetail, Forbidden, NotFound
from gridgov_sensing.alarms import cases
from gridgov_sensing.alarms.directory import directory_of
from gridgov_sensing.alarms.models import AlarmGroup
from gridgov_sensing.verification.models import VerificationTask
from gridgov_sensing.verification.schemas import Decision, FalsePositiveRow, FalsePositiveStats, TaskRead

G = AlarmGroup.__table__
T = VerificationTask.__table__
STATS_MAX = 500


def _scoped(query, principal: Principal):  # noqa: ANN001, ANN202 - a Select in, the same out
    """A grid worker sees their grid's tasks; the command centre and administrators every task."""
    if principal.role == "grid_worker":
        return query.where(T.c.grid_code == principal.grid) if principal.grid else query.where(false())
    return query


def _read(row: Any, names: dict[str, str]) -> TaskRead:
    return TaskRead(id=row.id, group_id=row.group_id, state=row.state, grid_code=row.grid_code,
                    alarm_type=row.alarm_type, alarm_type_name=names.get(row.alarm_type), device_id=row.device_id,
                    lon=row.lon, lat=row.lat, count=row.count, first_seen=row.first_seen, last_seen=row.last_seen,
                    evidence=row.last_evidence, created_at=row.created_at, decided_by=row.decided_by,
                    decided_at=row.decided_at, note=row.note, report_id=row.report_id)


def _joined():  # noqa: ANN202 - a Select
    return select(T, G.c.lon, G.c.lat, G.c.count, G.c.first_seen, G.c.last_seen, G.c.last_evidence,
                  G.c.report_id).join(G, G.c.id == T.c.group_id)


def _type_names(db: Database, session) -> dict[str, str]:  # noqa: ANN001
    directory = directory_of(db)
    directory.refresh(session)
    return {code: t.name_zh for code, t in directory.types().items()}


def list_tasks(db: Database, principal: Principal, state: str | None, limit: int, offset: int
               ) -> tuple[list[TaskRead], int]:
    """A page of tasks, oldest first (the longest waiting on top)."""
    query = _scoped(_joined(), principal)
    if state is not None:
        query = query.where(T.c.state == state)
    with db.session() as session:
        names = _type_names(db, session)
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = session.execute(query.order_by(T.c.created_at, T.c.id).limit(limit).offset(offset)).all()
        session.commit()
    return [_read(r, names) for r in rows], total


def decide(db: Database, principal: Principal, task_id: str, decision: Decision, now: datetime) -> TaskRead:
    """Record the grid worker's decision once (409 the second time); confirmed reports the case, rejected closes
    the group as a false positive."""
    directory = directory_of(db)
    with db.session() as session:
        directory.refresh(session)
        query = _joined().where(T.c.id == task_id)
        if not db.is_sqlite:
            query = query.with_for_update(of=T)  # two decisions at once: the second waits, then sees the first
        row = session.execute(query).first()
        if row is None:
            raise NotFound("verification", task_id)
        if principal.role == "grid_worker" and row.grid_code != principal.grid:
            raise Forbidden("this task belongs to another grid's worker", "grid")
        if row.state != "pending":
            raise Conflict(f"already {row.state}", [ErrorDetail("outcome", f"the task is {row.state} already")],
                           code="already_decided")
        group = session.execute(select(G).where(G.c.id == row.group_id)).one()
        kind = directory.types().get(group.alarm_type)
        values: dict[str, Any] = {"state": decision.outcome, "decided_by": principal.sub, "decided_at": now,
                                  "note": decision.note}
        session.execute(update(T).where(T.c.id == task_id).values(**values))
        if decision.outcome == "confirmed" and kind is not None:
            report_id = cases.report_id_of(group.id)
            device = directory.devices(session, [group.device_id]).get(group.device_id)
            payload = cases.report_payload(
                report_id=report_id, kind=kind, device=device, device_id=group.device_id,
                device_kind=group.device_kind, lon=group.lon, lat=group.lat, confidence=None,
                evidence=group.last_evidence, reporter_id=principal.sub, reporter_role="grid_worker",
                submitted_at=now, confirmed=True)
            db.add_outbox(session, REPORTS_RECEIVED, cases.report_envelope(payload))
            # Still open if the device has not resolved it since: from now on a case like any other.
            session.execute(update(G).where(G.c.id == group.id).values(state="case", report_id=report_id,
                                                                       last_event_at=now))
        elif decision.outcome == "rejected":
            session.execute(update(G).where(G.c.id == group.id).values(state="false_positive", is_open=False,
                                                                       closed_at=now))
        names = {code: t.name_zh for code, t in directory.types().items()}
        updated = session.execute(_joined().where(T.c.id == task_id)).one()
        session.commit()
    return _read(updated, names)


def false_positive_stats(db: Database, by: str, since: datetime | None) -> FalsePositiveStats:
    """Verified and rejected counts per alarm type or device, and the share rejected (noisiest first)."""
    key = T.c.alarm_type if by == "alarm_type" else T.c.device_id
    confirmed = func.sum(case((T.c.state == "confirmed", 1), else_=0))
    rejected = func.sum(case((T.c.state == "rejected", 1), else_=0))
    query = select(key.label("key"), confirmed.label("verified"), rejected.label("rejected")).where(
        T.c.state.in_(("confirmed", "rejected"))).group_by(key)
    if since is not None:
        query = query.where(T.c.decided_at >= since)
    with db.session() as session:
        names = _type_names(db, session) if by == "alarm_type" else {}
        rows = session.execute(query).all()
        session.commit()
    out = [FalsePositiveRow(key=r.key, name=names.get(r.key), verified=int(r.verified or 0),
                            rejected=int(r.rejected or 0),
                            rate=round(int(r.rejected or 0) / (int(r.verified or 0) + int(r.rejected or 0)), 4))
           for r in rows]
    out.sort(key=lambda r: (-(r.rate or 0), -(r.verified + r.rejected), r.key))
    return FalsePositiveStats(by=by, since=since, rows=out[:STATS_MAX])

