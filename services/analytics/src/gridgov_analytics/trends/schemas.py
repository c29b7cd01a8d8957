"""API shapes of the trends: counts over time, the indicators over time, totals per area for the drill-down."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class Series(BaseModel):
    """One line of a chart: its key (a measure, a channel or a category class) and a value per bucket."""

    key: str
    values: list[int]


class CountsRead(BaseModel):
    """Counts per bucket (day or week starting Monday) of the asked measures, channels or category classes."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    bucket: str
    group_by: str
    buckets: list[date]
    series: list[Series]


class IndicatorsRead(BaseModel):
    """The indicators per bucket: counts, and rates (null when their denominator is zero)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    bucket: str
    buckets: list[date]
    registered: list[int]
    closed: list[int]
    on_time_rate: list[float | None] = Field(description="(closed − closed_late) / closed")
    return_rate: list[float | None] = Field(description="returned (退单) / registered")
    rework_rate: list[float | None] = Field(description="reworked (返工) / closed")
    satisfaction_rate: list[float | None] = Field(description="(rated − dissatisfied) / rated")


class AreaItem(BaseModel):
    """One area's totals over the range."""

    code: str
    registered: int
    closed: int
    closed_late: int
    returned: int
    reworked: int
    dissatisfied: int


class AreasRead(BaseModel):
    """Totals per area of a level under a parent, most registered first."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    level: str
    parent: str | None
    items: list[AreaItem]
