"""HTTP routes of deliveries (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Query

from gridgov_common.deps import CityWide, Runtime
from gridgov_notification.deliveries import handlers
from gridgov_notification.deliveries.schemas import LIMIT_DEFAULT, LIMIT_MAX, DeliveryPage, DeliveryRead

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])


@router.get("", response_model=DeliveryPage)
def get_deliveries(
    runtime: Runtime, _principal: CityWide,
    status: Annotated[str | None, Query(pattern="^(pending|sent|failed|dead)$")] = None,
    channel: Annotated[str | None, Query(pattern="^[a-z_]{1,20}$")] = None,
    event_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> DeliveryPage:
    """Deliveries with their status, attempts and last error, newest first. Who: command_centre, admin."""
    page = handlers.list_deliveries(runtime.db, status=status, channel=channel,
                                    event_id=event_id, limit=limit, offset=offset)
    return DeliveryPage(items=[DeliveryRead.model_validate(d, from_attributes=True) for d in page.items],
                        total=page.total, limit=limit, offset=offset)
