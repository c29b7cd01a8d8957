"""The reporter's own reports (我的上报 / 我的案件): a page of them, newest first, each with its public progress.

Only the caller's own reports, by the token's subject: a citizen's or a grid worker's, never anyone else's. What
a report shows its reporter is the public view of its ticket: the state in public words, the steps so far, and
the closing remarks (结案说明) as the department's public reply — the note the follow-up (回访) also shows the
reporter. Other notes (return reasons, rework and dispatcher notes) are written for colleagues and stay out, as
in Open311's updates (``open311.render``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from gridgov_event_intake.media.models import Media
from gridgov_event_intake.open311.render import public_wording
from gridgov_event_intake.reports.models import Report, ReportUpdate

LIMIT_MAX = 100
# Each step of a ticket in the words a reporter reads; the desk's own steps (退单, 延期, 挂起) read 处理中.
PUBLIC_STEPS = {"received": "已提交", "registered": "已受理", "dispatched": "已派遣", "claimed": "处理中",
                "handled": "已处置", "verified": "已核查", "closed": "已办结"}
IN_PROGRESS = "处理中"


class ProgressStep(BaseModel):
    """One public step of a report's ticket."""

    status: str
    label: str = Field(description="the step in public words, e.g. 已派遣")
    at: datetime


class MyReportRead(BaseModel):
    """One of the caller's own reports and where it stands, in public words."""

    id: str
    channel: str
    category_code: str
    description: str
    lon: float | None
    lat: float | None
    address: str | None
    handled_on_spot: bool
    media_ids: list[str]
    status: str
    public_status: str = Field(description="已受理, 处理中 or 已办结")
    ticket_id: str | None
    department: str | None
    reply: str | None = Field(description="the public reply: the closing remarks (结案说明) or a hotline answer")
    replied_at: datetime | None
    progress: list[ProgressStep] = Field(description="public steps, oldest first; repeated steps shown once")
    submitted_at: datetime
    updated_at: datetime


class MyReportPage(BaseModel):
    """A page of the caller's own reports, newest first."""

    items: list[MyReportRead]
    total: int
    limit: int
    offset: int


def public_step(status: str) -> str:
    """A ticket state in the words its reporter reads."""
    return PUBLIC_STEPS.get(status, IN_PROGRESS)


def progress_of(submitted_at: datetime, updates: list[ReportUpdate]) -> list[ProgressStep]:
    """The report's public steps: submitted, then each change whose public words differ from the step before."""
    steps = [ProgressStep(status="received", label=public_step("received"), at=submitted_at)]
    for update in updates:
        label = public_step(update.status)
        if label != steps[-1].label:
            steps.append(ProgressStep(status=update.status, label=label, at=update.at))
    return steps


def reply_of(report: Report, updates: list[ReportUpdate]) -> tuple[str | None, datetime | None]:
    """The public reply: the latest closing remarks, else a hotline's direct answer."""
    closed = [u for u in updates if u.status == "closed" and u.note]
    if closed:
        return closed[-1].note, closed[-1].at
    return report.answer, (report.updated_at if report.answer else None)


def list_mine(session: Session, reporter_id: str, limit: int, offset: int) -> MyReportPage:
    """A page of the reports filed by ``reporter_id``, newest first, with their media and public progress."""
    where = Report.reporter_id == reporter_id
    total = session.exec(select(func.count()).select_from(Report).where(where)).one()
    reports = list(session.exec(select(Report).where(where).order_by(col(Report.submitted_at).desc(),
                                                                     col(Report.id).desc())
                                .offset(offset).limit(limit)).all())
    ids = [r.id for r in reports]
    updates: dict[str, list[ReportUpdate]] = {i: [] for i in ids}
    media: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for update in session.exec(select(ReportUpdate).where(col(ReportUpdate.report_id).in_(ids))
                                   .order_by(col(ReportUpdate.at), col(ReportUpdate.id))).all():
            updates[update.report_id].append(update)
        for media_id, report_id in session.exec(select(Media.id, Media.report_id)
                                                .where(col(Media.report_id).in_(ids))
                                                .order_by(col(Media.created_at), col(Media.id))).all():
            media[report_id].append(media_id)
    items = []
    for report in reports:
        reply, replied_at = reply_of(report, updates[report.id])
        items.append(MyReportRead(
            id=report.id, channel=report.channel, category_code=report.category_code,
            description=report.description, lon=report.lon, lat=report.lat, address=report.address,
            handled_on_spot=report.handled_on_spot, media_ids=media[report.id], status=report.status,
            public_status=public_wording(report.status), ticket_id=report.ticket_id, department=report.department,
            reply=reply, replied_at=replied_at, progress=progress_of(report.submitted_at, updates[report.id]),
            submitted_at=report.submitted_at, updated_at=report.updated_at))
    return MyReportPage(items=items, total=total, limit=limit, offset=offset)
