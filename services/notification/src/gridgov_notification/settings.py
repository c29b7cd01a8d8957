"""notification settings (env prefix ``GRIDGOV_NOTIFICATION_``)."""

from __future__ import annotations

from datetime import time

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    """Settings of notification; defaults are the embedded stack on port 8004."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_NOTIFICATION_", extra="ignore")

    service_name: str = "notification"
    port: int = 8004

    # The delivery worker: retries with exponential backoff (base × 2^(attempt-1), capped), then dead-letters.
    run_delivery_worker: bool = True
    delivery_max_attempts: int = Field(default=6, ge=1, le=50)
    delivery_backoff_base_s: float = Field(default=10.0, ge=0)
    delivery_backoff_cap_s: float = Field(default=3600.0, ge=0)
    delivery_timeout_s: float = Field(default=10.0, gt=0, description="per-delivery send timeout")
    delivery_concurrency: int = Field(default=8, ge=1, le=256, description="sends in flight per process")
    delivery_per_target_concurrency: int = Field(default=2, ge=1, le=256,
                                                 description="sends in flight to one endpoint")
    delivery_lease_s: float = Field(default=120.0, gt=0, description="how long a claimed delivery stays claimed")
    delivery_poll_interval_s: float = Field(default=1.0, gt=0)
    delivery_batch: int = Field(default=100, ge=1, le=10_000)

    # Quiet hours (免打扰): non-urgent SMS and e-mail wait for their end; the inbox never waits.
    quiet_hours_enabled: bool = True
    quiet_hours_start: time = time(22, 0)
    quiet_hours_end: time = time(7, 0)
    quiet_hours_timezone: str = "Asia/Shanghai"

    # Follow-ups (回访): a closed ticket's reporters may answer for this many days; links are made under the
    # public base URL (e.g. https://gridgov.example.gov.cn), relative when it is empty.
    followup_expiry_days: int = Field(default=7, ge=1, le=365)
    followup_link_base: str = Field(default="", max_length=200)

    # E-mail over SMTP.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "gridgov@localhost"

    # SMS: "file" appends JSON lines to <data_dir>/sms.log (embedded stack); "http" posts to a gateway.
    sms_provider: str = Field(default="file", pattern="^(file|http)$")
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
