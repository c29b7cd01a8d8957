"""Queries on reports."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from gridgov_common.errors import NotFound
from gridgov_event_intake.media.models import Media
from gridgov_event_intake.reports.access import ReportFacts
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.reports.normalise import NOT_OPEN, REPEAT_STATUS, REPEATABLE_CHANNELS

# At most this many open reports of one caller are compared with a new call (a caller with more is unusual).
CALLER_REPORTS_MAX = 200


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


def repeat_calls(session: Session, report_id: str) -> int:
    """How many repeat calls (重复来电) were recorded on the report."""
    return session.exec(select(func.count()).select_from(Report).where(
        Report.repeat_of == report_id, Report.status == REPEAT_STATUS)).one()


def open_reports_of_caller(session: Session, phones: list[str], since: datetime) -> list[Report]:
    """The caller's open hotline and citizen reports submitted since ``since``, newest first: by any of the
    phone's spellings, not closed and not themselves repeat calls."""
    return list(session.exec(select(Report).where(
        col(Report.reporter_phone).in_(phones), col(Report.channel).in_(REPEATABLE_CHANNELS),
        col(Report.status).not_in(NOT_OPEN), Report.submitted_at >= since,
    ).order_by(col(Report.submitted_at).desc(), Report.id).limit(CALLER_REPORTS_MAX)).all())
