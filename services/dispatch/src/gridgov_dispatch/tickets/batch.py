"""What one consumer batch of located reports knows up front: its report ids, and which already have a ticket.

The one-ticket-per-report check was one query per message (issue #18: 18 % of dispatch's SQLAlchemy time); a
batch now asks once, inside its own transaction, for all its reports, and remembers the tickets and merges it
makes itself, so a report sent twice in one batch (a redelivery under a new envelope id) is still registered once.
The UNIQUE report_id stays the last guard against another process registering the same report concurrently: that
fails the batch, and the runner's one-by-one retry finds the ticket.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from gridgov_dispatch.tickets import service


class ReportBatch:
    """The report ids of one consumer batch and, once asked, those that already have a ticket or were merged."""

    def __init__(self, report_ids: Iterable[str]):
        self.report_ids = frozenset(report_ids)
        self._taken: set[str] | None = None

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
