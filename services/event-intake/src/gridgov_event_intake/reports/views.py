"""HTTP routes of reports (thin: parse, authorise, call a handler, shape)."""

from fastapi import APIRouter, Depends, Request, status

from gridgov_common.auth import Principal, require
from gridgov_common.errors import NotFound
from gridgov_event_intake.reports import handlers, service
from gridgov_event_intake.reports.schemas import PatrolReportCreate, ReportAccepted, ReportRead

router = APIRouter(prefix="/v1/reports", tags=["reports"])

STAFF = ("dept_dispatcher", "command_centre", "admin")


@router.post("/patrol", status_code=status.HTTP_202_ACCEPTED, response_model=ReportAccepted)
def post_patrol_report(body: PatrolReportCreate, request: Request,
                       principal: Principal = Depends(require("grid_worker"))) -> ReportAccepted:
    """A grid worker files a patrol report. Who: grid_worker."""
    report = handlers.accept_patrol_report(request.app.state.runtime.db, principal, body)
    return ReportAccepted(report_id=report.id, status=report.status)


@router.get("/{report_id}", response_model=ReportRead)
def get_report(report_id: str, request: Request,
               principal: Principal = Depends(require("grid_worker", "citizen", *STAFF))) -> ReportRead:
    """A report and its status. Who: its reporter, or dept_dispatcher, command_centre, admin."""
    with request.app.state.runtime.db.session() as session:
        report = service.get_or_raise(session, report_id)
    if principal.role not in STAFF and report.reporter_id != principal.sub:
        raise NotFound("report", report_id)  # do not reveal other people's reports exist
    return ReportRead.model_validate(report, from_attributes=True)
