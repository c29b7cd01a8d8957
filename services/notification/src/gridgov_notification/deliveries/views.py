"""HTTP routes of deliveries (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from gridgov_common.auth import Principal, require
from gridgov_notification.deliveries import handlers
from gridgov_notification.deliveries.schemas import LIMIT_DEFAULT, LIMIT_MAX, DeliveryPage, DeliveryRead

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])

Operator = Annotated[Principal, Depends(require("command_centre", "admin"))]


@router.get("", response_model=DeliveryPage)
def get_deliveries(
    request: Request, _principal: Operator,
    status: Annotated[str | None, Query(pattern="^(pending|sent|failed|dead)$")] = None,
    channel: Annotated[str | None, Query(pattern="^[a-z_]{1,20}$")] = None,
    event_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> DeliveryPage:
    """Deliveries with their status, attempts and last error, newest first. Who: command_centre, admin."""
    page = handlers.list_deliveries(request.app.state.runtime.db, status=status, channel=channel,
                                    event_id=event_id, limit=limit, offset=offset)
    return DeliveryPage(items=[DeliveryRead.model_validate(d, from_attributes=True) for d in page.items],
                        total=page.total, limit=limit, offset=offset)
