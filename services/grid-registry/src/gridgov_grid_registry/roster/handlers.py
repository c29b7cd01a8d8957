"""Use cases of the roster: assign a grid worker to a grid, put them on or off duty, seed the demo roster."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlmodel import select

from gridgov_common.auth import CITY_WIDE, Principal
from gridgov_common.db import Database
from gridgov_common.errors import ErrorDetail, Forbidden, ValidationFailed
from gridgov_grid_registry.grids.demo import DEMO_VERSION, demo_roster
from gridgov_grid_registry.grids.index import Answers
from gridgov_grid_registry.grids.models import Area
from gridgov_grid_registry.roster import service
from gridgov_grid_registry.roster.models import GridWorker

log = logging.getLogger(__name__)
SUPERVISORS = CITY_WIDE  # may change anyone's duty; a grid worker only their own


def assign(db: Database, answers: Answers, worker_id: str, name: str, grid_code: str,
           on_duty: bool | None = None) -> GridWorker:
    """Put a grid worker on the roster of a grid of the set in effect (or move them to another grid)."""
    if grid_code not in answers.answer_of_code or len(grid_code) != 15:
        raise ValidationFailed("unknown grid", [ErrorDetail("grid_code", f"no grid {grid_code} in grid set "
                                                                         f"{answers.version}")])
    with db.session() as session:
        worker = session.get(GridWorker, worker_id)
        if worker is None:
            worker = GridWorker(worker_id=worker_id, name=name, grid_code=grid_code, on_duty=bool(on_duty),
                                updated_at=datetime.now(UTC))
        else:
            worker.name, worker.grid_code, worker.updated_at = name, grid_code, datetime.now(UTC)
            if on_duty is not None:
                worker.on_duty = on_duty
        session.add(worker)
        session.commit()
        return worker


def set_duty(db: Database, principal: Principal, worker_id: str, on_duty: bool) -> GridWorker:
    """Put a grid worker on or off duty: themselves, or anyone for the command centre and admins."""
    if principal.role not in SUPERVISORS and not (principal.role == "grid_worker" and principal.sub == worker_id):
        raise Forbidden("a grid worker may change only their own duty", "worker_id")
    with db.session() as session:
        worker = service.get_or_raise(session, worker_id)
        worker.on_duty, worker.updated_at = on_duty, datetime.now(UTC)
        session.add(worker)
        session.commit()
        return worker


def seed_demo(db: Database) -> bool:
    """Fill an empty roster with the demo grid workers (three or four per grid), if the demo set is stored."""
    with db.session() as session:
        if session.exec(select(GridWorker.worker_id).limit(1)).first() is not None:
            return False
        codes = list(session.exec(select(Area.code).where(Area.grid_set == DEMO_VERSION, Area.level == "grid")))
        if not codes:
            return False
        now = datetime.now(UTC)
        rows = [{"worker_id": w.worker_id, "name": w.name, "grid_code": w.grid_code, "on_duty": w.on_duty,
                 "updated_at": now} for w in demo_roster(codes)]
        for start in range(0, len(rows), 2000):
            session.execute(insert(GridWorker), rows[start:start + 2000])
        session.commit()
    log.info("seeded the demo roster: %d grid workers", len(rows))
    return True
