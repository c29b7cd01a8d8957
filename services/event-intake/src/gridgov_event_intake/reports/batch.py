"""What one consumer batch of ticket events knows up front, and the report rows it writes at commit (issue #18).

``follow_ticket`` was 34 % of intake's CPU: per ticket event it loaded the whole report as an ORM object, looked
its update row up (an autoflush of the report each time) and flushed. A batch now reads once, inside its own
transaction, the few columns it needs of all its reports (channel, reporter), the update rows and reward entries
already there, and stages its changes: at commit the reports' new status is one executemany UPDATE (the last event
of a report in the batch wins, as it would one by one: the batch is in per-key order), the updates and the rewards
one multi-row INSERT each. The same mechanism as dispatch's ``tickets.batch.ReportBatch``: ids read from the
envelopes before the transaction, read-ahead on first use inside it, rows written just before the transaction
commits (``gridgov_common.db.on_commit``).
Idempotency is unchanged: the handled-message records of ``Database.idempotent_batch``, the envelope-derived
update ids and the UNIQUE (report_id, reason) reward; a batch that fails is retried one message at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.db import on_commit
from gridgov_event_intake.reports.models import Report, ReportUpdate
from gridgov_event_intake.rewards.models import RewardEntry
from gridgov_event_intake.settings import IntakeSettings

REPORTS = Report.__table__
UPDATES = ReportUpdate.__table__
REWARDS = RewardEntry.__table__
# executemany UPDATE of the reports' ticket facts: the key is not a column name, so it cannot clash with a SET.
SET_TICKET_FACTS = update(REPORTS).where(REPORTS.c.id == bindparam("report_key"))


@dataclass(frozen=True)
class Reporter:
    """The columns of a report that following its ticket needs: the channel and the reporter (for the reward)."""

    channel: str
    reporter_id: str


def update_id(envelope_id: uuid.UUID, report_id: str, primary: bool) -> str:
    """A report update's id: the envelope's for the ticket's own report, one derived from it for a merged one
    (so a redelivered event finds the updates it made)."""
    return str(envelope_id) if primary else str(uuid.uuid5(envelope_id, report_id))


def follow_batch(settings: IntakeSettings, envelopes: Iterable[Envelope]) -> FollowBatch:
    """The batch's read-ahead: the reports its events name and the ids of the updates they would make."""
    report_ids: list[str] = []
    update_ids: list[str] = []
    for envelope in envelopes:
        ids = ticket_event_report_ids(envelope.payload)
        report_ids.extend(ids)
        update_ids.extend(update_id(envelope.id, r, n == 0) for n, r in enumerate(ids))
    return FollowBatch(settings, report_ids, update_ids)


def ticket_event_report_ids(payload: Any) -> list[str]:
    """The report ids a ticket event names (its own and the merged ones), read without validating it (its handler
    validates): only to read ahead, so a malformed payload yields nothing here and fails in the handler."""
    if not isinstance(payload, dict):
        return []
    merged = payload.get("merged_report_ids")
    ids = [payload.get("report_id"), *(merged if isinstance(merged, list) else ())]
    return [i for i in ids if isinstance(i, str)]


class FollowBatch:
    """One ticket-status batch: the settings, its reports' ids and, once asked, their columns, the updates and
    rewards already stored; the rows it changes are written with the batch's commit."""

    def __init__(self, settings: IntakeSettings, report_ids: Iterable[str], update_ids: Iterable[str] = ()):
        self.settings = settings
        self.report_ids = set(report_ids)
        self.update_ids = set(update_ids)
        self._update_asked: set[str] = set()
        self._asked: set[str] = set()
        self._reporters: dict[str, Reporter] = {}
        self._update_ids: set[str] | None = None
        self._rewarded: set[str] | None = None
        self._facts: dict[str, dict[str, Any]] = {}  # report id -> its ticket facts after the batch's last event
        self._updates: list[dict[str, Any]] = []
        self._rewards: list[dict[str, Any]] = []

    def reporter(self, session: Session, report_id: str) -> Reporter | None:
        """The report's channel and reporter, None if intake has no such report (the batch's read on first use)."""
        if report_id not in self._asked:
            wanted = (self.report_ids | {report_id}) - self._asked
            rows = session.execute(select(REPORTS.c.id, REPORTS.c.channel, REPORTS.c.reporter_id)
                                   .where(REPORTS.c.id.in_(wanted)))
            self._reporters.update((r.id, Reporter(r.channel, r.reporter_id)) for r in rows)
            self._asked |= wanted
        return self._reporters.get(report_id)

    def set_facts(self, session: Session, report_id: str, facts: dict[str, Any]) -> None:
        """Stage the report's status, ticket, department, grid, deadline and time: a later event's replace it."""
        self._attach(session)
        self._facts[report_id] = facts

    def add_update(self, session: Session, row: dict[str, Any]) -> None:
        """Stage a report update unless its id is stored or staged already (a redelivered event)."""
        if self._update_ids is None or row["id"] not in self._update_asked:
            wanted = (self.update_ids | {row["id"]}) - self._update_asked
            found = session.execute(select(UPDATES.c.id).where(UPDATES.c.id.in_(wanted))).scalars()
            self._update_ids = (self._update_ids or set()) | set(found)
            self._update_asked |= wanted
        if row["id"] in self._update_ids:
            return
        self._attach(session)
        self._update_ids.add(row["id"])
        self._updates.append(row)

    def reward_once(self, session: Session, report_id: str, row: dict[str, Any]) -> None:
        """Stage a reward entry unless the report has one stored or staged (any reason counts, see ``_reward``)."""
        if self._rewarded is None:
            self._rewarded = set(session.execute(select(REWARDS.c.report_id).where(
                REWARDS.c.report_id.in_(self.report_ids | {report_id}))).scalars())
        if report_id in self._rewarded:
            return
        self._attach(session)
        self._rewarded.add(report_id)
        self._rewards.append(row)

    def _attach(self, session: Session) -> None:
        on_commit(session, self.write_staged)

    def write_staged(self, session: Session) -> None:
        """Write the staged rows: one executemany UPDATE of the reports, one INSERT of updates, one of rewards."""
        facts, updates, rewards = self._facts, self._updates, self._rewards
        self._facts, self._updates, self._rewards = {}, [], []
        if facts:
            # In id order: two instances updating the same reports (one merged into another's ticket) take their
            # row locks in one order, so they wait for each other instead of deadlocking.
            session.execute(SET_TICKET_FACTS, [{"report_key": k, **facts[k]} for k in sorted(facts)])
        if updates:
            session.execute(insert(UPDATES), updates)
        if rewards:
            session.execute(insert(REWARDS), rewards)


def ticket_facts(status: str, ticket_id: str, department: str | None, grid_code: str | None,
                 deadline: datetime | None, at: datetime) -> dict[str, Any]:
    """The report columns a ticket event sets."""
    return {"status": status, "ticket_id": ticket_id, "department": department, "grid_code": grid_code,
            "deadline": deadline, "updated_at": at}
