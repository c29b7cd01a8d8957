"""Reading alarm groups: the lists, one group with its latest alarms, the map's GeoJSON — each scoped to the
caller (a grid worker sees their grid, a department dispatcher their department's devices, the command centre and
administrators the whole city)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, false, func, select

from gridgov_common.auth import Principal
from gridgov_common.db import Database
from gridgov_common.errors import NotFound
from gridgov_sensing.alarms.models import Alarm, AlarmGroup
from gridgov_sensing.alarms.schemas import AlarmGroupDetail, AlarmGroupRead, AlarmRead

G = AlarmGroup.__table__
A = Alarm.__table__
DETAIL_ALARMS = 50
EVIDENCES = 20  # the latest evidences a group's detail shows
GEOJSON_MAX = 5000


@dataclass(frozen=True)
class GroupFilter:
    """The list's query parameters, parsed."""

    state: str | None = None
    open: bool | None = None
    grid: str | None = None
    report_id: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    alarm_type: str | None = None


def scoped(query: Select, principal: Principal) -> Select:
    """Only the groups the caller may see."""
    if principal.role == "grid_worker":
        return query.where(G.c.grid_code == principal.grid) if principal.grid else query.where(false())
    if principal.role == "dept_dispatcher":
        return (query.where(G.c.owner_department == principal.department) if principal.department
                else query.where(false()))
    return query


def _filtered(query: Select, f: GroupFilter) -> Select:
    if f.state is not None:
        query = query.where(G.c.state == f.state)
    if f.open is not None:
        query = query.where(G.c.is_open == f.open)
    if f.grid is not None:
        query = query.where(G.c.grid_code == f.grid)
    if f.report_id is not None:
        query = query.where(G.c.report_id == f.report_id)
    if f.alarm_type is not None:
        query = query.where(G.c.alarm_type == f.alarm_type)
    if f.bbox is not None:
        west, south, east, north = f.bbox
        query = query.where(G.c.lon.between(west, east), G.c.lat.between(south, north))
    return query


def read_of(row: Any, evidences: list[dict[str, Any]] | None = None) -> AlarmGroupRead:
    """The API shape of a group row."""
    data = {c: getattr(row, c) for c in AlarmGroupRead.model_fields if c not in ("monitored_by", "last_evidence")}
    data["monitored_by"] = list(row.monitored_by or [])
    data["last_evidence"] = evidences if evidences is not None else ([row.last_evidence] if row.last_evidence else [])
    return AlarmGroupRead(**data)


# The states of a group someone still has to act on (a case's ticket, a 核实 task, a group still firing without
# its policy applied); the list shows them before the record-only ones. Why: the demo's cut fibre put 39 offline
# cameras (仅记录) above every case on the wall's first screen, and a town's power cut would bury them under
# thousands.
ATTENTION_STATES = ("case", "pending_verification", "open")
_RECORD_LAST = case((G.c.state.in_(ATTENTION_STATES), 0), else_=1)


def list_groups(db: Database, principal: Principal, f: GroupFilter, limit: int, offset: int
                ) -> tuple[list[AlarmGroupRead], int]:
    """A page of groups — those waiting on someone first, then the record-only and the ended ones; the latest alarm
    first within each — and how many match."""
    base = _filtered(scoped(select(G), principal), f)
    with db.snapshot() as session:  # the count and the page (the group and its alarms) from one state
        total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        rows = session.execute(base.order_by(_RECORD_LAST, G.c.last_seen.desc(), G.c.id)
                               .limit(limit).offset(offset)).all()
    return [read_of(r) for r in rows], total


def group_detail(db: Database, principal: Principal, group_id: str) -> AlarmGroupDetail:
    """One group with its latest alarms and evidences; NotFound when it does not exist or is not the caller's."""
    with db.snapshot() as session:  # the count and the page (the group and its alarms) from one state
        row = session.execute(scoped(select(G), principal).where(G.c.id == group_id)).first()
        if row is None:
            raise NotFound("alarm_group", group_id)
        alarms = session.execute(select(A).where(A.c.group_id == group_id)
                                 .order_by(A.c.occurred_at.desc(), A.c.id).limit(DETAIL_ALARMS)).all()
        evidences = [e for (e,) in session.execute(
            select(A.c.evidence).where(A.c.group_id == group_id, A.c.evidence.is_not(None))
            .order_by(A.c.occurred_at.desc(), A.c.id).limit(EVIDENCES))]
    group = read_of(row, evidences)
    return AlarmGroupDetail(**group.model_dump(), alarms=[
        AlarmRead(id=a.id, state=a.state, occurred_at=a.occurred_at, confidence=a.confidence, evidence=a.evidence,
                  labels=dict(a.labels or {}), source=a.source, verdict=a.verdict) for a in alarms])


def groups_geojson(db: Database, principal: Principal, f: GroupFilter, limit: int = GEOJSON_MAX) -> dict[str, Any]:
    """The groups as a GeoJSON FeatureCollection for the map (points; ``total`` and ``truncated`` say if more)."""
    base = _filtered(scoped(select(G), principal), f).where(G.c.lon.is_not(None), G.c.lat.is_not(None))
    # the count and the features from one state, on a connection of their own: with 212,000 open groups the map's
    # read took 420 ms, polled every 15 s by each open screen, and the grouping consumer would wait behind it
    with db.long_read() as session:
        total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        rows = session.execute(base.order_by(G.c.last_seen.desc(), G.c.id).limit(limit)).all()
    features = [{
        "type": "Feature", "id": r.id,
        "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
        "properties": {"alarm_type": r.alarm_type, "kind": r.kind, "state": r.state, "is_open": r.is_open,
                       "count": r.count, "device_id": r.device_id, "grid_code": r.grid_code,
                       "first_seen": r.first_seen.isoformat(), "last_seen": r.last_seen.isoformat(),
                       "report_id": r.report_id, "ticket_state": r.ticket_state},
    } for r in rows]
    return {"type": "FeatureCollection", "features": features, "total": total, "truncated": total > len(rows)}
