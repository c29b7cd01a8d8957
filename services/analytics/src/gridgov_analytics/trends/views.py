"""HTTP routes of the trends (thin: parse, authorise, call a handler, shape a cacheable answer).

Who: command_centre, admin (``CITY_WIDE``). Every answer carries an ETag (If-None-Match → 304) and
``Cache-Control: private, max-age=60``.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from gridgov_analytics.deps import Runtime
from gridgov_analytics.settings import AnalyticsSettings
from gridgov_analytics.trends import filters, handlers
from gridgov_analytics.trends.schemas import AreasRead, CountsRead, IndicatorsRead
from gridgov_common.deps import CityWide, IfNoneMatch, not_modified

router = APIRouter(prefix="/v1/trends", tags=["trends"])

CACHED = {304: {"description": "Not modified: the If-None-Match ETag still matches."}}

From = Annotated[str | None, Query(alias="from", max_length=10, pattern=filters.DATE_PATTERN,
                                   description="first local day (China time), YYYY-MM-DD; default: 89 days before "
                                               "`to`")]
To = Annotated[str | None, Query(max_length=10, pattern=filters.DATE_PATTERN,
                                 description="last local day, included; default today; at most 400 days after "
                                             "`from`")]
Area = Annotated[str | None, Query(max_length=72, pattern=filters.AREA_PATTERN,
                                   description="town:<code> | village:<code> | grid:<code>")]
Category = Annotated[str | None, Query(max_length=850, pattern=filters.CODE_LIST_PATTERN,
                                       description="catalog codes or code prefixes (a class and all under it), "
                                                   "comma-separated")]
Channel = Annotated[str | None, Query(max_length=200, pattern=filters.WORD_LIST_PATTERN,
                                      description="patrol | hotline | citizen | open311 | video_ai | iot, "
                                                  "comma-separated")]
Measure = Annotated[str | None, Query(max_length=400, pattern=filters.WORD_LIST_PATTERN,
                                      description="comma-separated: " + ", ".join(filters.MEASURES))]


def send(body: bytes, media_type: str, runtime: Runtime, if_none_match: str | None,
         filename: str | None = None) -> Response:
    """An answer with its ETag and Cache-Control (a download when ``filename`` is given), or a 304 when the
    client's copy still matches; the trends and the risk map answer through it."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    settings = runtime.settings
    max_age = settings.cache_max_age_s if isinstance(settings, AnalyticsSettings) else 60
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={max_age}", "Vary": "Authorization"}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return not_modified(if_none_match, etag, headers) or Response(body, media_type=media_type, headers=headers)


def cached(model: BaseModel, runtime: Runtime, if_none_match: str | None) -> Response:
    """The JSON answer of a model through :func:`send`."""
    return send(model.model_dump_json(by_alias=True).encode(), "application/json", runtime, if_none_match)


def _filters(runtime: Runtime, session, from_: str | None, to: str | None, area: str | None,
             category: str | None, channel: str | None) -> handlers.Filters:
    window = filters.parse_window(from_, to, handlers.local_today())
    return handlers.check(session, window, filters.parse_area(area), filters.parse_categories(category),
                          filters.parse_channels(channel))


@router.get("/counts", response_model=CountsRead, responses=CACHED)
def get_counts(runtime: Runtime, _principal: CityWide, from_: From = None, to: To = None,
               bucket: Literal["day", "week"] = "day", area: Area = None, category: Category = None,
               channel: Channel = None, measure: Measure = None,
               group_by: Literal["measure", "channel", "category_class"] = "measure",
               if_none_match: IfNoneMatch = None) -> Response:
    """Counts per day or week (weeks start on Monday) in the range, for the city or one area, of the asked
    measures (one series each), or of one measure per channel or per category class (大类). Tickets count on the
    local day of the event (China time), on the grid, village and town they were recorded in.
    Who: command_centre, admin."""
    measures = filters.parse_measures(measure)
    with runtime.db.long_read() as session:  # reads only, for up to a second: off the shared connection
        f = _filters(runtime, session, from_, to, area, category, channel)
        answer = handlers.trend_counts(session, f, bucket=bucket, measures=measures, group_by=group_by)
    return cached(answer, runtime, if_none_match)


@router.get("/indicators", response_model=IndicatorsRead, responses=CACHED)
def get_indicators(runtime: Runtime, _principal: CityWide, from_: From = None, to: To = None,
                   bucket: Literal["day", "week"] = "week", area: Area = None, category: Category = None,
                   channel: Channel = None, if_none_match: IfNoneMatch = None) -> Response:
    """The indicators per week (or day): registered, closed, on-time rate ((closed − closed late) / closed),
    return rate (退单 / registered), rework rate (返工 / closed), satisfaction rate ((rated − dissatisfied) / rated);
    a rate is null where its denominator is zero. Who: command_centre, admin."""
    with runtime.db.long_read() as session:
        f = _filters(runtime, session, from_, to, area, category, channel)
        answer = handlers.indicators(session, f, bucket=bucket)
    return cached(answer, runtime, if_none_match)


@router.get("/areas", response_model=AreasRead, responses=CACHED)
def get_areas(runtime: Runtime, _principal: CityWide, from_: From = None, to: To = None,
              level: Literal["town", "village", "grid"] = "town",
              parent: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9A-Za-z_.-]{1,64}$",
                                                  description="a town code (villages, grids) or a village "
                                                              "code (grids)")] = None,
              category: Category = None, channel: Channel = None, if_none_match: IfNoneMatch = None) -> Response:
    """Totals per area of a level over the range, for the drill-down town → village → grid: registered, closed,
    closed late, returned, reworked, dissatisfied; every area in effect is listed (zeros too), most registered
    first. Who: command_centre, admin."""
    with runtime.db.long_read() as session:
        f = _filters(runtime, session, from_, to, None, category, channel)
        answer = handlers.areas(session, f, level=level, parent=parent)
    return cached(answer, runtime, if_none_match)
