"""Use cases of intake: accept a report, follow the ticket it became."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlmodel import Session

from gridgov_common.auth import Principal
from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.db import Database
from gridgov_common.events.reports import REPORT_RECEIVED, ReportReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_common.logs import correlation
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.reports.schemas import PatrolReportCreate

log = logging.getLogger(__name__)

SERVICE = "event-intake"
TICKET_CONSUMER = "event-intake.ticket-status"


def accept_patrol_report(db: Database, principal: Principal, body: PatrolReportCreate) -> Report:
    """Persist a patrol report and stage ``report.received`` in the same transaction."""
    now = datetime.now(UTC)
    report = Report(
        id=str(uuid.uuid4()),
        channel="patrol",
        category_code=body.category_code,
        description=body.description,
        lon=body.lon,
        lat=body.lat,
        reporter_id=principal.sub,
        reporter_role=principal.role,
        submitted_at=now,
        updated_at=now,
    )
    payload = ReportReceived(
        report_id=report.id, channel="patrol", category_code=report.category_code,
        description=report.description, lon=report.lon, lat=report.lat, source_crs="wgs84",
        reporter_id=report.reporter_id, reporter_role=report.reporter_role, submitted_at=now,
    )
    with db.session() as session:
        session.add(report)
        db.add_outbox(session, REPORTS_RECEIVED, new_envelope(
            type=REPORT_RECEIVED, producer=SERVICE, key=report.id, payload=payload, correlation_id=report.id))
        session.commit()
    with correlation(report.id):
        log.info("report %s accepted: channel patrol, category %s", report.id, report.category_code)
    return report


def follow_ticket(session: Session, envelope: Envelope) -> None:
    """Keep a report's status in step with its ticket, so the reporter can see where it stands."""
    if not envelope.type.startswith("ticket."):
        return
    event = TicketEvent.model_validate(envelope.payload)
    report = session.get(Report, event.report_id)
    if report is not None:
        report.status = event.to_state
        report.ticket_id = event.ticket_id
        report.department = event.department
        report.deadline = event.deadline
        report.updated_at = datetime.now(UTC)
        session.add(report)
