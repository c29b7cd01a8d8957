"""The device fix that travels with on-site evidence: the phone's own position when a photo was taken.

Its own module, so that both the report payloads (``ReportReceived.device_fix``, a grid worker's 自行处置) and the
media payloads (``events.media``, which re-exports it) can use it without importing each other.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gridgov_common.schemas import Latitude, Longitude, Number

ACCURACY_MAX_M = 100_000.0  # a fix claiming worse than 100 km is not a fix


class DeviceFix(BaseModel):
    """The phone's own position when evidence was taken: WGS84, its accuracy radius, its time, a mock flag."""

    model_config = ConfigDict(extra="forbid")

    lat: Latitude
    lon: Longitude
    accuracy_m: Number = Field(gt=0, le=ACCURACY_MAX_M, description="the fix's accuracy radius in metres")
    fixed_at: AwareDatetime = Field(description="when the phone took the fix")
    mocked: bool | None = Field(default=None, description="the platform says the fix is mocked; null: unknown")
