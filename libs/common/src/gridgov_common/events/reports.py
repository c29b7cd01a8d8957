"""Payloads on the report topics (``gridgov.reports.received``, ``gridgov.reports.located``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

REPORT_RECEIVED = "report.received"
REPORT_LOCATED = "report.located"

Channel = Literal["patrol", "hotline", "citizen", "open311"]
LocationStatus = Literal["located", "town_only", "unlocated"]


class ReportReceived(BaseModel):
    """A report accepted by intake from any channel, normalised (coordinates in WGS84)."""

    report_id: str
    channel: Channel
    category_code: str
    description: str
    lon: float | None
    lat: float | None
    source_crs: str = "wgs84"
    reporter_id: str
    reporter_role: str
    submitted_at: datetime
    # Additive (issue #5): the channel's extra facts. No phone numbers or names travel on the bus.
    handled_on_spot: bool = False  # 自行处置: the grid worker fixed it; dispatch sends it straight to verification
    handled_note: str | None = None  # what was done on the spot
    media_ids: list[str] = []
    address: str | None = None
    urgency: str | None = None  # hotline: normal | urgent
    feedback_tier: str | None = None  # hotline enterprise requests: immediate | 2d | 5d


class Location(BaseModel):
    """Where a point fell in the grid hierarchy (市 → 镇街 → 村/社区 → 网格)."""

    status: LocationStatus
    grid_code: str | None = None
    grid_name: str | None = None
    village_code: str | None = None
    village_name: str | None = None
    town_code: str | None = None
    town_name: str | None = None
    grid_set_version: str | None = None
    # Additive (issue #6): the department responsibility areas containing the point, for routing rules;
    # None where they were not looked up (batch lookups answer grids only).
    department_areas: list[str] | None = None


class ReportLocated(BaseModel):
    """A received report with its location; unlocated reports are published too, never dropped."""

    report: ReportReceived
    location: Location
