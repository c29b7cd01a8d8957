"""What dispatch's use cases need besides a session: the database, the settings, and the current catalog,
rule set and working calendar (each cached by its own module and refreshed when an admin publishes)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlmodel import Session

from gridgov_common.db import Database
from gridgov_dispatch import reference
from gridgov_dispatch.catalog import service as catalogs
from gridgov_dispatch.catalog.items import Catalog
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.rules import service as rule_sets
from gridgov_dispatch.rules.engine import RoutingContext, RuleSet
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.worktime import calendar_store
from gridgov_dispatch.worktime.working_calendar import WorkingCalendar

if TYPE_CHECKING:  # tickets use the context: the batch object comes from the consumers, no import cycle
    from gridgov_dispatch.tickets.batch import ReportBatch


@dataclass
class DispatchContext:
    """The database and policies behind every dispatch use case."""

    db: Database
    settings: DispatchSettings
    _calendar: WorkingCalendar | None = None
    _catalog: Catalog | None = None
    _rule_set: RuleSet | None = None
    _departments: reference.Departments | None = None  # a consumer batch's, checked as the batch began
    batch: ReportBatch | None = None  # a consumer batch's reports, when the batch read ahead for them

    def snapshot(self) -> DispatchContext:
        """This context with the current calendar, catalog and rule set fixed for one use case.

        Taken before the use case opens its transaction: refreshing a cache reads the database, and on SQLite
        the one connection is then held by the transaction itself. One use case also decides on one version
        of each, even if an admin publishes a new one meanwhile.
        """
        return replace(self, _calendar=self.calendar(), _catalog=self.catalog(), _rule_set=self.rule_set())

    def batch_snapshot(self, batch: ReportBatch | None = None) -> DispatchContext:
        """A snapshot for one consumer batch: the reference data checked against the database first (a change
        another process committed is seen here), the departments fixed with it, and the batch's reports."""
        found = reference.refresh(self.db)
        return replace(self.snapshot(), _departments=found, batch=batch)

    def routing_context(self, session: Session) -> RoutingContext:
        """The departments rules resolve to: the batch's, else read in ``session``."""
        if self._departments is not None:
            return self._departments.routing
        return rule_sets.routing_context(session)

    def department_active(self, session: Session, code: str) -> bool:
        """Whether a department exists and takes new tickets: the batch's answer, else read in ``session``."""
        if self._departments is not None:
            return self._departments.is_active(code)
        return departments.is_active(session, code)

    def calendar(self) -> WorkingCalendar:
        """The working calendar (official tables, loaded years, working hours)."""
        return self._calendar or calendar_store.current_calendar(self.db, self.settings)

    def catalog(self) -> Catalog:
        """The current event catalog (事项目录)."""
        return self._catalog or catalogs.current_catalog(self.db)

    def rule_set(self) -> RuleSet:
        """The current published dispatch rule set."""
        return self._rule_set or rule_sets.current_rule_set(self.db)

    @property
    def warning_share(self) -> float:
        """The share of a stage's time after which the clock warns (yellow)."""
        return self.settings.sla_warning_share
