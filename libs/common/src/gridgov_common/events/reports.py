"""Payloads on the report topics (``gridgov.reports.received``, ``gridgov.reports.located``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from gridgov_common.events.fix import DeviceFix
from gridgov_common.schemas import Latitude, Longitude, SafeText

REPORT_RECEIVED = "report.received"
REPORT_LOCATED = "report.located"

Channel = Literal["patrol", "hotline", "citizen", "open311", "video_ai", "iot"]
# Issue #16: reports a machine raised (a camera's AI algorithm, an IoT sensor) through sensing, with reporter_role
# ``device`` (or ``grid_worker`` when a worker confirmed a verify-first alarm). Nobody is asked to rate them (回访).
SENSING_CHANNELS: frozenset[str] = frozenset({"video_ai", "iot"})
DEVICE_ROLE = "device"  # the reporter_role of a report a device raised itself

# The limits intake enforces over HTTP, enforced again by every consumer: a message published by anything else
# (a bug, a replay tool, a compromised producer) that intake would have refused is dead-lettered, never handled.
ID_MAX = 100  # report, ticket and media ids (UUIDs are 36)
SUBJECT_MAX = 256  # a token's subject (a city provider's may be long)
CODE_MAX = 64  # category, grid, village, town, department codes; roles; enum-like words
NAME_MAX = 200  # grid, village, town names
TEXT_MAX = 2000  # description, notes: intake's DESCRIPTION_MAX
ADDRESS_MAX = 500
LIST_MAX = 100  # media ids of one report, department areas of one point

Id = Annotated[SafeText, Field(max_length=ID_MAX)]
Subject = Annotated[SafeText, Field(max_length=SUBJECT_MAX)]
Code = Annotated[SafeText, Field(max_length=CODE_MAX)]
Name = Annotated[SafeText, Field(max_length=NAME_MAX)]
Text = Annotated[SafeText, Field(max_length=TEXT_MAX)]
# village_only (issue #17): placed from an address naming a village or community (村/社区), no grid.
LocationStatus = Literal["located", "village_only", "town_only", "unlocated"]


class ReportReceived(BaseModel):
    """A report accepted by intake from any channel, normalised (coordinates in WGS84)."""

    report_id: Id
    channel: Channel
    category_code: Code
    description: Text
    lon: Longitude | None
    lat: Latitude | None
    source_crs: Code = "wgs84"
    reporter_id: Subject
    reporter_role: Code
    submitted_at: datetime
    # Additive (issue #5): the channel's extra facts. No phone numbers or names travel on the bus.
    handled_on_spot: bool = False  # 自行处置: the grid worker fixed it; dispatch sends it straight to verification
    handled_note: Text | None = None  # what was done on the spot
    media_ids: list[Id] = Field(default=[], max_length=LIST_MAX)
    address: Annotated[SafeText, Field(max_length=ADDRESS_MAX)] | None = None
    urgency: Code | None = None  # hotline: normal | urgent
    feedback_tier: Code | None = None  # hotline enterprise requests: immediate | 2d | 5d
    # Additive (issue #14): a grid worker's own position when filing (patrol), above all for 自行处置: dispatch
    # judges the fix photo's geofence from it. None when the app sent none.
    device_fix: DeviceFix | None = None


class PlaceMatch(BaseModel):
    """How a report without coordinates was placed from its address (issue #17): the text that matched, the
    finest level it named (grid, village, town, road, landmark) and the gazetteer's confidence (0..1)."""

    matched_text: Annotated[SafeText, Field(max_length=ADDRESS_MAX)]
    level: Code
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)


class Location(BaseModel):
    """Where a point fell in the grid hierarchy (市 → 镇街 → 村/社区 → 网格)."""

    status: LocationStatus
    grid_code: Code | None = None
    grid_name: Name | None = None
    village_code: Code | None = None
    village_name: Name | None = None
    town_code: Code | None = None
    town_name: Name | None = None
    grid_set_version: Code | None = None
    # Additive (issue #6): the department responsibility areas containing the point, for routing rules;
    # None where they were not looked up (batch lookups answer grids only).
    department_areas: list[Name] | None = Field(default=None, max_length=LIST_MAX)
    # Additive (issue #17): set when the place came from the report's address (no coordinates), else None.
    place_match: PlaceMatch | None = None


class ReportLocated(BaseModel):
    """A received report with its location; unlocated reports are published too, never dropped."""

    report: ReportReceived
    location: Location
