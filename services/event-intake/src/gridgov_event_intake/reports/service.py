"""Queries on reports."""

from sqlmodel import Session, select

from gridgov_common.errors import NotFound
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.reports.access import ReportFacts
from gridgov_event_intake.reports.models import Report


def get_or_raise(session: Session, report_id: str) -> Report:
    """The report, or NotFound."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound("report", report_id)
    return report


def get_by_idempotency_key(session: Session, key: str) -> Report | None:
    """The report first submitted under this idempotency key, if any."""
    return session.exec(select(Report).where(Report.idempotency_key == key)).first()


def media_ids(session: Session, report_id: str) -> list[str]:
    """The ids of a report's media, oldest first."""
    return list(session.exec(select(Media.id).where(Media.report_id == report_id)
                             .order_by(Media.created_at, Media.id)).all())


def facts(report: Report) -> ReportFacts:
    """What access rules need to know about a report."""
    return ReportFacts(reporter_id=report.reporter_id, department=report.department, grid_code=report.grid_code)
