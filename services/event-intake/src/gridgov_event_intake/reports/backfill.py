"""Bulk load of past reports (the demo city's history): each with its text, address, channel, point and the status
its ticket reached.

No outbox messages: these reports were received, located and dispatched long ago; publishing ``report.received``
again would make the registry locate and dispatch register 200,000 old cases a second time. The status, department,
grid and deadline are those of the ticket dispatch's own loader made (``gridgov_dispatch.tickets.backfill``), so
every reporter's "my reports" and each department's view agree with dispatch. The status history of each report
(``report_update``) and citizens' reward points are not made for the past; a live change of a ticket still open
reaches the report through the usual consumer.

Rows go in with one executemany per chunk (one short transaction each), ids chosen by the caller and
ON CONFLICT DO NOTHING, so an interrupted load completes when run again. The rows are lists in a fixed column
order, each value passed through its column type's own bind processor (what SQLAlchemy would do per row, without
its per-row dict and parameter handling: a history is 200,000 reports).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from gridgov_common.db import Database, bind_rows, positional_insert
from gridgov_event_intake.reports.models import Report

ANSWERED = "closed"  # a hotline question answered at once (直接答复): closed at intake, never a ticket
UNTICKETED = "received"


class PastReport(Protocol):
    """A past report as the history plan has it (``gridgov_cli.history.plan.PlannedCase`` has this shape)."""

    report_id: str
    ticket_id: str | None
    submitted_at: datetime
    channel: str
    category_code: str
    description: str
    lon: float
    lat: float
    reporter_id: str
    reporter_role: str
    address: str | None
    external_id: str | None
    handled_on_spot: bool
    answer: str | None
    grid_code: str


# report id → (state, department, deadline, last change) of the ticket it became
Finals = Mapping[str, tuple[str, str | None, datetime | None, datetime]]


def rows(reports: Sequence[PastReport], finals: Finals) -> list[dict]:
    """The report rows of past reports, each with its ticket's final status (a dict per row)."""
    return [dict(zip(COLUMNS, row, strict=True)) for row in _tuples(reports, finals)]


# The columns the history sets, in the order of ``_tuples``; every other column takes its default (NULL).
COLUMNS = ("id", "channel", "category_code", "description", "lon", "lat", "source_crs", "reporter_id",
           "reporter_role", "reporter_name", "reporter_phone", "device_id", "address", "external_id",
           "idempotency_key", "urgency", "feedback_tier", "handled_on_spot", "handled_note", "answer", "status",
           "ticket_id", "department", "grid_code", "source_address", "deadline", "submitted_at", "updated_at")


def _tuples(reports: Sequence[PastReport], finals: Finals) -> list[list]:
    out = []
    for r in reports:
        final = finals.get(r.report_id)
        if final is not None:
            status, department, deadline, updated = final
        else:
            status = ANSWERED if r.answer is not None else UNTICKETED
            department, deadline, updated = None, None, r.submitted_at
        out.append([
            r.report_id, r.channel, r.category_code, r.description, r.lon, r.lat, "wgs84", r.reporter_id,
            r.reporter_role, None, None, None, r.address, r.external_id, None, None, None, r.handled_on_spot,
            "现场自行处置" if r.handled_on_spot else None, r.answer, status,
            r.ticket_id if final is not None else None, department, r.grid_code, None, deadline, r.submitted_at,
            updated])
    return out


def load(db: Database, reports: Sequence[PastReport], finals: Finals) -> int:
    """Insert one chunk of past reports in one transaction (ON CONFLICT DO NOTHING); how many rows were sent."""
    batch = _tuples(reports, finals)
    if batch:
        with db.engine.begin() as conn:
            sql, processors = positional_insert(conn.dialect, Report.__table__, COLUMNS)
            conn.exec_driver_sql(sql, bind_rows(batch, processors))
    return len(batch)
