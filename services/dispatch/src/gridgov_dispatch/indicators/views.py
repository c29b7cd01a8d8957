"""HTTP routes of the indicators (thin: authorise, parse the period, query, compute, shape)."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from gridgov_common.deps import CityWide
from gridgov_dispatch.deps import Runtime
from gridgov_dispatch.indicators import formulas, service
from gridgov_dispatch.indicators.schemas import IndicatorGroup, IndicatorReport, IndicatorsRead

router = APIRouter(prefix="/v1/indicators", tags=["indicators"])

_DOC = ("The comprehensive evaluation (综合评价) of a period per department or town, and for the city. "
        "Who: command_centre, admin.\n\n" + (formulas.__doc__ or ""))


@router.get("", response_model=IndicatorReport, description=_DOC)
def get_indicators(runtime: Runtime, _principal: CityWide,
                   period: Annotated[str, Query(max_length=40, description="2026-11 | 2026-W47 | 2026-11-25 | "
                                                                            "2026-11-01..2026-11-15 (China time)")],
                   group_by: Literal["department", "town"] = "department") -> IndicatorReport:
    """The comprehensive evaluation (综合评价) of a period per department or town, and for the city.
    Who: command_centre, admin."""
    parsed = formulas.parse_period(period)
    now = datetime.now(UTC)
    with runtime.db.long_read() as session:  # one committed state; seconds, on a connection of its own
        groups, city = service.evaluate_period(session, parsed, now, group_by)
    return IndicatorReport(
        period=parsed.label, start=parsed.start, end=parsed.end, group_by=group_by, generated_at=now,
        groups=[IndicatorGroup(group=k, **IndicatorsRead.of(v).model_dump()) for k, v in groups.items()],
        city=IndicatorsRead.of(city),
    )
