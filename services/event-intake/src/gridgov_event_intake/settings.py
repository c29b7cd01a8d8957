"""event-intake settings (env prefix ``GRIDGOV_INTAKE_``)."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Settings of event-intake; defaults are the embedded stack on port 8001."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_INTAKE_", extra="ignore")

    service_name: str = "event-intake"
    port: int = 8001
    # Media uploads (photos): bigger bodies get 413.
    media_max_bytes: int = 10 * 1024 * 1024
    # An S3-compatible bucket for media (production); unset: local files under the data directory.
    media_s3_bucket: str | None = None
    media_s3_prefix: str = "event-intake"
    media_s3_endpoint_url: str | None = None  # e.g. a MinIO URL; credentials come from the usual AWS_* variables
    media_s3_region: str | None = None
    # Citizen photo reports (随手拍): at most this many per device and per phone in the window.
    citizen_limit: int = 5
    citizen_window_seconds: int = 600
    # Reward points credited for each accepted citizen report.
    citizen_reward_points: int = 10

    def media_root(self) -> Path:
        """Where local media files live: ``<data dir>/media/event-intake``."""
        return (self.common.data_dir / "media" / self.service_name).resolve()
