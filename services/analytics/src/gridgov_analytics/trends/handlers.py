"""Use cases of the trends: check the filters against what the read model knows, query the cube, shape."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from gridgov_analytics.cube import service as cube
from gridgov_analytics.cube.projection import CHINA
from gridgov_analytics.grids import service as grids
from gridgov_analytics.trends import filters
from gridgov_analytics.trends.filters import Window, refused
from gridgov_analytics.trends.schemas import AreaItem, AreasRead, CountsRead, IndicatorsRead, Series

AREA_MEASURES = ("registered", "closed", "closed_late", "returned", "reworked", "dissatisfied")
INDICATOR_MEASURES = ("registered", "closed", "closed_late", "returned", "reworked", "rated", "dissatisfied")


def local_today() -> date:
    """Today in China."""
    return datetime.now(CHINA).date()


@dataclass(frozen=True)
class Filters:
    """The checked filters of a query."""

    window: Window
    area: tuple[str, str] | None
    categories: list[str]
    channels: list[str]


def check(session: Session, window: Window, area: tuple[str, str] | None, categories: Sequence[str],
          channels: Sequence[str]) -> Filters:
    """Refuse an area no grid or count has (404 naming ``area``), a category no catalog code or count has (422)."""
    if area is not None and not (grids.knows_area(session, *area) or cube.knows_area(session, *area)):
        raise filters.unknown_area(f"{area[0]}:{area[1]}")
    for prefix in categories:
        if not (filters.seed_knows(prefix) or cube.knows_category(session, prefix)):
            raise refused("category", f"unknown catalog code {prefix}", f"事项目录中没有代码 {prefix}")
    return Filters(window, area, list(categories), list(channels))


def _series(rows: list[cube.CountRow], starts: list[date], key_of) -> dict[str, list[int]]:
    index = {d: i for i, d in enumerate(starts)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(starts))
    for row in rows:
        series[key_of(row)][index[row.day]] += row.n
    return series


def trend_counts(session: Session, f: Filters, *, bucket: str, measures: list[str], group_by: str) -> CountsRead:
    """Counts per bucket, one series per measure (or per channel, or per category class, of one measure)."""
    if group_by != "measure" and len(measures) != 1:
        raise refused("measure", f"name one measure when grouping by {group_by}",
                      f"按 {group_by} 分组时只能指定一个指标")
    by = {"measure": (), "channel": ("channel",), "category_class": ("category_code",)}[group_by]
    rows = cube.counts(session, start=f.window.start, end=f.window.end, bucket=bucket, level="city", area=f.area,
                       categories=f.categories, channels=f.channels, measures=measures, by=by)
    starts = filters.buckets(f.window, bucket)
    if group_by == "measure":
        found = _series(rows, starts, lambda r: r.measure)
        keys = measures
    elif group_by == "channel":
        found = _series(rows, starts, lambda r: r.channel or "")
        keys = sorted(set(f.channels or filters.CHANNELS) | set(found))
    else:
        found = _series(rows, starts, lambda r: filters.category_class(r.category_code or ""))
        keys = sorted(found)
    return CountsRead(from_=f.window.start, to=f.window.end, bucket=bucket, group_by=group_by, buckets=starts,
                      series=[Series(key=k, values=found.get(k, [0] * len(starts))) for k in keys])


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def indicators(session: Session, f: Filters, *, bucket: str) -> IndicatorsRead:
    """The indicators per bucket (rates null where their denominator is zero)."""
    rows = cube.counts(session, start=f.window.start, end=f.window.end, bucket=bucket, level="city", area=f.area,
                       categories=f.categories, channels=f.channels, measures=INDICATOR_MEASURES)
    starts = filters.buckets(f.window, bucket)
    found = _series(rows, starts, lambda r: r.measure)
    m = {name: found.get(name, [0] * len(starts)) for name in INDICATOR_MEASURES}
    n = range(len(starts))
    return IndicatorsRead(
        from_=f.window.start, to=f.window.end, bucket=bucket, buckets=starts, registered=m["registered"],
        closed=m["closed"],
        on_time_rate=[_rate(m["closed"][i] - m["closed_late"][i], m["closed"][i]) for i in n],
        return_rate=[_rate(m["returned"][i], m["registered"][i]) for i in n],
        rework_rate=[_rate(m["reworked"][i], m["closed"][i]) for i in n],
        satisfaction_rate=[_rate(m["rated"][i] - m["dissatisfied"][i], m["rated"][i]) for i in n])


def areas(session: Session, f: Filters, *, level: str, parent: str | None) -> AreasRead:
    """Totals per area of ``level`` under ``parent`` (every area in effect, with zeros), most registered first."""
    if parent and not any(grids.knows_area(session, lv, parent) or cube.knows_area(session, lv, parent)
                          for lv in ("town", "village")):
        raise refused("parent", f"no town or village has code {parent}", f"没有代码为 {parent} 的镇街或村社区")
    totals = cube.area_totals(session, start=f.window.start, end=f.window.end, level=level, parent=parent,
                              categories=f.categories, channels=f.channels, measures=AREA_MEASURES)
    codes = set(totals) | set(grids.areas_under(session, level, parent))
    codes.discard("")  # tickets not located to this level are counted at the city, not as an area
    items = [AreaItem(code=code, **{m: totals.get(code, {}).get(m, 0) for m in AREA_MEASURES}) for code in codes]
    items.sort(key=lambda item: (-item.registered, item.code))
    return AreasRead(from_=f.window.start, to=f.window.end, level=level, parent=parent, items=items)
