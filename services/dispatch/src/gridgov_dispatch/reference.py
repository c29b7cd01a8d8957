"""Reference data for a consumer batch: departments as routing sees them, checked against the database once per
batch, and the version check that drops a stale catalog, rule set or working calendar (issue #18).

Departments, rules, the catalog and the calendar change a few times a year but were read on every located report.
A batch now reads two tiny things first: the newest version of each published policy (one row of four numbers)
and the department rows routing uses (a dozen or a few hundred short rows). When a version moved, the cached
value is dropped and rebuilt; when the department rows are unchanged, the routing context built from them is
reused. So a change committed by another dispatch process, the CLI or a hand-written SQL update is seen by the
next batch, never later, and a batch decides on one consistent set of reference data.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from sqlalchemy import func, select

from gridgov_common.db import Database
from gridgov_dispatch.catalog import service as catalogs
from gridgov_dispatch.catalog.models import CatalogVersion
from gridgov_dispatch.departments.models import Department
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.rules.engine import DepartmentInfo, RoutingContext
from gridgov_dispatch.rules.models import RuleSetVersion
from gridgov_dispatch.worktime import calendar_store
from gridgov_dispatch.worktime.models import CalendarYear


@dataclass(frozen=True)
class Departments:
    """The departments of one batch: routing's context and the codes that take new tickets."""

    routing: RoutingContext
    active: frozenset[str]

    def is_active(self, code: str) -> bool:
        """Whether a department exists and takes new tickets (what ``departments.service.is_active`` answers)."""
        return code in self.active


@dataclass(frozen=True)
class _Seen:
    versions: tuple  # (rule set, catalog, calendar rows, calendar last loaded)
    rows: tuple[tuple, ...]
    departments: Departments


_seen: weakref.WeakKeyDictionary[Database, _Seen] = weakref.WeakKeyDictionary()
_lock = threading.Lock()

_VERSIONS = select(
    select(func.max(RuleSetVersion.version)).scalar_subquery(),
    select(func.max(CatalogVersion.version)).scalar_subquery(),
    select(func.count()).select_from(CalendarYear).scalar_subquery(),
    select(func.max(CalendarYear.loaded_at)).scalar_subquery(),
)
_DEPARTMENTS = select(Department.code, Department.active, Department.level, Department.town_code,
                      Department.department_type).order_by(Department.code)


def _departments(rows: tuple[tuple, ...]) -> Departments:
    # The same reading as rules.service.department_infos: a department without the catalog's columns is its own
    # city bureau.
    infos = [DepartmentInfo(code=code, department_type=dtype or code, level=level or "city", town_code=town,
                            active=bool(active)) for code, active, level, town, dtype in rows]
    return Departments(RoutingContext.of(infos), frozenset(i.code for i in infos if i.active))


def refresh(db: Database) -> Departments:
    """Check the reference data of ``db`` for a new batch: drop each cached policy whose version moved, and
    return the departments as they are now (reusing the routing context when no row changed).

    Two small queries in one short transaction, taken before the batch's own (on SQLite that one holds the
    connection).
    """
    with db.session() as session:
        versions = tuple(session.execute(_VERSIONS).one())
        rows = tuple(tuple(r) for r in session.execute(_DEPARTMENTS).all())
    with _lock:
        seen = _seen.get(db)
    if seen is not None and seen.versions != versions:
        if seen.versions[0] != versions[0]:
            rule_sets.forget(db)
        if seen.versions[1] != versions[1]:
            catalogs.forget_cached(db)
        if seen.versions[2:] != versions[2:]:
            calendar_store.invalidate(db)
    if seen is None:
        # First look in this process: whatever is cached was built at an unknown moment; start from the database.
        rule_sets.forget(db)
        catalogs.forget_cached(db)
        calendar_store.invalidate(db)
    departments = seen.departments if seen is not None and seen.rows == rows else _departments(rows)
    with _lock:
        _seen[db] = _Seen(versions, rows, departments)
    return departments


def forget(db: Database) -> None:
    """Forget what the last batch saw (tests; the next ``refresh`` rebuilds everything)."""
    with _lock:
        _seen.pop(db, None)
