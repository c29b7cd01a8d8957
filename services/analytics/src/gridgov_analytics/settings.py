"""analytics settings (env prefix ``GRIDGOV_ANALYTICS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    """Settings of analytics; defaults are the embedded stack on port 8006 (8005 is kept for sensing)."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_ANALYTICS_", extra="ignore")

    service_name: str = "analytics"
    port: int = 8006

    # How often a consumer process looks for a new cube generation (a rebuild asked of another process: the API
    # pod's POST /v1/admin/rebuild or `gridgov analytics rebuild`), then follows it with a new consumer group.
    generation_poll_s: float = Field(default=2.0, gt=0, le=300)
    # How long the trends and risk answers may be cached by the browser (Cache-Control: private, max-age).
    cache_max_age_s: int = Field(default=60, ge=0, le=3600)
