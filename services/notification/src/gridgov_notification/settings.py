"""notification settings (env prefix ``GRIDGOV_NOTIFICATION_``)."""

from __future__ import annotations

import os
from datetime import time
from urllib.parse import urlsplit

from pydantic import Field, field_validator
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

    # Follow-ups (回访): a closed ticket's reporters may answer for this many days. Their link is absolute, to the
    # console's follow-up page under the public base URL (the address citizens reach the console at, e.g.
    # https://gridgov.example.gov.cn); the default is the embedded stack's console on loopback.
    followup_expiry_days: int = Field(default=7, ge=1, le=365)
    public_base_url: str = Field(
        default_factory=lambda: f"http://127.0.0.1:{os.environ.get('GRIDGOV_CONSOLE_PORT') or 8000}",
        max_length=200, description="the console's public address; follow-up links are made under it")

    # Phone confirmation (手机验证码) for the citizen's login: a code lives phone_code_ttl_s and takes
    # phone_code_max_attempts wrong tries; one code per phone per phone_code_resend_s, phone_code_phone_limit per
    # phone and phone_code_client_limit per client in phone_code_window_s, phone_code_global_per_minute in all.
    phone_code_ttl_s: int = Field(default=300, ge=30, le=3600)
    phone_code_max_attempts: int = Field(default=3, ge=1, le=10)
    phone_code_resend_s: int = Field(default=60, ge=0, le=3600)
    phone_code_phone_limit: int = Field(default=5, ge=1, le=100)
    phone_code_client_limit: int = Field(default=10, ge=1, le=1000)
    phone_code_window_s: int = Field(default=3600, ge=60, le=86400)
    phone_code_global_per_minute: int = Field(default=120, ge=1, le=100_000)

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

    @field_validator("public_base_url")
    @classmethod
    def _absolute_base(cls, url: str) -> str:
        """Refuse at start a base the follow-up links could not be opened from: it must be an absolute http(s) URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("public_base_url must be an absolute http(s) URL such as https://gridgov.example.gov.cn")
        return url.rstrip("/")
