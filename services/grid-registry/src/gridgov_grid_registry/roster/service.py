"""Queries on the grid-worker roster."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from gridgov_common.errors import NotFound
from gridgov_grid_registry.roster.models import GridWorker


def get_or_raise(session: Session, worker_id: str) -> GridWorker:
    """One grid worker of the roster, or NotFound."""
    worker = session.get(GridWorker, worker_id)
    if worker is None:
        raise NotFound("worker", worker_id)
    return worker


def of_grids(session: Session, grid_codes: list[str], on_duty: bool | None = None) -> list[GridWorker]:
    """The roster of some grids, by grid then worker id; only those on (or off) duty if asked."""
    if not grid_codes:
        return []
    query = select(GridWorker).where(GridWorker.grid_code.in_(grid_codes))  # type: ignore[attr-defined]
    if on_duty is not None:
        query = query.where(GridWorker.on_duty == on_duty)
    return list(session.exec(query.order_by(GridWorker.grid_code, GridWorker.worker_id)))


def size(session: Session) -> int:
    """How many grid workers the roster holds."""
    return session.exec(select(func.count()).select_from(GridWorker)).one()
