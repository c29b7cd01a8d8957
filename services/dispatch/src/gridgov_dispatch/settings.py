"""dispatch settings (env prefix ``GRIDGOV_DISPATCH_``)."""

from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings
from gridgov_dispatch.worktime.working_calendar import parse_working_hours


class DispatchSettings(ServiceSettings):
    """Settings of dispatch; defaults are the embedded stack on port 8003."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_DISPATCH_", extra="ignore")

    service_name: str = "dispatch"
    port: int = 8003
    # 并案: a report of the same category within this distance (metres) and window (minutes) of an open ticket
    # is attached to it. 0 metres turns merging off (the default, so one report stays one ticket unless a city
    # configures it: GRIDGOV_DISPATCH_MERGE_DISTANCE_M=50).
    merge_distance_m: float = 0.0
    merge_window_minutes: int = 120
    # SLA working calendar: the working periods of a working day (工作时) and the local time zone they are in.
    working_hours: str = "08:30-12:00,14:00-17:30"
    timezone: str = "Asia/Shanghai"
    sla_warning_share: float = Field(default=0.8, gt=0, lt=1)  # yellow warning (预警) at this share of time used
    # How often the SLA watcher looks for warnings and escalations due (0 turns it off, e.g. in tests that
    # drive the scan themselves).
    sla_scan_seconds: float = Field(default=5.0, ge=0)
    # 回访: a rating reopens a closed case as rework (返工) when the problem is not solved or satisfaction is at or
    # below this (1–5; 0 reopens on "not solved" only).
    reopen_satisfaction_max: int = Field(default=2, ge=0, le=5)
    # Geofenced verification (地理围栏核验, issue #14; verification/geofence.py, measured by bench/geofence.py).
    # A fix outside the grid by at most the tolerance (widened to its accuracy times the factor when larger) is
    # a boundary case: accepted, flagged for the command centre; farther out it is refused.
    geofence_boundary_tolerance_m: float = Field(default=30.0, ge=0)
    geofence_accuracy_widens_boundary: float = Field(default=1.0, ge=0, le=3)
    geofence_accuracy_max_m: float = Field(default=75.0, gt=0)  # a less accurate fix is refused
    geofence_fix_max_age_s: float = Field(default=600.0, gt=0)  # an older fix is refused
    geofence_fix_future_skew_s: float = Field(default=60.0, ge=0)  # a fix this far in the future is refused
    geofence_exif_distance_max_m: float = Field(default=50.0, gt=0)  # a photo's EXIF GPS farther is flagged
    geofence_photo_time_max_s: float = Field(default=1800.0, gt=0)  # a photo's EXIF time this far off is flagged
    geofence_phash_distance_max: int = Field(default=8, ge=0, le=32)  # Hamming bits: at or below, the same photo
    geofence_reuse_days: int = Field(default=30, ge=0)  # the grid's cases this recent are searched for reuse
    # A photo uploaded a moment before the verification may not be learned yet (media.stored trails the upload):
    # wait this long for it, then judge it unknown (never inside).
    geofence_media_wait_s: float = Field(default=3.0, ge=0, le=30)

    @field_validator("working_hours")
    @classmethod
    def _valid_working_hours(cls, value: str) -> str:
        parse_working_hours(value)  # its ValueError names the offending part
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)  # fail at startup, not at the first deadline
        except (ValueError, KeyError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value
