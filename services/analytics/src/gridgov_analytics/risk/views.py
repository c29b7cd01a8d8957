"""HTTP routes of the risk map (thin: parse, authorise, call a handler, shape a cacheable answer).

Who: command_centre, admin (``CITY_WIDE``). Every answer carries an ETag (If-None-Match → 304) and
``Cache-Control: private, max-age=60``; the exports are downloads (GeoJSON, CSV with a BOM so Excel reads Chinese).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from gridgov_analytics.deps import Runtime
from gridgov_analytics.risk import handlers
from gridgov_analytics.risk.schemas import HotspotsRead, RecurrencesRead, SurgesRead
from gridgov_analytics.trends import filters
from gridgov_analytics.trends import handlers as trends
from gridgov_analytics.trends.views import CACHED, Category, Channel, From, To, send
from gridgov_common.deps import CityWide, IfNoneMatch

router = APIRouter(prefix="/v1/risk", tags=["risk"])

Area = Annotated[str | None, Query(max_length=72, pattern=filters.AREA_PATTERN,
                                   description="town:<code> | village:<code> | grid:<code>: which grids or items "
                                               "are listed (hot spots are computed city-wide)")]
Step = Annotated[Literal["week"], Query(description="the time step: 7-day weeks ending on `to`")]
CSV_COLUMNS = ("grid_code", "grid_name", "village_code", "town_code", "class", "count", "z_last", "trend", "trend_p")


def _filters(runtime: Runtime, from_: str | None, to: str | None, area: str | None, category: str | None,
             channel: str | None) -> trends.Filters:
    window = filters.parse_window(from_, to, trends.local_today())
    parsed = (filters.parse_area(area), filters.parse_categories(category), filters.parse_channels(channel))
    with runtime.db.snapshot() as session:  # reads only: no write lock for a check
        return trends.check(session, window, *parsed)


def _hotspots(runtime: Runtime, from_, to, area, category, channel) -> handlers.Hotspots:
    return handlers.hotspots(runtime.db, _filters(runtime, from_, to, area, category, channel))


@router.get("/hotspots", response_model=HotspotsRead, responses=CACHED)
def get_hotspots(runtime: Runtime, _principal: CityWide, from_: From = None, to: To = None, step: Step = "week",
                 area: Area = None, category: Category = None, channel: Channel = None,
                 if_none_match: IfNoneMatch = None) -> Response:
    """Hot and cold spots per grid: emerging hot spot analysis (Esri's method) of the cases registered over the
    7-day weeks ending on `to` (days before the first whole week are left out; at least 4 weeks, else 422 naming
    `from`). Space-time Getis-Ord Gi* (each grid-week with its queen neighbours and itself, in its week and the week
    before), hot and cold grid-weeks kept by Benjamini–Hochberg at a false discovery rate of 5 %, a Mann–Kendall
    trend of each grid's z-scores; classes new, consecutive, intensifying, persistent, diminishing, sporadic,
    oscillating and historical, hot or cold, or no_pattern. Who: command_centre, admin."""
    found = _hotspots(runtime, from_, to, area, category, channel)
    return send(found.read.model_dump_json(by_alias=True).encode(), "application/json", runtime, if_none_match)


@router.get("/hotspots.geojson", responses={**CACHED, 200: {"content": {"application/geo+json": {}}}})
def get_hotspots_geojson(runtime: Runtime, _principal: CityWide, from_: From = None, to: To = None,
                         step: Step = "week", area: Area = None, category: Category = None,
                         channel: Channel = None, if_none_match: IfNoneMatch = None) -> Response:
    """The hot spots as a GeoJSON FeatureCollection: one feature per grid, its boundary as learned from
    grid-registry, the properties of ``/v1/risk/hotspots`` and the grid's name. Who: command_centre, admin."""
    found = _hotspots(runtime, from_, to, area, category, channel)
    features = []
    for item in found.read.grids:
        grid = found.grids[item.grid_code]
        properties = {"grid_name": grid.grid_name, **item.model_dump(by_alias=True)}
        features.append({"type": "Feature", "id": item.grid_code, "properties": properties,
                         "geometry": json.loads(grid.boundary_geojson) if grid.boundary_geojson else None})
    body = {"type": "FeatureCollection", "from": found.read.from_.isoformat(), "to": found.read.to.isoformat(),
            "steps": [s.isoformat() for s in found.read.steps], "alpha": found.read.alpha, "features": features}
    name = f"hotspots-{found.read.from_.isoformat()}-{found.read.to.isoformat()}.geojson"
    return send(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), "application/geo+json",
                 runtime, if_none_match, name)


@router.get("/hotspots.csv", responses={**CACHED, 200: {"content": {"text/csv": {}}}})
def get_hotspots_csv(runtime: Runtime, _principal: CityWide, from_: From = None, to: To = None,
                     step: Step = "week", area: Area = None, category: Category = None, channel: Channel = None,
                     if_none_match: IfNoneMatch = None) -> Response:
    """The hot spots as CSV, one row per grid (UTF-8 with a BOM, so Excel opens the Chinese names).
    Who: command_centre, admin."""
    found = _hotspots(runtime, from_, to, area, category, channel)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in found.read.grids:
        row = {"grid_name": found.grids[item.grid_code].grid_name, **item.model_dump(by_alias=True)}
        writer.writerow([row[c] for c in CSV_COLUMNS])
    name = f"hotspots-{found.read.from_.isoformat()}-{found.read.to.isoformat()}.csv"
    return send(("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", runtime, if_none_match,
                 name)


@router.get("/recurrences", response_model=RecurrencesRead, responses=CACHED)
def get_recurrences(runtime: Runtime, _principal: CityWide, from_: From = None, to: To = None, area: Area = None,
                    category: Category = None, channel: Channel = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    if_none_match: IfNoneMatch = None) -> Response:
    """Recurrences (高发), the 每月一题 candidates: a grid and catalog code with at least 3 cases registered in the
    range, counting those registered after an earlier one had been closed (the problem came back); score = cases +
    returns after closure, best first, each with its newest 20 tickets. Who: command_centre, admin."""
    f = _filters(runtime, from_, to, area, category, channel)
    answer = handlers.recurrence_list(runtime.db, f, limit=limit)
    return send(answer.model_dump_json(by_alias=True).encode(), "application/json", runtime, if_none_match)


@router.get("/surges", response_model=SurgesRead, responses=CACHED)
def get_surges(runtime: Runtime, _principal: CityWide, from_: From = None, to: To = None,
               level: Literal["grid", "village", "town"] = "grid", area: Area = None, category: Category = None,
               channel: Channel = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               if_none_match: IfNoneMatch = None) -> Response:
    """Surges (突增): days in the range when an area's cases of one catalog code stood far above the 28 days
    before (at least 5 cases and z ≥ 3 against the median, spread max(1.4826·MAD, sqrt(median))), strongest first.
    Who: command_centre, admin."""
    f = _filters(runtime, from_, to, area, category, channel)
    answer = handlers.surge_list(runtime.db, f, level=level, limit=limit)
    return send(answer.model_dump_json(by_alias=True).encode(), "application/json", runtime, if_none_match)
