"""HTTP route of the repeat-caller offer (重复来电): the caller's open cases alike to what they say now."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends

from gridgov_common.auth import CITY_WIDE, Principal
from gridgov_common.deps import require
from gridgov_event_intake.assist.repeat_schemas import RepeatItem, RepeatPage, RepeatQuery
from gridgov_event_intake.deps import Runtime
from gridgov_event_intake.reports import handlers

router = APIRouter(prefix="/v1/assist", tags=["assist"])

# The 12345 desk: the command centre (and admins).
Desk = Annotated[Principal, Depends(require(*CITY_WIDE))]


@router.post("/repeats", response_model=RepeatPage)
def post_repeats(body: RepeatQuery, runtime: Runtime, _principal: Desk) -> RepeatPage:
    """The caller's open hotline and citizen reports of the last ``repeat_window_days`` whose text is alike to
    ``text`` (Jaccard similarity at least ``repeat_min_similarity``), most alike first: offer to record the call
    on one of them (``repeat_of`` on POST /v1/reports/hotline) instead of opening a new case. Nothing is stored.
    Who: command_centre, admin."""
    settings = runtime.settings
    with runtime.db.session() as session:
        found = handlers.find_repeats(session, body.caller_phone, body.text,
                                      timedelta(days=settings.repeat_window_days), settings.repeat_min_similarity)
    return RepeatPage(items=[RepeatItem(report_id=c.report.id, description=c.report.description,
                                        category_code=c.report.category_code, submitted_at=c.report.submitted_at,
                                        status=c.report.status, similarity=c.similarity) for c in found])
