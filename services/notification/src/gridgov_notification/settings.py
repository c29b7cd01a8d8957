"""notification settings (env prefix ``GRIDGOV_NOTIFICATION_``)."""

from pydantic_settings import SettingsConfigDict

from gridgov_common.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    """Settings of notification; defaults are the embedded stack on port 8004."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_NOTIFICATION_", extra="ignore")

    service_name: str = "notification"
    port: int = 8004
