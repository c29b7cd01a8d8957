"""HTTP routes of reports (thin: parse, authorise, call a handler, shape)."""

from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from gridgov_common.auth import CITY_WIDE, Principal
from gridgov_common.deps import AnyRole, Reporter, require
from gridgov_common.errors import ErrorDetail, NotFound, ValidationFailed
from gridgov_event_intake.deps import Runtime
from gridgov_event_intake.reports import access, handlers, limits, mine, normalise, service
from gridgov_event_intake.reports.handlers import Accepted, RateLimit
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.reports.schemas import (
    CitizenReportCreate,
    HotlineReportCreate,
    PatrolReportCreate,
    ReportAccepted,
    ReportRead,
    SuggestionRead,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Patroller = Annotated[Principal, Depends(require("grid_worker"))]
# The 12345 platform's integration account acts as the command centre or an admin.
Hotline = Annotated[Principal, Depends(require(*CITY_WIDE))]
Citizen = Annotated[Principal, Depends(require("citizen"))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128,
                                              description="a retry with the same key returns the original")]
ACCEPTED_RESPONSES = {200: {"model": ReportAccepted, "description": "a retry: the original report"},
                      429: {"description": "rate limited; see Retry-After"}}


def _answer(accepted: Accepted, response: Response) -> ReportAccepted:
    """202 for a new report, 200 for a retry that found the original."""
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    return ReportAccepted(report_id=accepted.report_id, status=accepted.status)


# The POST views are async: the write goes to the group committer, so no worker thread waits on it.
@router.post("/patrol", status_code=status.HTTP_202_ACCEPTED, response_model=ReportAccepted,
             responses=ACCEPTED_RESPONSES)
async def post_patrol_report(body: PatrolReportCreate, runtime: Runtime, response: Response, principal: Patroller,
                             idempotency_key: IdempotencyKey = None) -> ReportAccepted:
    """A grid worker files a patrol report, maybe handled on the spot (自行处置). Who: grid_worker."""
    draft = normalise.require_in_city(normalise.patrol_draft(principal.sub, principal.role, body),
                                      runtime.settings.city_extent)
    key = normalise.idempotency_key("patrol", principal.sub, header=idempotency_key)
    return _answer(await handlers.accept_async(runtime.committer, runtime.db, draft, key), response)


@router.post("/hotline", status_code=status.HTTP_202_ACCEPTED, response_model=ReportAccepted,
             responses=ACCEPTED_RESPONSES)
async def post_hotline_report(body: HotlineReportCreate, runtime: Runtime, response: Response, principal: Hotline,
                              idempotency_key: IdempotencyKey = None) -> ReportAccepted:
    """A 12345 hotline work order; its order number makes a resend return the original; a consultation
    answered directly (直接答复) is closed at once, maybe from a knowledge-base article; a repeat call (重复来电)
    is recorded on the caller's open report (``repeat_of``), no new case. The classifier's suggestion is recorded
    beside the operator's category. Who: command_centre, admin."""
    draft = normalise.require_in_city(normalise.hotline_draft(principal.role, body), runtime.settings.city_extent)
    # In a worker thread: the classifier is CPU work and may read the active model version from the database.
    suggestion = await run_in_threadpool(handlers.suggestion_for, runtime.db, body.description, body.category_code)
    draft = replace(draft, suggestion=suggestion)
    key = normalise.idempotency_key("hotline", principal.sub, header=idempotency_key, order_no=body.order_no)
    return _answer(await handlers.accept_async(runtime.committer, runtime.db, draft, key), response)


@router.post("/citizen", status_code=status.HTTP_202_ACCEPTED, response_model=ReportAccepted,
             responses=ACCEPTED_RESPONSES)
async def post_citizen_report(body: CitizenReportCreate, request: Request, runtime: Runtime, response: Response,
                              principal: Citizen, idempotency_key: IdempotencyKey = None) -> ReportAccepted:
    """A citizen photo report (随手拍), rate-limited per account, device, phone and source address, under a
    ceiling for all citizens together; earns reward points once its ticket passes verification. Who: citizen."""
    settings = runtime.settings
    draft = replace(normalise.require_in_city(normalise.citizen_draft(principal.sub, principal.role, body),
                                              settings.city_extent),
                    source_address=limits.caller_address(request))
    key = normalise.idempotency_key("citizen", principal.sub, header=idempotency_key, client_id=body.client_id)
    rate = RateLimit(settings.citizen_limit, timedelta(seconds=settings.citizen_window_seconds),
                     account_limit=settings.citizen_account_limit, address_limit=settings.citizen_address_limit,
                     global_per_minute=settings.citizen_global_per_minute)
    accepted = await handlers.accept_async(runtime.committer, runtime.db, draft, key, rate=rate)
    return _answer(accepted, response)


def _read(report: Report, media_ids: list[str], principal: Principal, repeat_calls: int = 0) -> ReportRead:
    """The report as this caller may see it: the reporter's name and phone in full only for the handling
    department and the command centre, masked for everyone else; the classifier's recorded suggestion only for
    the command centre and admins (it is about the desk's work, not the case)."""
    read = ReportRead.model_validate({**report.model_dump(), "media_ids": media_ids, "repeat_calls": repeat_calls})
    if principal.role in CITY_WIDE and report.suggestion_abstained is not None:
        read.suggestion = SuggestionRead(
            suggestions=report.suggested or [], model_version=report.suggestion_model_version,
            abstained=report.suggestion_abstained, reason=report.suggestion_reason or "",
            agreed=report.suggestion_agreed)
    if not access.sees_contact(principal, service.facts(report)):
        read.reporter_phone = normalise.mask_phone(read.reporter_phone)
        read.reporter_name = access.mask_name(read.reporter_name)
    return read


@router.get("", response_model=mine.MyReportPage)
def get_my_reports(runtime: Runtime, principal: Reporter,
                   mine_only: Annotated[bool, Query(alias="mine", description="must be true: your own reports")],
                   limit: Annotated[int, Query(ge=1, le=mine.LIMIT_MAX)] = 20,
                   offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> mine.MyReportPage:
    """The caller's own reports (我的上报), newest first, each with its public status, steps and reply.
    Who: citizen, grid_worker — their own only (staff list tickets in dispatch)."""
    if not mine_only:
        error = ValidationFailed("only your own reports can be listed here", [ErrorDetail(
            "mine", "must be true: a reporter lists their own reports", "只能查询本人上报的案件（mine=true）")])
        error.message_zh = "只能查询本人上报的案件"
        raise error
    with runtime.db.session() as session:
        return mine.list_mine(session, principal.sub, limit, offset)


@router.get("/{report_id}", response_model=ReportRead)
def get_report(report_id: str, runtime: Runtime, principal: AnyRole) -> ReportRead:
    """A report and its status. Who: its reporter; dept_dispatcher of the department its ticket is with now;
    grid_worker of its grid; command_centre, admin. Anyone else: 404, as if it did not exist."""
    with runtime.db.session() as session:
        report = service.get_or_raise(session, report_id)
        if not access.may_read(principal, service.facts(report)):
            raise NotFound("report", report_id)  # do not reveal that the report exists
        media_ids = service.media_ids(session, report_id)
        repeat_calls = service.repeat_calls(session, report_id)
    return _read(report, media_ids, principal, repeat_calls)
