"""What one consumer batch of located reports knows up front: its report ids, and which already have a ticket.

The one-ticket-per-report check was one query per message (issue #18: 18 % of dispatch's SQLAlchemy time); a
batch now asks once, inside its own transaction, for all its reports, and remembers the tickets and merges it
makes itself, so a report sent twice in one batch (a redelivery under a new envelope id) is still registered once.
The UNIQUE report_id stays the last guard against another process registering the same report concurrently: that
fails the batch, and the runner's one-by-one retry finds the ticket.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from gridgov_common.db import on_commit
from gridgov_dispatch.tickets import service
from gridgov_dispatch.tickets.models import Ticket, TicketTransition


def write(session: Session, tickets: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None:
    """Insert new tickets' rows, then their audit rows: one multi-row Core insert each.

    The UNIQUE report_id speaks here: a concurrent registration fails the batch, and the one-by-one retry skips it.
    """
    if tickets:
        session.execute(insert(Ticket.__table__), tickets)
    if audit:
        session.execute(insert(TicketTransition.__table__), audit)


class ReportBatch:
    """The report ids of one consumer batch and, once asked, those that already have a ticket or were merged."""

    def __init__(self, report_ids: Iterable[str]):
        self.report_ids = frozenset(report_ids)
        self._taken: set[str] | None = None
        self._tickets: list[dict[str, Any]] = []
        self._audit: list[dict[str, Any]] = []

    def covers(self, report_id: str) -> bool:
        """Whether the batch read ahead for this report (else the caller asks the database itself)."""
        return report_id in self.report_ids

    def taken(self, session: Session, report_id: str) -> bool:
        """Whether the report already has a ticket or was merged (read for the whole batch on first use)."""
        if self._taken is None:
            self._taken = service.reports_with_ticket(session, self.report_ids)
        return report_id in self._taken

    def take(self, report_id: str) -> None:
        """Note that this batch registered or merged the report."""
        if self._taken is not None:
            self._taken.add(report_id)

    def stage(self, session: Session, ticket: dict[str, Any], audit: list[dict[str, Any]]) -> None:
        """Stage a new ticket's row and its audit rows, to be written with the batch's others as ``session``
        commits (its outbox events are staged in the same order, so the stored events and rows agree)."""
        on_commit(session, self.write_staged)
        self._tickets.append(ticket)
        self._audit.extend(audit)

    def write_staged(self, session: Session) -> None:
        """Write the staged rows now (at commit, or before a step that reads the tickets this batch made)."""
        tickets, audit = self._tickets, self._audit
        self._tickets, self._audit = [], []
        write(session, tickets, audit)
