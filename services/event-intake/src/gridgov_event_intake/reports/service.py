"""Queries on reports."""

from sqlmodel import Session

from gridgov_common.errors import NotFound
from gridgov_event_intake.reports.models import Report


def get_or_raise(session: Session, report_id: str) -> Report:
    """The report, or NotFound."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound("report", report_id)
    return report
