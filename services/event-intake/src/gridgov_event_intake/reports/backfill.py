"""Bulk load of past reports (the demo city's history): each with its text, address, channel, point and the status
its ticket reached.

No outbox messages: these reports were received, located and dispatched long ago; publishing ``report.received``
again would make the registry locate and dispatch register 200,000 old cases a second time. The status, department,
grid and deadline are those of the ticket dispatch's own loader made (``gridgov_dispatch.tickets.backfill``), so
every reporter's "my reports" and each department's view agree with dispatch. The status history of each report
(``report_update``) and citizens' reward points are not made for the past; a live change of a ticket still open
reaches the report through the usual consumer.

Rows go in with one multi-row insert per chunk (one short transaction each), ids chosen by the caller and
ON CONFLICT DO NOTHING, so an interrupted load completes when run again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gridgov_common.db import Database
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
    """The report rows of past reports, each with its ticket's final status (a plain dict per row: cheap)."""
    out = []
    for r in reports:
        final = finals.get(r.report_id)
        if final is not None:
            status, department, deadline, updated = final
        else:
            status = ANSWERED if r.answer is not None else UNTICKETED
            department, deadline, updated = None, None, r.submitted_at
        out.append({
            "id": r.report_id, "channel": r.channel, "category_code": r.category_code,
            "description": r.description, "lon": r.lon, "lat": r.lat, "source_crs": "wgs84",
            "reporter_id": r.reporter_id, "reporter_role": r.reporter_role, "reporter_name": None,
            "reporter_phone": None, "device_id": None, "address": r.address, "external_id": r.external_id,
            "idempotency_key": None, "urgency": None, "feedback_tier": None, "handled_on_spot": r.handled_on_spot,
            "handled_note": "现场自行处置" if r.handled_on_spot else None, "answer": r.answer, "status": status,
            "ticket_id": r.ticket_id if final is not None else None, "department": department,
            "grid_code": r.grid_code, "source_address": None, "deadline": deadline, "submitted_at": r.submitted_at,
            "updated_at": updated})
    return out


def load(db: Database, reports: Sequence[PastReport], finals: Finals) -> int:
    """Insert one chunk of past reports in one transaction (ON CONFLICT DO NOTHING); how many rows were sent."""
    batch = rows(reports, finals)
    if batch:
        with db.engine.begin() as conn:
            conn.execute(_insert_ignore(db.engine.dialect.name, Report.__table__), batch)
    return len(batch)


def _insert_ignore(dialect: str, table: sa.Table) -> sa.Insert:
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return ins.on_conflict_do_nothing()
