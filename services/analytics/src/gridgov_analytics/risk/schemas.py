"""API shapes of the risk map: emerging hot spots per grid, recurrences (每月一题 candidates), surges."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Trend = Literal["up", "down", "none"]


class HotspotGrid(BaseModel):
    """One grid's emerging hot-spot class over the range."""

    grid_code: str
    village_code: str
    town_code: str
    class_: str = Field(alias="class", description="new_hot, consecutive_hot, intensifying_hot, persistent_hot, "
                                                   "diminishing_hot, sporadic_hot, oscillating_hot, historical_hot, "
                                                   "the same *_cold, or no_pattern")
    count: int = Field(description="cases registered in the grid over the weeks analysed (within the filters)")
    z_last: float = Field(description="space-time Gi* z-score of the final week")
    trend: Trend = Field(description="Mann–Kendall trend of the grid's weekly z-scores, significant at alpha")
    trend_p: float

    model_config = ConfigDict(populate_by_name=True)


class HotspotsRead(BaseModel):
    """Emerging hot spot analysis of the weeks of the range (Esri's classes)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    step: Literal["week"] = "week"
    steps: list[date] = Field(description="the first day of each 7-day week analysed; the weeks end on `to` (or "
                                          "today if earlier) and begin no earlier than the first day with data")
    alpha: float = Field(description="false discovery rate of the hot and cold bins, and the trend's level")
    neighbourhood_steps: int = Field(description="earlier weeks in each bin's space-time neighbourhood")
    summary: dict[str, int] = Field(description="grids per class (classes with none left out)")
    grids: list[HotspotGrid] = Field(description="the grids of the area (all of the city by default), those with "
                                                 "a pattern first")


class RecurrenceItem(BaseModel):
    """A grid and category where cases keep coming back: a 每月一题 candidate."""

    grid_code: str
    village_code: str
    town_code: str
    category_code: str
    count: int
    after_closure: int = Field(description="cases registered after an earlier one here had been closed")
    first_at: datetime
    last_at: datetime
    ticket_ids: list[str] = Field(description="the newest 20 tickets, newest first")
    score: float = Field(description="count + after_closure: a problem that comes back after closure ranks higher")


class RecurrencesRead(BaseModel):
    """Recurrences of the range, best score first."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    min_cases: int
    items: list[RecurrenceItem]


class SurgeItem(BaseModel):
    """A day of an area and category far above its 28-day baseline."""

    level: Literal["grid", "village", "town"]
    code: str
    category_code: str
    day: date
    count: int
    expected: float = Field(description="median of the 28 days before")
    ratio: float = Field(description="count / expected (expected taken as at least 1)")
    z: float = Field(description="(count − expected) / max(1.4826·MAD, sqrt(expected))")


class SurgesRead(BaseModel):
    """Surges in the range, strongest first."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    level: Literal["grid", "village", "town"]
    baseline_days: int
    items: list[SurgeItem]
